"""Bulk ingest of 10 million observations into PostgreSQL:
``python -m bench.monitoring.ingest``.

3,000 places × 50 monthly indicators × 67 months (10.05 M rows) handed to
:func:`citycheck.monitoring.services.ingest_frame` as a data frame (what a file drop or a
platform's bulk export becomes): every check of the ingest (place, indicator and level,
period, future, unit, number, duplicates in the batch and against the stored rows), then
one binary COPY into the observation table — the load is larger than the (empty) table, so
its primary key, unique constraint and index are dropped and rebuilt after the COPY, as in
a deployment's first load or a back-fill — in one transaction. Target ≤ 60 s. Then the
next month (150,000 rows) into the loaded table: the steady state, indexes kept. Uses a scratch database ``citycheck_bench_monitoring`` on
127.0.0.1:5432 (created and dropped here).
"""

import argparse
import datetime as dt
import json
import os
import resource
import time

import numpy as np
import pandas as pd
import psycopg

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "citycheck_bench_monitoring"


def scratch_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def drop_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    places, indicators, months = (300, 50, 67) if arguments.quick else (3000, 50, 67)
    scratch_database()
    os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.dev")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from citycheck.accounts.models import Department
    from citycheck.monitoring.models import Feed, MonitoringIndicator, Observation
    from citycheck.monitoring.services import ingest_frame
    from citycheck.places.models import Place

    try:
        call_command("migrate", verbosity=0)
        province = Place.objects.create(
            code="990000", name_zh="基准省", level="province", unit_type="province"
        )
        Place.objects.bulk_create(
            Place(
                code=f"99{i:04d}",
                name_zh=f"地区{i}",
                level="county",
                unit_type="county",
                parent=province,
                path=f"{province.path}{i:04d}/",
            )
            for i in range(1, places + 1)
        )
        department = Department.objects.create(code="bench", name_zh="基准部门")
        feed = Feed.objects.create(code="bench_drop", name_zh="基准文件", kind="file")
        MonitoringIndicator.objects.bulk_create(
            MonitoringIndicator(
                code=f"ind{j:02d}",
                name_zh=f"指标{j}",
                unit="个",
                frequency="monthly",
                levels=["county"],
                feed=feed,
                department=department,
            )
            for j in range(indicators)
        )
        periods = [f"{2020 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
        rng = np.random.default_rng(0)
        n = places * indicators * months
        frame = pd.DataFrame(
            {
                "place": pd.Categorical.from_codes(
                    np.repeat(np.arange(places), indicators * months),
                    [f"99{i:04d}" for i in range(1, places + 1)],
                ),
                "indicator": pd.Categorical.from_codes(
                    np.tile(np.repeat(np.arange(indicators), months), places),
                    [f"ind{j:02d}" for j in range(indicators)],
                ),
                "period": pd.Categorical.from_codes(
                    np.tile(np.arange(months), places * indicators), periods
                ),
                "value": rng.uniform(0, 100, n).round(2),
            }
        )
        from citycheck.monitoring import services

        copy_seconds = []
        original_copy = services._copy_observations

        def timed_copy(*args, **kwargs):
            began = time.perf_counter()
            original_copy(*args, **kwargs)
            copy_seconds.append(time.perf_counter() - began)

        services._copy_observations = timed_copy
        started = time.perf_counter()
        cpu = time.process_time()
        result = ingest_frame(frame, feed=feed, batch_id="bench-1", today=dt.date(2026, 1, 1))
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        stored = Observation.objects.count()
        retry_started = time.perf_counter()
        retry = ingest_frame(frame, feed=feed, batch_id="bench-1", today=dt.date(2026, 1, 1))
        retry_seconds = time.perf_counter() - retry_started
        # The steady state: the next month (150,000 rows) into the loaded table, which is
        # far larger than the load, so the indexes are kept and maintained row by row.
        month = periods[-1]
        following = f"{int(month[:4]) + int(month[5:]) // 12}-{int(month[5:]) % 12 + 1:02d}"
        next_month = pd.DataFrame(
            {
                "place": np.repeat([f"99{i:04d}" for i in range(1, places + 1)], indicators),
                "indicator": np.tile([f"ind{j:02d}" for j in range(indicators)], places),
                "period": following,
                "value": rng.uniform(0, 100, places * indicators).round(2),
            }
        )
        next_started = time.perf_counter()
        next_result = ingest_frame(
            next_month, feed=feed, batch_id="bench-2", today=dt.date(2026, 1, 1)
        )
        next_seconds = time.perf_counter() - next_started
        print(
            json.dumps(
                {
                    "observations": n,
                    "accepted": result.accepted,
                    "refused": len(result.refused),
                    "stored": stored,
                    "ingest_seconds": round(seconds, 1),
                    "ingest_cpu_seconds_this_process": round(cpu_seconds, 1),
                    "copy_seconds": round(copy_seconds[0], 1),
                    "checks_seconds": round(seconds - copy_seconds[0], 1),
                    "rows_per_second": round(n / seconds),
                    "retry_replayed": retry.replayed,
                    "retry_seconds": round(retry_seconds, 2),
                    "next_month_observations": next_result.accepted,
                    "next_month_seconds": round(next_seconds, 1),
                    "next_month_copy_seconds": round(copy_seconds[-1], 1),
                    "target_seconds": 60,
                    "database": connection.vendor,
                    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                }
            )
        )
    finally:
        connection.close()
        drop_database()


if __name__ == "__main__":
    main()
