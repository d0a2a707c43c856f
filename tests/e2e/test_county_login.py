"""A county user logs in, sees only its own county, views its map and switches to English."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils.translation import trans_real

from citycheck.core.choices import Role
from citycheck.testing import PASSWORD, build_small_province

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOCALE_DIR = Path(__file__).resolve().parents[2] / "src" / "citycheck" / "locale"


@pytest.fixture(scope="module")
def english_catalog():
    """Compile the English catalog when the .po is newer (``make`` does this too)."""
    po = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["en"], verbosity=0)
        trans_real._translations.clear()  # drop catalogs loaded before the .mo existed


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        yield page
        browser.close()


def test_county_user_sees_own_county_and_switches_language(
    live_server, english_catalog, browser_page
):
    province = build_small_province()
    county = province.places["county"]
    page = browser_page

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", Role.COUNTY_ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{live_server.url}/")
    assert "县级管理员" in page.inner_text("[data-testid=who]")

    page.goto(f"{live_server.url}/places/")
    listed = page.locator("[data-testid=place-tree] li")
    assert listed.count() == 1
    assert listed.first.get_attribute("data-code") == county.code
    body = page.inner_text("body")
    for label in ("sibling_county", "city", "other_city", "province"):
        assert province.places[label].name_zh not in body

    page.goto(f"{live_server.url}/places/{county.code}/")
    page.wait_for_selector("#place-map[data-ready=true] canvas", timeout=10_000)
    assert page.evaluate("typeof echarts.registerMap") == "function"
    assert "GCJ-02" in page.inner_text("body")

    page.click("form.langswitch button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.inner_text(".brand") == "City Health Check Platform"
    assert "Division code" in page.inner_text("body")
    assert "County administrator" in page.inner_text("[data-testid=who]")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "county_login_en.png"), full_page=True)
    assert page.console_errors == []
