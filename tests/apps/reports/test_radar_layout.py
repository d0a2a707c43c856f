"""The dimension radar in a browser, wherever it is drawn (portal place page, city
dashboard, release place page): its axis names stay clear of the legend and inside the
chart, in Chinese and in (longer) English, and are dark enough to read."""

import pytest

from citycheck.assessment import services as assessment
from citycheck.assessment.methods import parse_method
from citycheck.core.choices import Role
from citycheck.indicators.models import Dimension
from citycheck.testing import PASSWORD
from tests.apps.assessment.conftest import METHOD, province  # noqa: F401  (fixture)
from tests.e2e.test_county_login import browser_page, english_catalog  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Boxes (in chart pixels) of the legend and of every radar axis name, read from ECharts.
LAYOUT = """selector => {
  const element = document.querySelector(selector);
  const chart = echarts.getInstanceByDom(element);
  const legend = chart.getViewOfComponentModel(chart.getModel().getComponent("legend")).group;
  function box(shape) {
    const rect = shape.getBoundingRect().clone();
    const transform = shape.getComputedTransform();
    if (transform) rect.applyTransform(transform);
    return { x: rect.x, y: rect.y, width: rect.width, height: rect.height };
  }
  function inLegend(shape) {
    for (let node = shape; node; node = node.parent) if (node === legend) return true;
    return false;
  }
  const names = chart.getZr().storage.getDisplayList()
    .filter(shape => shape.style && shape.style.text && !inLegend(shape))
    .map(shape => ({ text: shape.style.text, fill: shape.style.fill, ...box(shape) }));
  return { width: element.clientWidth, height: element.clientHeight, legend: box(legend), names };
}"""


def overlap(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def dark(colour: str) -> bool:
    """``#rgb`` or ``#rrggbb`` no lighter than #666 in any channel."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return all(int(digits[i : i + 2], 16) <= 0x66 for i in (0, 2, 4))


def assert_radar_is_legible(page, selector, expected_names):
    page.wait_for_selector(f"{selector} canvas", timeout=10_000)
    page.wait_for_function(
        "s => { const e = document.querySelector(s); return e && echarts.getInstanceByDom(e); }",
        arg=selector,
    )
    layout = page.evaluate(LAYOUT, selector)
    # A name set on two lines is drawn as one text per line: compare word by word.
    words = {word for name in layout["names"] for word in name["text"].split()}
    assert words == {word for name in expected_names for word in name.split()}
    for name in layout["names"]:
        assert not overlap(name, layout["legend"]), name
        assert name["x"] >= 0 and name["x"] + name["width"] <= layout["width"], name
        assert name["y"] >= 0 and name["y"] + name["height"] <= layout["height"], name
        assert dark(name["fill"]), name


def test_radar_axis_names_are_clear_of_the_legend_and_readable(
    live_server,
    english_catalog,  # noqa: F811
    browser_page,  # noqa: F811
    province,  # noqa: F811
):
    # Two dimensions: the second sits straight below the centre, where the legend used to be.
    Dimension.objects.filter(code="livable").update(name_en="Ecological liveability")
    Dimension.objects.filter(code="safe").update(name_en="Safety and resilience of the city")
    admin = province.users[Role.PROVINCE_ADMIN]
    release = assessment.run_assessment(
        province.open_round, parse_method(METHOD, source="test.yaml"), acting_user=admin
    )
    assessment.publish_release(release, acting_user=admin)
    page = browser_page
    chinese = {"生态宜居", "安全韧性"}

    page.goto(f"{live_server.url}/portal/places/360102/")
    assert_radar_is_legible(page, "#dashboard-radar", chinese)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", Role.PROVINCE_ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/reports/dashboard/360102/")
    assert_radar_is_legible(page, "#dashboard-radar", chinese)
    page.goto(f"{live_server.url}/assessment/releases/{release.pk}/places/360102/")
    assert_radar_is_legible(page, "#radar", chinese)

    page.click("form.langswitch button[value=en]")
    page.wait_for_selector("html[lang=en]")
    english = {"Ecological liveability", "Safety and resilience of the city"}
    assert_radar_is_legible(page, "#radar", english)
    page.goto(f"{live_server.url}/reports/dashboard/360102/")
    assert_radar_is_legible(page, "#dashboard-radar", english)
    assert page.console_errors == []
