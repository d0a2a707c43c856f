"""Check-step benchmarks: ``python -m bench.check [--quick] [--sqlite]``.

1. upload: a workbook of 100 county-level units × 70 indicators, previewed (file checks,
   parsing, diff, validation) and confirmed (stored with audit rows); target ≤ 2 s.
2. batch: 1,000,000 values through :func:`citycheck.collection.batch.submit_batch` into
   PostgreSQL, the round's first load (binary COPY straight into the values table and of
   the audit rows from the same arrays); target ≤ 10 s (issue 17). Beside the wall and
   the client's CPU: the PostgreSQL backend's CPU (read from /proc when the server runs
   on this machine) and the WAL the batch wrote.
3. board: the completeness board of a national-size round (3,000 places × 70
   indicators, every value stored); target ≤ 300 ms.

Runs against a scratch PostgreSQL database ``citycheck_bench`` (dropped and re-created)
at ``BENCH_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/citycheck_bench),
or a scratch SQLite file with ``--sqlite``. Prints one JSON object.
"""

import argparse
import io
import os
import sys
import tempfile
import time
from contextlib import contextmanager

from bench.engine._common import report, timed

N_INDICATORS = 70


def _prepare_database(sqlite: bool) -> None:
    if sqlite:
        path = os.path.join(tempfile.mkdtemp(), "bench.sqlite3")
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        url = os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/citycheck_bench"
        )
        import psycopg

        admin, name = url.rsplit("/", 1)
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _make_system():
    from citycheck.indicators.models import (
        Dimension,
        Direction,
        Indicator,
        IndicatorSystem,
        IndicatorType,
        Rollup,
        SourceKind,
        Tier,
    )

    system = IndicatorSystem.objects.create(code="bench", version=2024, name_zh="基准测试体系")
    dimensions = [
        Dimension.objects.create(system=system, code=f"d{n}", name_zh=f"维度{n}", order=n)
        for n in range(8)
    ]
    units = ["%", "平方米/人", "个", "分钟"]
    Indicator.objects.bulk_create(
        Indicator(
            system=system,
            dimension=dimensions[n % 8],
            code=f"i{n:02d}",
            name_zh=f"指标{n}",
            definition="基准测试指标。",
            unit=units[n % 4],
            direction=Direction.HIGHER,
            type=IndicatorType.GUIDING,
            tier=Tier.NATIONAL,
            source_kind=SourceKind.STATISTICS,
            rollup=Rollup.SUM,
            order=n,
        )
        for n in range(N_INDICATORS)
    )
    return system


def _make_places(n_counties: int, prefix: int):
    """A province of its own, cities of 100 counties each, and ``n_counties`` counties
    (bulk, with paths): its administrator's reach is that province, as in a deployment."""
    from citycheck.places.models import Place, PlaceLevel, UnitType

    province = Place.objects.create(
        code=f"{prefix}0000",
        name_zh=f"基准省{prefix}",
        level=PlaceLevel.PROVINCE,
        unit_type=UnitType.PROVINCE,
    )
    n_cities = max(1, (n_counties + 99) // 100)
    cities = Place.objects.bulk_create(
        Place(
            code=f"{prefix}{c:04d}00",
            name_zh=f"市{c}",
            level=PlaceLevel.CITY,
            parent=province,
            unit_type=UnitType.PREFECTURE_CITY,
            path=f"{province.path}{prefix}{c:04d}00/",
        )
        for c in range(n_cities)
    )
    counties = Place.objects.bulk_create(
        Place(
            code=f"{prefix}{k // 100:04d}{k % 100:02d}x",
            name_zh=f"县{k}",
            level=PlaceLevel.COUNTY,
            parent=cities[k // 100],
            unit_type=UnitType.COUNTY,
            path=f"{cities[k // 100].path}{prefix}{k // 100:04d}{k % 100:02d}x/",
        )
        for k in range(n_counties)
    )
    return province, cities, counties


def _values(n_places: int, rng):
    """Plausible values per indicator unit: % in 20–80, per-capita 5–30, counts, minutes."""
    import numpy as np

    columns = []
    for n in range(N_INDICATORS):
        kind = n % 4
        if kind == 0:
            columns.append(rng.uniform(20, 60, n_places).round(1))
        elif kind == 1:
            columns.append(rng.uniform(5, 30, n_places).round(2))
        elif kind == 2:
            columns.append(rng.integers(1, 200, n_places).astype(float))
        else:
            columns.append(rng.uniform(20, 50, n_places).round(1))
    return np.column_stack(columns)


def _administrator(province):
    from citycheck.accounts.models import User
    from citycheck.core.choices import Role

    return User.objects.create_user(
        f"admin{province.code}", role=Role.PROVINCE_ADMIN, place=province
    )


def _open_round(system, places, user, year):
    from citycheck.collection import services

    return services.open_round(year=year, system=system, places=places, acting_user=user)


def bench_upload(system, rng, n_counties: int, timings: dict) -> dict:
    from openpyxl import load_workbook

    from citycheck.collection import excel

    province, _cities, counties = _make_places(n_counties, prefix=10)
    user = _administrator(province)
    round_ = _open_round(system, counties, user, 2023)
    content = excel.build_template(round_, counties, acting_user=user)
    workbook = load_workbook(io.BytesIO(content))
    values = _values(n_counties, rng)
    for place_index, county in enumerate(counties):
        sheet = workbook[county.code]
        for row in range(2, N_INDICATORS + 2):
            column = int(sheet.cell(row, 1).value[1:])  # indicator code i00 … i69
            sheet.cell(row, 7).value = float(values[place_index, column])
    buffer = io.BytesIO()
    workbook.save(buffer)
    filled = buffer.getvalue()
    with timed(timings, "upload_preview"):
        preview = excel.preview_upload(filled, acting_user=user)
    with timed(timings, "upload_confirm"):
        excel.confirm_upload(preview, acting_user=user)
    return {
        "upload_workbook_bytes": len(filled),
        "upload_values": int(preview.rows.shape[0]),
        "upload_issues": len(preview.issues),
    }


def bench_batch(system, rng, n_values: int, timings: dict) -> dict:
    import numpy as np
    import pandas as pd

    from citycheck.collection import batch

    n_places = (n_values + N_INDICATORS - 1) // N_INDICATORS
    province, _cities, counties = _make_places(n_places, prefix=20)
    user = _administrator(province)
    round_ = _open_round(system, counties, user, 2024)
    codes = np.array([c.code for c in counties])
    frame = pd.DataFrame(
        {
            "place": np.repeat(codes, N_INDICATORS),
            "indicator": np.tile([f"i{n:02d}" for n in range(N_INDICATORS)], n_places),
            "value": _values(n_places, rng).ravel(),
        }
    ).head(n_values)
    with _server_share(timings, "batch_server"), timed(timings, "batch_submit"):
        result = batch.submit_batch(round_, frame, acting_user=user)
    return {
        "batch_values": result.records,
        "batch_changed": result.changed,
        "batch_method": result.method,
    }


@contextmanager
def _server_share(timings: dict, name: str):
    """The PostgreSQL backend's CPU time (from /proc, a server on this machine) and the
    WAL written during the block: the part of the wall the client does not see."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), pg_current_wal_insert_lsn()")
        pid, start_lsn = cursor.fetchone()
    stat = f"/proc/{pid}/stat"
    start_cpu = _process_cpu(stat)
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", [start_lsn])
        wal_bytes = float(cursor.fetchone()[0])
    timings[name] = {"wal_mb": round(wal_bytes / 1e6)}
    if start_cpu is not None:
        timings[name]["backend_cpu"] = round(_process_cpu(stat) - start_cpu, 3)


def _process_cpu(stat_path: str) -> float | None:
    """User + system CPU seconds of a process from its /proc stat line; None if unseen."""
    try:
        with open(stat_path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_board(system, rng, n_places: int, timings: dict) -> dict:
    import numpy as np
    import pandas as pd

    from citycheck.collection import batch
    from citycheck.collection.completeness import completeness_board

    province, _cities, counties = _make_places(n_places, prefix=30)
    user = _administrator(province)
    round_ = _open_round(system, counties, user, 2025)
    codes = np.array([c.code for c in counties])
    frame = pd.DataFrame(
        {
            "place": np.repeat(codes, N_INDICATORS),
            "indicator": np.tile([f"i{n:02d}" for n in range(N_INDICATORS)], n_places),
            "value": _values(n_places, rng).ravel(),
        }
    )
    batch.submit_batch(round_, frame, acting_user=user)
    completeness_board(round_, acting_user=user)  # warm caches, as a page after the first
    times = []
    for _ in range(5):
        start = time.perf_counter()
        board = completeness_board(round_, acting_user=user)
        times.append(time.perf_counter() - start)
    timings["board"] = {
        "wall_best": round(min(times), 3),
        "wall_median": round(sorted(times)[2], 3),
    }
    return {"board_places": len(board.places), "board_values": int(board.places["filled"].sum())}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.check", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument(
        "--sqlite", action="store_true", help="a scratch SQLite file, not PostgreSQL"
    )
    parser.add_argument(
        "--only",
        choices=["upload", "batch", "board"],
        help="one bench (a side-by-side run: PYTHONPATH=<other checkout>/src)",
    )
    arguments = parser.parse_args()
    _prepare_database(arguments.sqlite)

    import numpy as np

    rng = np.random.default_rng(20240630)
    system = _make_system()
    timings: dict = {}
    result = {"database": "sqlite" if arguments.sqlite else "postgresql", "quick": arguments.quick}
    wanted = {arguments.only} if arguments.only else {"upload", "batch", "board"}
    if "upload" in wanted:
        result |= bench_upload(system, rng, 10 if arguments.quick else 100, timings)
    if "batch" in wanted:
        result |= bench_batch(system, rng, 20_000 if arguments.quick else 1_000_000, timings)
    if "board" in wanted:
        result |= bench_board(system, rng, 300 if arguments.quick else 3_000, timings)
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    result["timings"] = timings
    report(result)


if __name__ == "__main__":
    sys.exit(main())
