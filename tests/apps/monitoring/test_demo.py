"""The demo's monitoring stage on the demo's places and people (without the rounds):
warnings in every state, driven by the demo's logins, within its time budget; the
province's dashboard counts them; a department takes one and the province closes it out;
the 12345 file left for the worker is taken by the periodic run."""

import time

import pytest
from django.test import Client

from citycheck.accounts.models import User
from citycheck.collection.demo import load_reference
from citycheck.core.models import ChangeRecord
from citycheck.monitoring import drops
from citycheck.monitoring.demo import load_monitoring_demo
from citycheck.monitoring.models import EarlyWarning, Observation, WarningStatus


def _client(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.mark.django_db(transaction=False)
def test_demo_stage_shows_warnings_in_every_state(settings, tmp_path):
    settings.MONITORING_DROP_DIR = str(tmp_path)
    load_reference(progress=lambda message: None)
    started = time.perf_counter()
    counts = load_monitoring_demo(progress=lambda message: None)
    seconds = time.perf_counter() - started
    assert counts["observations"] == Observation.objects.count() > 2500
    statuses = set(EarlyWarning.objects.values_list("status", flat=True))
    assert statuses == set(WarningStatus.values)
    assert EarlyWarning.objects.overdue().exists()
    assert counts["warnings published"] == EarlyWarning.objects.filter(published=True).count() > 0
    assert EarlyWarning.objects.filter(escalated_to__code="360000").exists()
    closed = EarlyWarning.objects.get(status=WarningStatus.CLOSED)
    actors = dict(
        ChangeRecord.objects.filter(object_id=str(closed.pk), kind="event").values_list(
            "event", "user__username"
        )
    )
    assert actors["handled"] == "nanchang_housing" and actors["closed_out"] == "province_admin"
    # An open housing warning for 南昌市 waits for the housing department in the demo.
    assert EarlyWarning.objects.filter(
        place__code="360100", department__code="housing", status=WarningStatus.OPEN
    ).exists()
    print(f"monitoring demo stage: {seconds:.1f} s")
    assert seconds < 16  # 8 s on an idle machine; shared CPUs here
    # The province's dashboard counts warnings in every state, overdue and escalated ones.
    province = _client("province_admin")
    dashboard = province.get("/monitoring/").context
    assert all(count > 0 for _label, count in dashboard["by_status"])
    assert dashboard["overdue"] > 0 and dashboard["escalated"] > 0
    # 南昌市's housing department takes its open warning; the province closes it out.
    housing = _client("nanchang_housing")
    waiting = EarlyWarning.objects.filter(
        place__code="360100", department__code="housing", status=WarningStatus.OPEN
    ).first()
    url = f"/monitoring/warnings/{waiting.pk}/"
    housing.post(url + "acknowledge/")
    housing.post(url + "handle/", {"measures": "约谈物业企业"})
    assert not housing.get(url).context["may_close"]
    province.post(url + "close/", {"note": "同意销号"})
    waiting.refresh_from_db()
    assert waiting.status == WarningStatus.CLOSED
    # The 12345 platform's last month waits in its drop folder; the worker's periodic run
    # (make run; tests/apps/monitoring/test_file_drops.py) takes it and 宜春市's environment
    # appeals warn.
    (dropped,) = (tmp_path / "hotline_12345").glob("*.csv")
    assert counts["file dropped for the worker"] == str(dropped)
    month = dropped.stem.removeprefix("12345-")
    hotline = Observation.objects.filter(indicator__code="hotline_environment_complaints")
    assert not hotline.filter(period=f"{month}-01").exists()
    assert not EarlyWarning.objects.filter(rule__code="environment_complaints_rising").exists()
    assert [t.outcome for t in drops.take_dropped_files()] == ["done"]
    assert hotline.filter(period=f"{month}-01").count() == 11 + 9
    surge = EarlyWarning.objects.get(rule__code="environment_complaints_rising")
    assert (surge.place.code, f"{surge.period:%Y-%m}", surge.status) == ("360900", month, "open")
