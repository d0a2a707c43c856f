"""A city user runs the life-circle analysis on a small synthetic 南昌 data set, sees
the gap map and accepts the results (screenshots test-artifacts/spatial_*.png)."""

import pytest

from citycheck.core.choices import Role
from citycheck.indicators.models import Indicator
from citycheck.spatial import services, synthetic
from citycheck.spatial.geodata import load_facility_types
from citycheck.testing import INDICATOR_DEFAULTS, PASSWORD, build_small_province

from .test_county_login import ARTIFACTS, browser_page  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_city_user_runs_the_analysis_and_sees_the_gap_map(live_server, browser_page):  # noqa: F811
    province = build_small_province()
    Indicator.objects.create(
        **{**INDICATOR_DEFAULTS, "order": 10, "unit": "%", "number": "10"},
        system=province.system,
        dimension=province.indicators["green_space"].dimension,
        code="park_service_coverage",
        name_zh="公园绿化活动场地服务半径覆盖率",
    )
    user = province.users[Role.CITY_ADMIN]
    dataset = services.save_dataset(
        province.open_round,
        province.places["city"],
        synthetic.nanchang(side=14, types=load_facility_types()),
        name="合成南昌（测试）",
        format="synthetic",
        acting_user=user,
    )
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", Role.CITY_ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/spatial/datasets/{dataset.pk}/")
    page.click("#run-analysis")
    page.wait_for_url("**/jobs/**")
    page.click("a[href^='/spatial/analyses/']")
    page.wait_for_selector("#life-circle-map-chart[data-ready=true] canvas", timeout=15_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "spatial_gap_map.png"), full_page=True)
    body = page.inner_text("body")
    assert "缺口地图" in body and "东湖区" in body and "西湖区" in body
    # The map has homes in reach, gaps and facilities.
    counts = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('life-circle-map-chart'))"
        ".getOption().series.map(s => s.data.length)"
    )
    assert counts[0] > 0 and counts[1] > 0 and counts[2] > 0

    page.click("#accept-analysis")
    page.wait_for_selector("text=已采用为本轮空间分析数据")
    page.screenshot(path=str(ARTIFACTS / "spatial_accepted.png"))
    assert page.console_errors == []
