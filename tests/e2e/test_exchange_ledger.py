"""The province's administrator submits a round to the national platform from the ledger
page, sees the rows it rejected, fixes the mapping, submits again (only those rows) and
reads the page in English. The national side is the format-level receiver of
tests/apps/exchange/test_submit.py behind httpx's mock transport (the two real instances
meet in tests/apps/exchange/test_two_instances.py)."""

import httpx
import pytest

from citycheck.core.choices import Role
from citycheck.exchange import package, services
from citycheck.exchange.models import PeerRelation
from citycheck.testing import PASSWORD, build_small_province
from tests.apps.exchange.test_submit import NATIONAL_KEY, National, write_mapping
from tests.e2e.test_county_login import ARTIFACTS
from tests.e2e.test_county_login import browser_page as browser_page
from tests.e2e.test_county_login import english_catalog as english_catalog

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def exchange_instance(settings, tmp_path):
    settings.CITYCHECK_INSTANCE_CODE = "jiangxi"
    settings.CITYCHECK_EXCHANGE_KEY_FILE = tmp_path / "exchange_key"
    settings.CITYCHECK_EXCHANGE_MAPPINGS_DIR = tmp_path / "mappings"
    (tmp_path / "mappings").mkdir()
    return settings


def test_submit_from_the_ledger_page_fix_and_resubmit(
    live_server,
    english_catalog,
    browser_page,
    exchange_instance,
    monkeypatch,
):
    province = build_small_province()
    write_mapping(exchange_instance)  # a wrong unit for built_density: its rows come back
    services.save_peer(
        code="national",
        name="国家城市体检平台",
        relation=PeerRelation.UPPER,
        public_key=package.public_key_of(NATIONAL_KEY),
        url="http://national.test",
    )
    national = National()
    real_client = httpx.Client
    monkeypatch.setattr(
        services.httpx,
        "Client",
        lambda **kwargs: real_client(transport=httpx.MockTransport(national)),
    )
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", Role.PROVINCE_ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/exchange/")
    form = page.locator("[data-testid=submit-form]")
    form.locator("select[name=round]").select_option(str(province.open_round.pk))
    form.locator("button[value=https]").click()
    page.click("a:has-text('查看结果')")  # the job page, once the job is done
    page.wait_for_selector("[data-testid=ledger-state]")
    assert page.inner_text("[data-testid=ledger-state]") == "部分接收"
    rejected = page.locator("[data-testid=rejected-rows] tbody tr")
    assert rejected.count() == len(province.places)
    assert "UNIT_MEASURE" in rejected.first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "exchange-rejected-rows.png"), full_page=True)

    write_mapping(exchange_instance, version="2", density_unit="万人/km²", factor=0.0001)
    page.goto(f"{live_server.url}/exchange/")
    form.locator("select[name=round]").select_option(str(province.open_round.pk))
    form.locator("button[value=https]").click()
    page.click("a:has-text('查看结果')")  # the job page, once the job is done
    page.wait_for_selector("[data-testid=ledger-state]")
    assert page.inner_text("[data-testid=ledger-state]") == "已接收"
    assert len(national.received[1].observations) == len(province.places)

    page.goto(f"{live_server.url}/exchange/")
    page.click(".langswitch button[value=en]")
    page.wait_for_selector("text=Submit to the upper platform")
    ledger = page.inner_text("[data-testid=sent-ledger]")
    assert "Partially accepted" in ledger and "Accepted" in ledger
    assert "Submit to the upper platform" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "exchange-ledger-en.png"), full_page=True)
    assert not page.console_errors
