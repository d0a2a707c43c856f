"""The public survey form's throughput: ``python -m bench.survey.form`` (part of ``bench survey``).

A small database (citycheck.testing's small province, built through the services, with the
resident questionnaire imported and the 2024 survey opened as the province would) is
served as ``make run`` does: gunicorn, 2 workers x 4 threads, on loopback. Keep-alive
connections (``--connections``, 8 by default: as many as the server's threads; more only
queue in front of them) submit complete answers for ``--seconds``: every submission first
GETs the form of a city's link like a browser, with no cookies (so each is a new device:
its own device and CSRF cookies), reads the signed ``form_key`` and the CSRF token, then
POSTs varied answers (urlencoded, as a browser posts them).

The load generator shares the 2 cores with the server, so it is as light as can be: one
process (``--processes``), one event loop over non-blocking sockets, replies framed by
their Content-Length and read with two byte searches, answers picked from pre-encoded
fields. It reports its own CPU time per submission, and the server workers' (psutil).

The public form allows ``CITYCHECK_SURVEY_POSTS_PER_MINUTE`` posts a minute per address
(30 by default); as every client here is 127.0.0.1, the benchmark raises it to 10^9
through the environment of the server, and says so in its output.

Target (issue 11): >= 200 submissions/s with p95 <= 100 ms. Reported per run:
submissions/s (answers stored: 200 "thanks" pages), p50/p95/p99 of the POST and of the
whole submission (GET + POST), errors by status, CPU per submission of server and client.
SQLite by default; ``--postgresql URL`` serves from that database instead (created if
missing, emptied by flush: use a scratch one). ``--before SRC`` first measures another
checkout's ``src`` (e.g. a ``git archive`` of an earlier commit, with ``build/`` copied for
the static files) with the same client, ``--source SRC`` measures one instead of this
checkout's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import selectors
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import psutil

from bench._serving import create_database, free_port, start_gunicorn, wait_until_up

REPO = Path(__file__).resolve().parents[2]
POSTS_PER_MINUTE = "1000000000"

SETUP = r"""
import json
from pathlib import Path
from django.conf import settings
from citycheck.core.choices import Role
from citycheck.indicators.models import Indicator, SourceKind
from citycheck.survey import services
from citycheck.survey.models import SurveyLink
from citycheck.testing import build_small_province

province = build_small_province()
admin = province.users[Role.PROVINCE_ADMIN]
Indicator.objects.create(
    system=province.system, dimension=province.system.dimensions.first(),
    code="street_parking_order", name_zh="城市街道车辆停放有序性", unit="%",
    source_kind=SourceKind.SURVEY, order=9, decimals=1,
)
questionnaire = services.import_questionnaire(
    Path(settings.DATA_DIR) / "survey" / "resident-2021.yaml", acting_user=admin
)
survey = services.open_survey(province.open_round, questionnaire, acting_user=admin)
links = []
for link in SurveyLink.objects.filter(survey=survey).select_related("place"):
    counties = list(services.counties_of(survey, link.place))
    links.append({"token": link.token, "counties": counties})
print(json.dumps({"survey": survey.pk, "links": links, "items": questionnaire.items}))
"""


def citycheck(env: dict, *arguments: str) -> str:
    command = [sys.executable, "-m", "citycheck", *arguments]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def answer_choices(items: list[dict], counties: list[str]) -> list[list[bytes]]:
    """For each item the form's fields, the urlencoded answers a submission picks one of:
    complete and varied (multiple choice: the first option; the optional number: none)."""
    choices = []
    for item in items:
        code, kind = item["code"], item["type"]
        if kind == "likert":
            values = [str(point) for point in range(1, 6)]
        elif kind == "place":
            values = counties
        elif kind == "single":
            values = [option["code"] for option in item["options"]]
        elif kind == "multiple":
            values = [item["options"][0]["code"]]
        elif kind == "number" and item.get("required", True):
            values = [str(item.get("min", 0) or 0)]
        else:
            continue
        choices.append([urllib.parse.urlencode({code: value}).encode() for value in values])
    return choices


class Exchange:
    """One keep-alive connection submitting in turn: GET the form as a new device, then
    POST answers with its cookies, form key and CSRF token (non-blocking; a few bytes
    of parsing a reply, so that the client takes little of the cores it shares)."""

    def __init__(self, port: int, plan: dict, rng: random.Random, results: dict):
        self.port, self.plan, self.rng, self.results = port, plan, rng, results
        self.socket = None

    def connect(self, selector) -> None:
        self.socket = socket.create_connection(("127.0.0.1", self.port))
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.setblocking(False)
        selector.register(self.socket, selectors.EVENT_READ, self)

    def start(self) -> None:
        self.link = self.rng.choice(self.plan["links"])
        self.path = self.plan["path"].format(token=self.link["token"]).encode()
        self.started = time.perf_counter()
        self.posting = False
        self.send(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % self.path)

    def send(self, request: bytes) -> None:
        self.buffer = bytearray()
        self.sent = time.perf_counter()
        self.socket.setblocking(True)  # loopback: a request leaves at once
        self.socket.sendall(request)
        self.socket.setblocking(False)

    def readable(self) -> None:
        """Read what arrived; handle the reply once it is whole."""
        chunk = self.socket.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).split(b"\r\n")
        length = next(
            (int(line[15:]) for line in head if line[:15].lower() == b"content-length:"), None
        )
        if length is None:
            raise ConnectionError("a reply without Content-Length")
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[0][9:12])
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        if not self.posting:
            self.answer(status, head, body)
            return
        done = time.perf_counter()
        if status == 200:
            self.results["posts"].append(done - self.sent)
            self.results["submissions"].append(done - self.started)
        else:
            self.error(f"POST {status}")
        self.start()

    def answer(self, status: int, head: list[bytes], page: bytes) -> None:
        if status != 200:
            self.error(f"GET {status}")
            self.start()
            return
        cookies = b"; ".join(
            line[11:].strip().split(b";", 1)[0]
            for line in head
            if line[:11].lower() == b"set-cookie:"
        )
        fields = [
            urllib.parse.urlencode({"csrfmiddlewaretoken": value_of(page, b"csrfmiddlewaretoken")}),
            urllib.parse.urlencode({"form_key": value_of(page, b"form_key")}),
        ]
        picks = [self.rng.choice(values) for values in self.link["choices"]]
        body = b"&".join([field.encode() for field in fields] + picks)
        self.posting = True
        self.send(
            b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
            % (self.path, cookies, len(body), body)
        )

    def error(self, kind: str) -> None:
        self.results["errors"][kind] = self.results["errors"].get(kind, 0) + 1


def value_of(page: bytes, name: bytes) -> str:
    """The value of the form's field ``name`` (the first one in the page)."""
    marker = b'name="%s" value="' % name
    start = page.index(marker) + len(marker)
    return page[start : page.index(b'"', start)].decode()


def client_process(port: int, plan: dict, seconds: float, connections: int, seed: int, out):
    """``connections`` keep-alive connections, one event loop, until the deadline; puts
    the timings, the errors and the process's own CPU time."""
    cpu = time.process_time()
    rng = random.Random(seed)
    for link in plan["links"]:
        link["choices"] = answer_choices(plan["items"], link["counties"])
    results = {"posts": [], "submissions": [], "errors": {}}
    selector = selectors.DefaultSelector()
    exchanges = [Exchange(port, plan, rng, results) for _ in range(connections)]
    for exchange in exchanges:
        exchange.connect(selector)
        exchange.start()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for key, _events in selector.select(timeout=1):
            exchange = key.data
            try:
                exchange.readable()
            except (OSError, ValueError) as exc:  # a broken reply or connection: a new one
                exchange.error(type(exc).__name__)
                selector.unregister(exchange.socket)
                exchange.socket.close()
                exchange.connect(selector)
                exchange.start()
    results["client_cpu_s"] = time.process_time() - cpu
    out.put(results)


def worker_cpu(server: subprocess.Popen) -> float:
    """CPU seconds (user + system) of the server's workers so far."""
    total = 0.0
    for child in psutil.Process(server.pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = child.cpu_times()
            total += times.user + times.system
    return total


def database_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the database of ``url``
    (the server's connections live 60 s, the whole run)."""
    import psycopg

    base, _slash, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as server:
        pids = [
            pid
            for (pid,) in server.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]
            ).fetchall()
        ]
    times = {}
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            cpu = psutil.Process(pid).cpu_times()
            times[pid] = cpu.user + cpu.system
    return times


def drive(port: int, plan: dict, seconds: float, processes: int, connections: int) -> dict:
    queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=client_process, args=(port, plan, seconds, connections, seed, queue)
        )
        for seed in range(processes)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    parts = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    posts = sorted(t for part in parts for t in part["posts"])
    submissions = sorted(t for part in parts for t in part["submissions"])
    errors: dict[str, int] = {}
    for part in parts:
        for key, count in part["errors"].items():
            errors[key] = errors.get(key, 0) + count

    def at(times, q):
        return round(1000 * times[min(len(times) - 1, int(q * len(times)))], 1) if times else None

    client_cpu = sum(part["client_cpu_s"] for part in parts)
    return {
        "clients": processes * connections,
        "seconds": round(elapsed, 1),
        "submissions": len(posts),
        "submissions_per_s": round(len(posts) / elapsed, 1),
        "post_p50_ms": at(posts, 0.50),
        "post_p95_ms": at(posts, 0.95),
        "post_p99_ms": at(posts, 0.99),
        "submission_p50_ms": at(submissions, 0.50),
        "submission_p95_ms": at(submissions, 0.95),
        "errors": errors,
        "client_cpu_ms_per_submission": round(1000 * client_cpu / max(1, len(posts)), 2),
    }


def measure(arguments, source: Path | None) -> dict:
    """Set up a database, serve it from ``source`` (a checkout's src; None: this one)
    and drive it."""
    with tempfile.TemporaryDirectory(prefix="citycheck-bench-survey-") as folder:
        env = {
            **os.environ,
            "CITYCHECK_VAR_DIR": folder,
            "DJANGO_SETTINGS_MODULE": "citycheck.settings.dev",
            "CITYCHECK_SURVEY_POSTS_PER_MINUTE": POSTS_PER_MINUTE,
        }
        env.pop("DATABASE_URL", None)
        if arguments.postgresql:
            create_database(arguments.postgresql)
            env["DATABASE_URL"] = arguments.postgresql
        if source is not None:
            env["PYTHONPATH"] = str(source)
        citycheck(env, "migrate", "-v0")
        citycheck(env, "collectstatic", "--noinput", "-v0")
        if arguments.postgresql:
            citycheck(env, "flush", "--noinput")  # a scratch database: start from nothing
        setup = json.loads(citycheck(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        setup["path"] = "/survey/r/{token}/"
        port = free_port()
        server = start_gunicorn(
            env,
            port,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(folder) / "gunicorn.log", "w"),  # noqa: SIM115
        )
        try:
            try:
                wait_until_up(port, setup["path"].format(token=setup["links"][0]["token"]), 60)
            except RuntimeError:
                sys.stderr.write((Path(folder) / "gunicorn.log").read_text()[-3000:])
                raise
            load, started = os.getloadavg(), time.strftime("%H:%M:%S UTC", time.gmtime())
            cpu = worker_cpu(server)
            database = database_cpu(arguments.postgresql) if arguments.postgresql else {}
            result = drive(
                port, setup, seconds_of(arguments), arguments.processes, arguments.connections
            )
            server_cpu = worker_cpu(server) - cpu
            if arguments.postgresql:
                database_used = sum(
                    seconds - database.get(pid, 0.0)
                    for pid, seconds in database_cpu(arguments.postgresql).items()
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
        stored = citycheck(
            env,
            "shell",
            "-c",
            "from citycheck.survey.models import Response; print(Response.objects.count())",
        )
    return {
        "source": str(source) if source else "this checkout",
        **result,
        "server_cpu_ms_per_submission": round(1000 * server_cpu / max(1, result["submissions"]), 2),
        **(
            {
                "postgresql_cpu_ms_per_submission": round(
                    1000 * database_used / max(1, result["submissions"]), 2
                )
            }
            if arguments.postgresql
            else {}
        ),
        "responses_stored": int(stored.strip().splitlines()[-1]),
        "started": started,
        "load_average_at_start": [round(x, 2) for x in load],
    }


def seconds_of(arguments) -> float:
    return 5.0 if arguments.quick else arguments.seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="5 s instead of 30 s")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--processes", type=int, default=1, help="client processes")
    parser.add_argument("--connections", type=int, default=8, help="per client process")
    parser.add_argument("--postgresql", default="", help="a scratch database URL")
    parser.add_argument("--before", type=Path, help="another checkout's src, measured first")
    parser.add_argument(
        "--source",
        type=Path,
        help="the src measured (default: this checkout's), e.g. a git archive",
    )
    arguments = parser.parse_args()
    sources = ([arguments.before] if arguments.before else []) + [arguments.source]
    runs = [measure(arguments, source) for source in sources]
    print(
        json.dumps(
            {
                "benchmark": "survey public form",
                "database": "postgresql" if arguments.postgresql else "sqlite",
                "server": "gunicorn 2 workers x 4 threads, loopback",
                "rate_limit": f"CITYCHECK_SURVEY_POSTS_PER_MINUTE={POSTS_PER_MINUTE} (raised)",
                "target": ">= 200 submissions/s, p95 <= 100 ms",
                "runs": runs,
                "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
