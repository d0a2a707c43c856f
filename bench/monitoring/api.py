"""The ingest API under 4 concurrent machine clients: ``python -m bench.monitoring.api``.

gunicorn (2 workers × 4 threads, as ``make run``) serves the platform on loopback over a
scratch PostgreSQL database (``citycheck_bench_monitoring_api``, created and dropped here);
4 client threads, each with its own keep-alive connection and ingest token, post batches
of 1,000 observations (distinct places per client) to ``/api/monitoring/observations/
batches/`` until each has sent its share. Target ≥ 5,000 observations/s accepted.
"""

import argparse
import http.client
import json
import os
import threading
import time

import psycopg

from bench._serving import free_port, start_gunicorn, wait_until_up

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "citycheck_bench_monitoring_api"
URL = "/api/monitoring/observations/batches/"


def database(action: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        if action == "create":
            connection.execute(f"CREATE DATABASE {DATABASE}")


def prepare(clients: int, places_per_client: int, indicators: int) -> list[str]:
    """Places, indicators and one token per client; returns the tokens' keys."""
    import django

    django.setup()
    from django.core.management import call_command

    from citycheck.accounts.models import Department
    from citycheck.monitoring.models import Feed, MonitoringIndicator
    from citycheck.monitoring.services import create_token
    from citycheck.places.models import Place

    call_command("migrate", verbosity=0)
    province = Place.objects.create(
        code="990000", name_zh="基准省", level="province", unit_type="province"
    )
    for i in range(1, clients * places_per_client + 1):
        Place.objects.create(
            code=f"99{i:04d}",
            name_zh=f"地区{i}",
            level="county",
            unit_type="county",
            parent=province,
        )
    department = Department.objects.create(code="bench", name_zh="基准部门")
    feed = Feed.objects.create(code="bench_push", name_zh="基准平台", kind="push")
    for j in range(indicators):
        MonitoringIndicator.objects.create(
            code=f"ind{j:02d}",
            name_zh=f"指标{j}",
            unit="个",
            frequency="monthly",
            levels=["county"],
            feed=feed,
            department=department,
        )
    return [
        create_token(
            f"client {k}", feed=feed, place=province, acting_user=None, rate="100000/minute"
        )[1]
        for k in range(clients)
    ]


def bodies(client: int, places_per_client: int, indicators: int, months: int) -> list[bytes]:
    rows = [
        {
            "place": f"99{client * places_per_client + i:04d}",
            "indicator": f"ind{j:02d}",
            "period": f"{2020 + m // 12}-{m % 12 + 1:02d}",
            "value": (i * 7 + j * 3 + m) % 97 + 0.5,
        }
        for i in range(1, places_per_client + 1)
        for j in range(indicators)
        for m in range(months)
    ]
    return [
        json.dumps({"batch_id": f"c{client}-{n}", "rows": rows[start : start + 1000]}).encode()
        for n, start in enumerate(range(0, len(rows), 1000))
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    clients, places_per_client, indicators, months = 4, (5 if arguments.quick else 100), 10, 24
    database("create")
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "DJANGO_SETTINGS_MODULE": "citycheck.settings.dev",
    }
    os.environ.update(env)
    server = None
    try:
        keys = prepare(clients, places_per_client, indicators)
        port = free_port()
        server = start_gunicorn(env, port)
        wait_until_up(port, "/accounts/login/")
        payloads = [bodies(k, places_per_client, indicators, months) for k in range(clients)]
        accepted, statuses, latencies = [0] * clients, {}, []
        lock = threading.Lock()

        def client(k):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"Authorization": f"Bearer {keys[k]}", "Content-Type": "application/json"}
            for body in payloads[k]:
                began = time.perf_counter()
                connection.request("POST", URL, body=body, headers=headers)
                response = connection.getresponse()
                answer = json.loads(response.read())
                with lock:
                    latencies.append(time.perf_counter() - began)
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status == 201:
                    accepted[k] += answer["accepted"]

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        latencies.sort()
        print(
            json.dumps(
                {
                    "server": "gunicorn 2 workers × 4 threads, PostgreSQL",
                    "clients": clients,
                    "batches": sum(len(p) for p in payloads),
                    "rows_per_batch": 1000,
                    "statuses": statuses,
                    "observations_accepted": sum(accepted),
                    "seconds": round(elapsed, 1),
                    "observations_per_s": round(sum(accepted) / elapsed),
                    "batch_p50_ms": round(1000 * latencies[len(latencies) // 2]),
                    "batch_p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))]),
                    "target_observations_per_s": 5000,
                }
            )
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        database("drop")


if __name__ == "__main__":
    main()
