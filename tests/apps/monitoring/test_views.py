"""Monitoring pages: the dashboard's counts, series and forecast; the warning page's
actions by the right roles; notices and the mail preference; nothing for the public."""

import datetime as dt

import pytest
from django.test import Client

from citycheck.core.choices import Role
from citycheck.monitoring import services
from citycheck.monitoring.models import EarlyWarning, NotificationPreference, WarningStatus
from citycheck.monitoring.testing import series_rows


@pytest.fixture
def warned(province):
    start = dt.date(2024, 1, 1)
    rows = series_rows("360100", "congestion_index", [1.2] * 23 + [2.1], start)
    rows += series_rows("360102", "waterlogging_points", [2] * 23 + [30], start)
    rows += series_rows("360402", "waterlogging_points", [2] * 23 + [30], start)
    services.ingest(rows, feed=province.feed("city_operation"), today=dt.date(2025, 12, 1))
    services.evaluate(dt.date(2025, 12, 1))
    return province


def _client(province, role):
    client = Client()
    client.force_login(province.users[role])
    return client


def test_province_dashboard_counts_departments_series_and_forecast(warned):
    response = _client(warned, Role.PROVINCE_ADMIN).get(
        "/monitoring/?indicator=congestion_index&at=360100"
    )
    assert response.status_code == 200
    context = response.context
    assert dict(context["by_status"])["待签收"] == 3
    assert {d["department__code"]: d["open"] for d in context["departments"]} == {
        "housing": 2,
        "transport": 1,
    }
    assert dict((c.code, n) for c, n in context["children"]) == {"360100": 2, "360400": 1}
    series = context["chart"]["series"]
    assert series["periods"][-1] == "2025-12" and series["values"][-1] == 2.1
    assert series["forecast"]["periods"][0] == "2026-01"
    assert all(
        lo <= f <= hi
        for lo, f, hi in zip(
            series["forecast"]["lower"],
            series["forecast"]["value"],
            series["forecast"]["upper"],
            strict=True,
        )
    )
    assert {"low": 1.0, "high": 1.8}.items() <= next(
        limit for limit in series["limits"] if "low" in limit
    ).items()


def test_city_sees_its_own_warnings_department_only_its_department(warned):
    city = _client(warned, Role.CITY_ADMIN).get("/monitoring/warnings/")
    assert {w.place.code for w in city.context["object_list"]} == {"360100", "360102"}
    housing = _client(warned, Role.DEPARTMENT_FILLER).get("/monitoring/warnings/")
    assert [w.rule.code for w in housing.context["object_list"]] == ["waterlogging_many"]
    other = EarlyWarning.objects.get(place__code="360402")
    assert (
        _client(warned, Role.CITY_ADMIN).get(f"/monitoring/warnings/{other.pk}/").status_code == 404
    )
    assert _client(warned, Role.CITY_ADMIN).get("/monitoring/places/360400/").status_code == 403
    assert Client().get("/monitoring/").status_code == 302  # to the login page


def test_warning_page_actions_for_the_right_roles(warned):
    warning = EarlyWarning.objects.get(place__code="360102")
    url = f"/monitoring/warnings/{warning.pk}/"
    department = _client(warned, Role.DEPARTMENT_FILLER)
    page = department.get(url)
    assert page.context["may_acknowledge"] and not page.context["may_close"]
    department.post(url + "acknowledge/")
    department.post(url + "handle/", {"measures": "清淤 2 处"})
    warning.refresh_from_db()
    assert (warning.status, warning.measures) == (WarningStatus.HANDLED, "清淤 2 处")
    # The county cannot close out its own warning; the button is not offered and a post fails.
    county = _client(warned, Role.COUNTY_ADMIN)
    assert not county.get(url).context["may_close"]
    county.post(url + "close/", {"note": "x"})
    warning.refresh_from_db()
    assert warning.status == WarningStatus.HANDLED
    city = _client(warned, Role.CITY_ADMIN)
    assert city.get(url).context["may_close"]
    city.post(url + "close/", {"note": "已核实"})
    warning.refresh_from_db()
    assert warning.status == WarningStatus.CLOSED
    history = [r.label for r in city.get(url).context["history"]]
    assert history == ["发出预警", "签收", "处置", "销号"]


def test_evidence_upload_is_bounded_by_type(warned):
    warning = EarlyWarning.objects.get(place__code="360102")
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client(warned, Role.DEPARTMENT_FILLER)
    bad = SimpleUploadedFile("x.exe", b"MZ")
    client.post(f"/monitoring/warnings/{warning.pk}/handle/", {"measures": "m", "evidence": bad})
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN


def test_notifications_and_preference(warned):
    client = _client(warned, Role.DEPARTMENT_FILLER)
    page = client.get("/monitoring/notifications/")
    assert [n.label for n in page.context["notices"]] == ["发出预警"]
    client.post("/monitoring/notifications/", {"mail": "none"})
    assert (
        NotificationPreference.objects.get(user=warned.users[Role.DEPARTMENT_FILLER]).mail == "none"
    )
