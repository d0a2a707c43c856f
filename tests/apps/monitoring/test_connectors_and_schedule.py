"""The 12345 connector against a fake platform on loopback, and the periodic schedule."""

import datetime as dt

import pytest
from django.utils import timezone

from citycheck.core import schedule
from citycheck.core.models import PeriodicRun
from citycheck.monitoring import fake_hotline
from citycheck.monitoring.connectors import ConnectorError, Hotline12345Connector, pull_due
from citycheck.monitoring.models import Feed, Observation


@pytest.fixture
def platform():
    server = fake_hotline.serve(["360100", "360102", "360402"], rising=("360102",))
    yield server
    server.shutdown()


def test_connector_pulls_the_last_complete_months_once(province, platform):
    feed = Feed.objects.get(code="hotline_12345")
    feed.url = platform.url
    feed.save()
    connector = Hotline12345Connector(feed)
    counts = connector.pull(today=dt.date(2025, 4, 10))
    # 3 months × 3 regions × 3 monitored categories ("其他" is not monitored)
    assert counts == {"periods": 3, "accepted": 27, "refused": 0, "conflicts": 0}
    expected = fake_hotline.appeals("2025-02", ["360102"], rising=("360102",))["items"][0]
    stored = Observation.objects.get(
        place__code="360102", indicator__code="hotline_housing_complaints", period="2025-02-01"
    )
    assert (expected["category"], stored.value) == ("住房", expected["count"])
    again = connector.pull(today=dt.date(2025, 4, 10))
    assert again["accepted"] == 0 and Observation.objects.count() == 27
    assert set(Observation.objects.values_list("source", flat=True)) == {"hotline_12345"}


def test_unreachable_platform_is_a_connector_error(province):
    feed = Feed.objects.get(code="hotline_12345")
    feed.url = "http://127.0.0.1:9"  # discard port: connection refused
    with pytest.raises(ConnectorError):
        Hotline12345Connector(feed).fetch("2025-01")


def test_pull_due_respects_the_feed_interval(province, platform):
    feed = Feed.objects.get(code="hotline_12345")
    feed.url = platform.url
    feed.save()
    now = timezone.now()
    assert "hotline_12345" in pull_due(now)
    assert pull_due(now + dt.timedelta(minutes=5)) == {}
    assert "hotline_12345" in pull_due(now + dt.timedelta(minutes=61))


def test_run_due_runs_each_task_once_per_interval(db, monkeypatch):
    calls = []
    monkeypatch.setattr(schedule, "REGISTRY", {})
    monkeypatch.setattr(schedule, "_discovered", True)
    schedule.periodic("test.hourly", every=dt.timedelta(hours=1))(lambda now: calls.append(now))

    def broken(now):
        raise RuntimeError("boom")

    schedule.periodic("test.broken", every=dt.timedelta(hours=1))(broken)
    start = dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.UTC)
    assert schedule.run_due(start) == ["test.broken", "test.hourly"]
    assert schedule.run_due(start + dt.timedelta(minutes=30)) == []  # another process, too early
    assert schedule.run_due(start + dt.timedelta(minutes=61)) == ["test.broken", "test.hourly"]
    assert len(calls) == 2
    assert "boom" in PeriodicRun.objects.get(name="test.broken").last_error
    assert PeriodicRun.objects.get(name="test.hourly").last_error == ""


def test_periodic_refuses_a_second_function_under_one_name(monkeypatch):
    monkeypatch.setattr(schedule, "REGISTRY", {})
    schedule.periodic("x", every=dt.timedelta(minutes=1))(lambda now: None)
    with pytest.raises(ValueError, match="twice"):

        @schedule.periodic("x", every=dt.timedelta(minutes=1))
        def other(now):
            pass


def test_monitoring_tasks_are_registered():
    schedule.autodiscover()
    assert {
        "monitoring.evaluate_rules",
        "monitoring.escalate_overdue",
        "monitoring.send_digests",
        "monitoring.pull_connectors",
        "monitoring.take_file_drops",
    } <= set(schedule.REGISTRY)
