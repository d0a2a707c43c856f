"""The province confirms a problem, turns it into a project, reports its progress, and
the next round's re-check shows the problem resolved."""

import pytest

from citycheck.core.choices import Role
from citycheck.diagnosis import services as diagnosis
from citycheck.diagnosis.models import Problem
from citycheck.renewal.models import RenewalProject
from citycheck.testing import PASSWORD
from tests.apps.diagnosis.conftest import province, test_catalogue  # noqa: F401
from tests.e2e.test_county_login import ARTIFACTS, browser_page  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_problem_project_report_recheck(live_server, province, browser_page):  # noqa: F811
    diagnosis.run_diagnosis(province.published_round)  # 2023: 东湖区 waterlogging
    problem = Problem.objects.get(round=province.published_round)
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", Role.PROVINCE_ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{live_server.url}/")

    # Problem: read the evidence, confirm with a reason.
    page.goto(f"{live_server.url}/diagnosis/problems/?year=2023")
    page.click("#problems a:has-text('城市内涝')")
    assert "城市内涝积水点数量2个" in page.inner_text("#explanation")
    page.select_option("select[name=status]", "confirmed")
    page.fill("input[name=reason]", "现场核实，积水点2处")
    page.click("form.card button[type=submit]")
    page.wait_for_selector("#status:has-text('已确认')")

    # Project: propose candidates from confirmed problems, adopt the drainage works.
    page.goto(f"{live_server.url}/renewal/projects/")
    page.fill("#propose-year", "2023")
    page.click("#propose")
    page.wait_for_url(f"{live_server.url}/renewal/projects/candidates/")
    page.click("#candidates a:has-text('东湖区排水防涝工程')")
    page.click("#adopt")
    page.wait_for_selector("#status:has-text('已入库')")

    # Monthly report: finished in December.
    page.fill("input[name=month]", "2024-12")
    page.fill("input[name=percent_complete]", "100")
    page.fill("input[name=investment]", "8000")
    page.click("#report")
    page.wait_for_selector("#status:has-text('已完工')")
    assert "2024-12" in page.inner_text("#reports")
    assert RenewalProject.objects.get(project_type="drainage_works").problems.get() == problem

    # Re-check at the next round (citycheck recheck --round 2024).
    diagnosis.recheck_round(province.open_round)
    page.goto(f"{live_server.url}/diagnosis/problems/{problem.pk}/")
    assert "已解决" in page.inner_text("#recheck")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "problem_to_recheck.png"), full_page=True)
    page.goto(f"{live_server.url}/diagnosis/recheck/?year=2024")
    assert "已解决" in page.inner_text("#rechecked")
    # The library map: boundaries and the filtered project layer are drawn by ECharts.
    page.goto(f"{live_server.url}/renewal/projects/?project_type=drainage_works")
    page.wait_for_selector("#project-map canvas")
    assert "GCJ-02" in page.inner_text("#datum-note")
    page.screenshot(path=str(ARTIFACTS / "project_library_map.png"), full_page=True)
    assert page.console_errors == []
