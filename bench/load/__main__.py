"""Load of logged-in officials and the portal: ``python -m bench load``.

Serves the Jiangxi demo as ``make run`` does (gunicorn 2 workers × 4 threads on loopback)
from a SQLite file and from PostgreSQL, and drives it with locust (headless, bounded: each
level runs ``--seconds``) at 10, 50 and 100 clients. The clients are the demo's users
(province admin and reviewer, Nanchang's city, county and housing-department fillers),
each logged in once by the driver, and the anonymous public; each loops over the mix of
pages users wait on at the deadline: the province dashboard, the release page, the place's
data-entry page (its submission), the problem list and the portal — without think time
(saturation) or, with ``--think MIN,MAX``, waiting a think time drawn uniformly in
[MIN, MAX] seconds after each page (the first MAX seconds, while the clients start at
random times, are not counted).

Each level reports req/s, p50/p95/p99 and errors, and the CPU used while it ran, in cores:
the gunicorn workers', locust's own (the load generator shares the 2 cores), PostgreSQL's
(the postmaster's backends — of every database, other users' included) and the whole
machine's busy cores. ``capacity`` is the last level whose p95 is within 50 ms with no
error and the first beyond it (``--clients 10,25,50,100,150 --think 5,15``).

Also measured: the server CPU time per request of each page with one client (the
workers' CPU time over 20 sequential requests, from ``/proc``) and the cached portal
index with 16 keep-alive connections (``bench.http``'s loader).

``--before SRC`` runs the same measures against another checkout's ``src`` (``git
worktree add /tmp/before HEAD~n``) with the same environment and database, one after the
other in the same run, so the comparison is under the same machine load. The demo is
built on first use (about two minutes per database) in ``BENCH_LOAD_DIR`` (default
``/tmp/citycheck-bench-load``) and the PostgreSQL database ``BENCH_LOAD_PG`` (default
``postgres://postgres@127.0.0.1:5432/citycheck_load``), skipped when unreachable.

Targets (issue 17): 100 clients p95 ≤ 50 ms on PostgreSQL, 0 errors; cached portal
≥ 1,000 req/s; logged-in pages ≤ 20 ms server CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

from bench._serving import demo_env, free_port, postgresql_reachable, start_gunicorn, wait_until_up

REPO = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("BENCH_LOAD_DIR", "/tmp/citycheck-bench-load"))
PG_URL = os.environ.get("BENCH_LOAD_PG", "postgres://postgres@127.0.0.1:5432/citycheck_load")
LOGINS = ["province_admin", "province_reviewer", "nanchang_admin", "nanchangxian_admin"]
LOGINS += ["nanchang_housing"]


def database_env(database: str, source: Path | None = None) -> dict:
    url = PG_URL if database == "postgresql" else None
    return demo_env(VAR_DIR, url, source)


def citycheck(env: dict, *arguments: str) -> str:
    command = [sys.executable, "-m", "citycheck", *arguments]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def ensure_demo(database: str) -> None:
    """Migrate, load the demo, assess and publish 2024 unless done (marker file)."""
    marker = VAR_DIR / ("published-release" if database == "sqlite" else "published-release-pg")
    if marker.exists():
        return
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    env = database_env(database)
    citycheck(env, "migrate", "-v0")
    citycheck(env, "demo")
    release = citycheck(env, "assess", "--round", "2024").strip().splitlines()[-1]
    citycheck(env, "release", "publish", release)
    citycheck(env, "collectstatic", "--noinput", "-v0")
    marker.write_text(release)


PLAN_QUERY = """
import json
from citycheck.assessment.models import Release
from citycheck.collection.demo import DEMO_PASSWORD
from citycheck.collection.models import Round
release = Release.objects.filter(status="published").order_by("-round__year", "-pk").first()
round_ = Round.objects.order_by("-year", "-pk").first()
print(json.dumps({"release": release.pk, "round": round_.pk, "password": DEMO_PASSWORD}))
"""


def plan(env: dict, base: str) -> dict:
    """The pages of each client and the session of each demo login."""
    ids = json.loads(citycheck(env, "shell", "-c", PLAN_QUERY).strip().splitlines()[-1])
    release, round_ = ids["release"], ids["round"]
    own_place = {"nanchangxian_admin": "360121"}
    clients = []
    for username in LOGINS:
        session = requests.Session()
        session.get(f"{base}/accounts/login/", timeout=60)
        response = session.post(
            f"{base}/accounts/login/",
            data={
                "username": username,
                "password": ids["password"],
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/accounts/login/"},
            timeout=60,
        )
        if "sessionid" not in session.cookies:
            raise RuntimeError(f"could not log in as {username}: {response.status_code}")
        code = own_place.get(username, "360100")
        clients.append(
            {
                "login": username,
                "session": session.cookies["sessionid"],
                "pages": [
                    ["dashboard", "/reports/dashboard/"],
                    ["release", f"/assessment/releases/{release}/"],
                    ["entry", f"/collection/rounds/{round_}/places/{code}/"],
                    ["problems", "/diagnosis/problems/"],
                ],
            }
        )
    clients.append(
        {
            "login": "",
            "pages": [["portal", "/portal/"], ["portal_place", "/portal/places/360100/"]],
        }
    )
    return {"clients": clients}


def percentiles(times: list[float]) -> dict:
    times = sorted(times)
    if not times:
        return {}

    def at(q):
        return round(times[min(len(times) - 1, int(q * len(times)))], 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def run_locust(
    server, base: str, the_plan: dict, clients: int, seconds: float, think: tuple
) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "samples.json"
        env = {
            **os.environ,
            "BENCH_LOAD_PLAN": json.dumps(the_plan),
            "BENCH_LOAD_OUT": str(out),
            "BENCH_LOAD_THINK": ",".join(str(t) for t in think),
        }
        locust = Path(sys.executable).with_name("locust")
        command = [
            str(locust),
            "-f",
            str(Path(__file__).with_name("locustfile.py")),
            "--headless",
            "--users",
            str(clients),
            "--spawn-rate",
            str(clients),
            "--run-time",
            f"{round(seconds)}s",  # locust takes whole seconds only
            "--stop-timeout",
            "35",
            "--host",
            base,
            "--only-summary",
            "--loglevel",
            "ERROR",
            "--skip-log-setup",
        ]
        usage = CpuUsage(server)
        done = subprocess.run(command, env=env, check=False, capture_output=True, cwd=folder)
        cpu = usage.cores()
        if not out.exists():
            raise RuntimeError(f"locust wrote no samples: {done.stderr.decode()[-3000:]}")
        samples = json.loads(out.read_text())
    # Counted: from the end of the warm-up (the clients' random start within the longest
    # think time) to the last response.
    first, last = min(t for *_, t in samples), max(t for *_, t in samples)
    counted = [sample for sample in samples if sample[3] >= first + think[1]]
    pages: dict[str, list[float]] = {}
    for name, ms, _ok, _t in counted:
        pages.setdefault(name, []).append(ms)
    return {
        "clients": clients,
        "think_s": list(think),
        "requests": len(counted),
        "errors": sum(1 for _n, _ms, ok, _t in counted if not ok),
        "requests_per_s": round(len(counted) / max(last - first - think[1], 1e-9), 1),
        **percentiles([ms for _n, ms, _ok, _t in counted]),
        "cpu_cores": cpu,
        "pages": {name: {"n": len(t), **percentiles(t)} for name, t in sorted(pages.items())},
    }


class CpuUsage:
    """CPU time used from now until :meth:`cores`, per wall second (cores busy)."""

    def __init__(self, server: subprocess.Popen):
        self.server = server
        self.start = (time.perf_counter(), self._times())

    def _times(self) -> dict:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # (locust, once waited for)
        machine = psutil.cpu_times()
        return {
            "gunicorn_workers": worker_cpu(self.server),
            "locust": children.ru_utime + children.ru_stime,
            "postgresql": postgresql_cpu(),
            "machine_busy": sum(machine) - machine.idle - getattr(machine, "iowait", 0.0),
        }

    def cores(self) -> dict:
        wall, started = time.perf_counter() - self.start[0], self.start[1]
        ended = self._times()
        return {name: round((ended[name] - started[name]) / wall, 2) for name in ended}


def postgresql_cpu() -> float:
    """CPU seconds of the local PostgreSQL: the postmaster, its ended backends and the
    live ones (every database's: the figure includes other users of the server)."""
    total = 0.0
    for process in psutil.process_iter(["name", "ppid"]):
        if process.info["name"] != "postgres" or process.info["ppid"] != 1:
            continue
        try:
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
            for child in process.children():
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def capacity(levels: list[dict], p95_ms: float = 50) -> dict:
    """The highest level (by clients) within ``p95_ms`` with no error, and the first level
    above it beyond (None: not crossed at the levels run)."""
    levels = sorted(levels, key=lambda level: level["clients"])
    within = [level for level in levels if level["p95_ms"] <= p95_ms and not level["errors"]]
    highest = within[-1] if within else None
    above = [level for level in levels if not highest or level["clients"] > highest["clients"]]
    keys = ("clients", "requests_per_s", "p95_ms", "errors")

    def pick(level):
        return {key: level[key] for key in keys} if level else None

    return {
        "p95_ms": p95_ms,
        "within": pick(highest),
        "beyond": pick(next((level for level in above if level not in within), None)),
    }


def worker_cpu(server: subprocess.Popen) -> float:
    total = 0.0
    for child in psutil.Process(server.pid).children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def cpu_per_request(server, base: str, the_plan: dict, repeat: int = 20) -> dict:
    """Server CPU time (ms) per request of each page, one client, after a warm-up."""
    result = {}
    for client in the_plan["clients"][:1] + the_plan["clients"][-1:]:
        session = requests.Session()
        if client.get("session"):
            session.cookies.set("sessionid", client["session"])
        for name, path in client["pages"]:
            for _warm in range(4):
                session.get(base + path, timeout=60)
            before = worker_cpu(server)
            size = 0
            for _ in range(repeat):
                size = len(session.get(base + path, timeout=60).content)
            result[name] = {
                "cpu_ms": round(1000 * (worker_cpu(server) - before) / repeat, 1),
                "html_kb": round(size / 1024, 1),
            }
    return result


def warm(base: str, the_plan: dict, times: int = 4) -> None:
    """Every client's pages requested in turn, so no level pays for filling the caches
    (each worker has its own: a new connection each time, to reach both); a page that does
    not answer 200 stops the run (its levels would count only errors)."""
    for client in the_plan["clients"]:
        cookies = {"sessionid": client["session"]} if client.get("session") else {}
        for _ in range(times):
            for _name, path in client["pages"]:
                status = requests.get(
                    base + path, cookies=cookies, headers={"Connection": "close"}, timeout=60
                ).status_code
                if status != 200:
                    login = client["login"] or "the public"
                    raise RuntimeError(f"{path} answered {status} to {login}")


def portal_cached(port: int, seconds: float) -> dict:
    from bench.http.__main__ import load

    for _warm in range(4):
        load(port, "/portal/", 0.5, 2)
    command = [sys.executable, "-m", "bench.http", "--load", str(port), "/portal/"]
    command += ["--seconds", str(seconds), "--connections", "16"]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO)
    return json.loads(output.stdout)


def measure(
    database: str,
    source: Path | None,
    levels: list[int],
    seconds: float,
    think: tuple = (0.0, 0.0),
    port: int | None = None,
    per_page: bool = True,
) -> dict:
    env = database_env(database, source)
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    log = (VAR_DIR / f"gunicorn-{database}.log").open("a")
    server = start_gunicorn(env, port, cwd=VAR_DIR, stdout=log, stderr=log)
    result: dict = {"code": str(source or REPO / "src"), "database": database}
    try:
        wait_until_up(port)
        the_plan = plan(env, base)
        warm(base, the_plan)
        if per_page:
            result["cpu_per_request"] = cpu_per_request(server, base, the_plan)
            result["portal_cached_16"] = portal_cached(port, seconds / 2)
        for clients in levels:
            level = run_locust(server, base, the_plan, clients, seconds, think)
            level["load_average"] = [round(x, 2) for x in os.getloadavg()]
            result[f"clients_{clients}"] = level
        if len(levels) > 1:
            result["capacity"] = capacity([result[f"clients_{n}"] for n in levels])
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 clients, 10 s, SQLite only")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", default="10,50,100", help='locust levels; "" for none')
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--before", type=Path, help="another checkout's src, measured first")
    parser.add_argument(
        "--think", default="0", help="think time after each page: SECONDS or MIN,MAX (uniform)"
    )
    parser.add_argument("--port", type=int, help="the server's port (default: a free one)")
    parser.add_argument(
        "--no-per-page",
        dest="per_page",
        action="store_false",
        help="skip the per-page CPU and the cached portal (locust levels only)",
    )
    arguments = parser.parse_args()
    think = think_time(parser, arguments.think)
    levels = [int(n) for n in arguments.clients.split(",") if n]  # "": CPU and portal only
    databases = arguments.databases.split(",")
    seconds = arguments.seconds
    if arguments.quick:
        levels, databases, seconds = [10], ["sqlite"], 10
    results: dict = {"server": "gunicorn 2 workers × 4 threads, loopback", "runs": []}
    for database in databases:
        if database == "postgresql" and not postgresql_reachable(PG_URL):
            results["runs"].append({"database": database, "skipped": "PostgreSQL unreachable"})
            continue
        ensure_demo(database)
        for source in ([arguments.before] if arguments.before else []) + [None]:
            run = measure(
                database, source, levels, seconds, think, arguments.port, arguments.per_page
            )
            run["load_average"] = [round(x, 2) for x in os.getloadavg()]
            results["runs"].append(run)
            print(json.dumps(run, ensure_ascii=False), file=sys.stderr)
    results["targets"] = {
        "clients_100": {"p95_ms": 50, "errors": 0, "database": "postgresql"},
        "portal_cached_16": {"requests_per_s": 1000},
        "cpu_per_request": {"cpu_ms": 20},
    }
    print(json.dumps(results, ensure_ascii=False))


def think_time(parser: argparse.ArgumentParser, given: str) -> tuple[float, float]:
    """``SECONDS`` or ``MIN,MAX`` as (least, most) seconds."""
    try:
        parts = [float(part) for part in given.split(",")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not 0 <= parts[0] <= parts[1]:
        parser.error(f"--think: SECONDS or MIN,MAX with 0 <= MIN <= MAX; got {given!r}")
    return parts[0], parts[1]


if __name__ == "__main__":
    main()
