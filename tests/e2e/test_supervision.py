"""The province runs a month's dispatch and issues a quarterly bulletin from the web:
opens June 2025, sees who reported and who is late, reminds, exports the sheet; drafts
the second-quarter bulletin (a job), edits its text and issues it with a number."""

import datetime as dt

import pytest

from citycheck.core.choices import Role
from citycheck.supervision import dispatch
from citycheck.supervision.models import Bulletin
from citycheck.testing import PASSWORD
from tests.apps.assessment.conftest import method, province  # noqa: F401
from tests.apps.reports.conftest import draft_release, media_root, published_release  # noqa: F401
from tests.apps.supervision.conftest import admin, projects  # noqa: F401

from .test_county_login import ARTIFACTS, browser_page  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_province_runs_dispatch_and_issues_bulletin(
    live_server,
    browser_page,  # noqa: F811
    province,  # noqa: F811
    projects,  # noqa: F811
    published_release,  # noqa: F811
    media_root,  # noqa: F811
):
    page = browser_page
    url = live_server.url
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", Role.PROVINCE_ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{url}/")

    page.goto(f"{url}/supervision/dispatch/")
    page.fill("#id_month", "2025-06")
    page.fill("#id_deadline", "2025-07-10")
    page.click("#open-month button[type=submit]")
    page.wait_for_url(f"{url}/supervision/dispatch/2025/6/")
    # 南昌市 reports (as its administrator would from its page); 九江市 does not
    month = dispatch.DispatchMonth.objects.get(month=dt.date(2025, 6, 1))
    dispatch.submit_report(
        month.reports.get(place=province.places["city"]),
        summary="六月项目按计划推进",
        acting_user=province.users[Role.CITY_ADMIN],
        submitted_on=dt.date(2025, 7, 3),
    )
    page.reload()
    assert "九江市" in page.inner_text("#overdue")
    assert "南昌市" not in page.inner_text("#overdue")
    page.click("#remind")
    page.wait_for_load_state()
    row = page.locator("#board tr", has_text="九江市")
    assert row.locator("td").nth(3).inner_text() == "1"  # one reminder
    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename == "dispatch-2025-06.xlsx"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "supervision_dispatch.png"), full_page=True)

    page.goto(f"{url}/supervision/bulletins/")
    page.fill("#id_year", "2025")
    page.select_option("#id_quarter", "2")
    page.click("#draft-bulletin button[type=submit]")
    page.click("text=查看结果")
    assert "九江市" in page.inner_text("#ranking")
    page.fill("#id_text", "经审定：南昌市推进有力，九江市进度滞后，请加快推进。")
    page.click("#bulletin-text button[type=submit]")
    page.click("#issue button[type=submit]")
    page.wait_for_selector("#number")
    number = page.inner_text("#number")
    assert number.startswith("赣城检督〔") and number.endswith("号")
    assert "经审定" in page.inner_text("#text")
    assert page.locator("#bulletin-text").count() == 0  # issued: no more editing
    with page.expect_download() as download:
        page.click("a.download:has-text('PDF')")
    assert download.value.suggested_filename.endswith(".pdf")
    page.screenshot(path=str(ARTIFACTS / "supervision_bulletin.png"), full_page=True)
    assert Bulletin.objects.get().status == "issued"
    assert page.console_errors == []
