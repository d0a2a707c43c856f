"""The public portal and the dashboards in a browser: ECharts canvases drawn, no console
errors, screenshots saved under test-artifacts/."""

import pytest

from citycheck.assessment import services as assessment
from citycheck.assessment.methods import parse_method
from citycheck.core.choices import Role
from citycheck.testing import PASSWORD
from tests.apps.assessment.conftest import METHOD, province  # noqa: F401  (fixture)
from tests.e2e.test_county_login import ARTIFACTS, browser_page, english_catalog  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def drawn(page, selector):
    page.wait_for_selector(f"{selector}[data-ready=true] canvas", timeout=10_000)


def test_portal_and_dashboards_render_their_charts(
    live_server,
    english_catalog,  # noqa: F811
    browser_page,  # noqa: F811
    province,  # noqa: F811
):
    admin = province.users[Role.PROVINCE_ADMIN]
    release = assessment.run_assessment(
        province.open_round, parse_method(METHOD, source="test.yaml"), acting_user=admin
    )
    assessment.publish_release(release, acting_user=admin)
    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/portal/")
    drawn(page, "#dashboard-ranking")
    assert "2024 年度城市健康指数" in page.inner_text("h1")
    page.screenshot(path=str(ARTIFACTS / "portal_index.png"), full_page=True)
    page.goto(f"{live_server.url}/portal/places/360102/")
    drawn(page, "#dashboard-radar")
    assert "东湖区城市健康指数为" in page.inner_text("[data-testid=conclusion]")
    page.screenshot(path=str(ARTIFACTS / "portal_place.png"), full_page=True)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", Role.PROVINCE_ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/reports/dashboard/")
    for chart in ("#dashboard-map", "#dashboard-ranking", "#dashboard-matrix", "#dashboard-trend"):
        drawn(page, chart)
    page.screenshot(path=str(ARTIFACTS / "dashboard_province.png"), full_page=True)
    page.goto(f"{live_server.url}/reports/dashboard/360102/")
    drawn(page, "#dashboard-radar")
    assert "东湖区" in page.inner_text("h1")
    page.click("form.langswitch button[value=en]")
    page.wait_for_selector("html[lang=en]")
    drawn(page, "#dashboard-radar")
    page.screenshot(path=str(ARTIFACTS / "dashboard_city_en.png"), full_page=True)
    assert page.console_errors == []
