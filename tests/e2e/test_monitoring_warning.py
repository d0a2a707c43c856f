"""A department user acknowledges and handles a warning in the browser; the level above
closes it out. Screenshots: test-artifacts/monitoring_*.png."""

import datetime as dt

import pytest

from citycheck.core.choices import Role
from citycheck.monitoring import services
from citycheck.monitoring.models import EarlyWarning, WarningStatus
from citycheck.monitoring.testing import build_monitoring_province, series_rows
from citycheck.testing import PASSWORD

from .test_county_login import ARTIFACTS, browser_page  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{url}/")


def test_department_user_acknowledges_handles_and_city_closes_out(
    live_server,
    browser_page,  # noqa: F811
):
    province = build_monitoring_province()
    today = dt.date.today()
    first = dt.date(today.year - 2, today.month, 1)
    rows = series_rows("360102", "waterlogging_points", [2] * 23 + [30], first)
    rows += series_rows("360100", "congestion_index", [1.2 + 0.03 * n for n in range(24)], first)
    result = services.ingest(rows, feed=province.feed("city_operation"), today=today)
    assert not result.refused, result.refused
    services.evaluate(today)
    warning = EarlyWarning.objects.get(rule__code="waterlogging_many")
    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    _login(page, live_server.url, province.users[Role.DEPARTMENT_FILLER].username)
    page.goto(f"{live_server.url}/monitoring/?at=360100&indicator=congestion_index")
    page.wait_for_selector("#monitoring-series[data-ready=true] canvas", timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / "monitoring_dashboard.png"), full_page=True)
    page.goto(f"{live_server.url}/monitoring/warnings/")
    page.click(f"a[href='/monitoring/warnings/{warning.pk}/']")
    page.click("[data-testid=acknowledge]")
    assert "已签收" in page.inner_text("[data-testid=warning-status]")
    page.fill("#id_measures", "疏通雨水管网 3 处，增设移动泵车 2 台")
    page.set_input_files(
        "#id_evidence",
        files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n"}],
    )
    page.click("[data-testid=handle]")
    assert "已处置" in page.inner_text("[data-testid=warning-status]")
    assert page.locator("[data-testid=close]").count() == 0  # not the department's to close
    page.screenshot(path=str(ARTIFACTS / "monitoring_handled.png"), full_page=True)
    page.click("form[action='/accounts/logout/'] button")

    _login(page, live_server.url, province.users[Role.CITY_ADMIN].username)
    page.goto(f"{live_server.url}/monitoring/warnings/{warning.pk}/")
    page.fill("#id_note", "现场核实，积水已消除")
    page.click("[data-testid=close]")
    assert "已销号" in page.inner_text("[data-testid=warning-status]")
    history = page.inner_text("[data-testid=warning-history]")
    assert "department_filler · 处置" in history and "city_admin · 销号" in history
    page.screenshot(path=str(ARTIFACTS / "monitoring_closed.png"), full_page=True)
    assert page.console_errors == []
    warning.refresh_from_db()
    assert warning.status == WarningStatus.CLOSED and warning.evidence.name
