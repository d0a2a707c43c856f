"""The scheduled file drop: a platform drops a file into its feed's folder, the periodic
run takes it once (observations stored, rules evaluated, file moved to done/ with a
report); a bad file is refused by line, moved to refused/ and nothing is written."""

import datetime as dt

import pytest
from django.utils import timezone

from citycheck.core import schedule
from citycheck.monitoring import drops
from citycheck.monitoring.models import EarlyWarning, IngestBatch, Observation

HEADER = "place,indicator,period,value\n"


@pytest.fixture
def drop(settings, tmp_path):
    settings.MONITORING_DROP_DIR = str(tmp_path)
    folder = tmp_path / "city_operation"
    folder.mkdir()
    return folder


def _last_months(count: int) -> list[str]:
    day = timezone.localdate().replace(day=1)
    months = []
    for _ in range(count):
        day = (day - dt.timedelta(days=1)).replace(day=1)
        months.append(f"{day:%Y-%m}")
    return sorted(months)


def _report(folder, outcome) -> str:
    (report,) = (folder / outcome).glob("*.report.txt")
    return report.read_text(encoding="utf-8")


def test_a_dropped_file_is_taken_once_by_the_periodic_run_and_its_warning_raised(province, drop):
    first, last = _last_months(2)
    (drop / "ops.csv").write_text(
        HEADER
        + f"360102,waterlogging_points,{first},3\n"
        + f"360102,waterlogging_points,{last},30\n",
        encoding="utf-8",
    )
    (drop / "next.csv.part").write_text(HEADER, encoding="utf-8")  # still being written
    now = timezone.now()
    assert "monitoring.take_file_drops" in schedule.run_due(now)
    assert sorted(
        Observation.objects.filter(place__code="360102").values_list("value", flat=True)
    ) == [3.0, 30.0]
    warning = EarlyWarning.objects.get(rule__code="waterlogging_many")
    assert (warning.place.code, warning.value, f"{warning.period:%Y-%m}") == ("360102", 30.0, last)
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == ["next.csv.part"]
    assert _report(drop, "done").splitlines()[1] == "stored: 2 new, 0 unchanged"
    # The same file dropped again is stored once; the next turn finds nothing new.
    (next(iter((drop / "done").glob("*-ops.csv")))).rename(drop / "again.csv")
    assert "monitoring.take_file_drops" in schedule.run_due(now + dt.timedelta(minutes=2))
    assert Observation.objects.count() == 2 and IngestBatch.objects.count() == 1
    assert drops.take_dropped_files(now + dt.timedelta(minutes=3)) == []


def test_a_bad_dropped_file_is_refused_by_line_and_nothing_is_written(province, drop):
    (month,) = _last_months(1)
    future = f"{timezone.localdate().year + 1}-01"
    (drop / "bad.csv").write_text(
        HEADER
        + f"360102,waterlogging_points,{month},3\n"
        + f"999999,waterlogging_points,{month},3\n"
        + f"360100,congestion_index,{future},1.2\n"
        + f"360100,congestion_index,{month},high\n",
        encoding="utf-8",
    )
    (drop / "other_feed.csv").write_text(
        HEADER + f"360102,hotline_housing_complaints,{month},3\n", encoding="utf-8"
    )
    (drop / "columns.csv").write_text("region,count\n360102,3\n", encoding="utf-8")
    taken = drops.take_dropped_files()
    assert [(t.name, t.outcome, t.refused) for t in taken] == [
        ("bad.csv", "refused", 3),
        ("columns.csv", "refused", 0),
        ("other_feed.csv", "refused", 0),
    ]
    assert Observation.objects.count() == 0 and IngestBatch.objects.count() == 0
    reports = {
        p.name.split("-", 1)[1]: p.read_text(encoding="utf-8")
        for p in (drop / "refused").glob("*.report.txt")
    }
    lines = reports["bad.csv.report.txt"].splitlines()
    assert [line.split(":")[:2] for line in lines[2:]] == [
        ["line 3", " place"],
        ["line 4", " period"],
        ["line 5", " value"],
    ]
    assert "city_operation" in reports["other_feed.csv.report.txt"]
    assert "place, indicator, period, value" in reports["columns.csv.report.txt"]
    assert not any(p.is_file() for p in drop.iterdir())
