"""Server CPU of the data-entry page, in process: ``python -m bench.entry``.

The page the load benchmark's clients ask for (``bench.load``: a place's entry URL in the
latest round, redirected to its submission page) asked through Django's test client by
the demo's province admin, Nanchang's city user and its housing-department filler, on
the Jiangxi demo (SQLite, and PostgreSQL when reachable). Per login, after four
warm-ups (the page's caches filled, as for readers of an unchanged submission): the CPU
time (``time.process_time``) per request over ``--requests`` requests of the entry
address followed to the page (``cpu_ms``, what ``bench.load`` counts as one request) and
of the page alone; the page with the caches emptied before each request (the first
reader after a change); the queries of the page and its size. No gunicorn; the test
client's own small share is counted with the server's.

``--before SRC`` measures another checkout's ``src`` (``git archive`` of the commit
before a change, unpacked in /tmp) with the same environment and database, alternating
with this checkout ``--rounds`` times, so both sides share the machine's load. The demo
is built on first use in ``BENCH_ENTRY_DIR`` (default ``/tmp/citycheck-bench-entry``)
and the PostgreSQL database ``BENCH_ENTRY_PG`` (default
``postgres://postgres@127.0.0.1:5432/cc_entry_bench``), about two minutes each on an
idle machine; nothing is written to them afterwards.

Target (issue 17): ≤ 20 ms of server CPU per request.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench._serving import demo_env, postgresql_reachable

VAR_DIR = Path(os.environ.get("BENCH_ENTRY_DIR", "/tmp/citycheck-bench-entry"))
PG_URL = os.environ.get("BENCH_ENTRY_PG", "postgres://postgres@127.0.0.1:5432/cc_entry_bench")
LOGINS = ["province_admin", "nanchang_admin", "nanchang_housing"]
PLACE = "360100"  # Nanchang


def database_env(database: str, source: Path | None = None) -> dict:
    url = PG_URL if database == "postgresql" else None
    return demo_env(VAR_DIR, url, source, CITYCHECK_LOG_LEVEL="WARNING")


def ensure_demo(database: str) -> None:
    """Migrate, load the demo and collect the static files unless done (marker file)."""
    marker = VAR_DIR / f"demo-{database}"
    if marker.exists():
        return
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    env = database_env(database)
    for arguments in (["migrate", "-v0"], ["demo"], ["collectstatic", "--noinput", "-v0"]):
        command = [sys.executable, "-m", "citycheck", *arguments]
        subprocess.run(command, env=env, check=True, capture_output=True)
    marker.write_text(time.strftime("%Y-%m-%d %H:%M:%S"))


def counting(queries: list[str]):
    """An execute wrapper that notes each query's SQL in ``queries``."""

    def wrapper(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def cpu_ms(ask, times: int, *, empty_caches: bool = False) -> float:
    """CPU time (ms) per call of ``ask`` over ``times`` calls."""
    from django.core.cache import cache

    total = 0.0
    for _ in range(times):
        if empty_caches:
            cache.clear()
        started = time.process_time()
        ask()
        total += time.process_time() - started
    return round(1000 * total / times, 1)


def measure_login(login: str, url: str, requests: int) -> dict:
    from django.db import connection
    from django.test import Client

    from citycheck.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=login))
    for _warm in range(4):
        response = client.get(url, follow=True)
        assert response.status_code == 200, (login, response.status_code)
    page = response.redirect_chain[-1][0]
    queries: list[str] = []
    with connection.execute_wrapper(counting(queries)):
        response = client.get(page)
    return {
        # as bench.load asks: the entry address, redirected to the submission's page
        "cpu_ms": cpu_ms(lambda: client.get(url, follow=True), requests),
        "page_cpu_ms": cpu_ms(lambda: client.get(page), requests),
        "page_cpu_ms_caches_empty": cpu_ms(
            lambda: client.get(page), max(3, requests // 4), empty_caches=True
        ),
        "page_queries": len(queries),
        "html_kb": round(len(response.content) / 1024, 1),
    }


def measure_here(requests: int) -> dict:
    """Run in the measuring process, with the checkout under test on ``sys.path``."""
    import django

    django.setup()
    import citycheck
    from citycheck.collection.models import Round

    round_ = Round.objects.order_by("-year", "-pk").first()
    url = f"/collection/rounds/{round_.pk}/places/{PLACE}/"
    result = {"code": str(Path(citycheck.__file__).parents[1]), "url": url}
    for login in LOGINS:
        result[login] = measure_login(login, url, requests)
    return result


def measure(database: str, source: Path | None, requests: int) -> dict:
    command = [sys.executable, "-m", "bench.entry", "--measure", "--requests", str(requests)]
    done = subprocess.run(
        command,
        env=database_env(database, source),
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    if done.returncode:
        raise RuntimeError(f"measuring {source or 'this checkout'} failed: {done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.entry", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 requests, one round, SQLite")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="before/after alternations")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--before", type=Path, help="another checkout's src, measured first")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:  # the measuring process
        print(json.dumps(measure_here(arguments.requests)))
        return
    databases, requests, rounds = (
        arguments.databases.split(","),
        arguments.requests,
        arguments.rounds,
    )
    if arguments.quick:
        databases, requests, rounds = ["sqlite"], 5, 1
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "runs": []}
    for database in databases:
        if database == "postgresql" and not postgresql_reachable(PG_URL):
            results["runs"].append({"database": database, "skipped": "PostgreSQL unreachable"})
            continue
        ensure_demo(database)
        for _round in range(rounds):
            for source in ([arguments.before] if arguments.before else []) + [None]:
                run = {"database": database, **measure(database, source, requests)}
                results["runs"].append(run)
                print(json.dumps(run, ensure_ascii=False), file=sys.stderr)
    results["targets"] = {"cpu_ms": 20}
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
