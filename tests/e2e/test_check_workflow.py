"""The check step in the browser: a county fills and submits, the city returns it with a
comment, the county fixes and resubmits, the city approves and the province accepts."""

from pathlib import Path

import pytest

from citycheck.collection import services
from citycheck.collection.models import Source, Submission, SubmissionStatus
from citycheck.core.choices import Role
from citycheck.testing import PASSWORD, build_small_province

from .test_county_login import ARTIFACTS, browser_page  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url, username):
    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{base_url}/")


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS) / f"check_workflow_{name}.png"), full_page=True)


def status_text(page) -> str:
    return page.inner_text("[data-testid=submission-status]")


def save_value(page, code: str, value: str) -> None:
    """Type a value into the entry form and save the draft (htmx swaps the form back)."""
    page.fill(f"tr[data-code={code}] input[name^=value-]", value)
    page.click("[data-testid=save-draft]")
    page.wait_for_selector("[data-testid=save-ok]")


def test_county_submits_city_returns_county_fixes_city_approves_province_accepts(
    live_server,
    browser_page,  # noqa: F811
):
    province = build_small_province()
    county = province.places["county"]
    # The fixture's round was created directly; open_round would have made these.
    for place in province.open_round.places.all():
        services.submission_for(province.open_round, place, Source.SELF_CHECK)
    page, base = browser_page, live_server.url

    log_in(page, base, Role.COUNTY_ADMIN)
    page.goto(f"{base}/collection/rounds/")
    page.click(f"[data-testid=fill-{county.code}]")
    page.wait_for_selector("[data-testid=entry-form]")
    assert "生态宜居" in page.inner_text("[data-testid=entry-form]")
    save_value(page, "waterlogging", "13")
    shoot(page, "1_county_saved")
    page.click("[data-testid=submit]")
    assert status_text(page) == "已提交"
    submission_url = page.url

    log_in(page, base, Role.CITY_ADMIN)
    page.goto(f"{base}/collection/rounds/{province.open_round.pk}/")
    page.click(f"[data-testid=review-{county.code}]")
    page.fill("[data-testid=review-comment]", "内涝积水点数量请与水务部门核对")
    page.click("[data-testid=return]")
    assert status_text(page) == "已退回"
    shoot(page, "2_city_returned")

    log_in(page, base, Role.COUNTY_ADMIN)
    page.goto(submission_url)
    assert "内涝积水点数量请与水务部门核对" in page.inner_text("[data-testid=comments]")
    save_value(page, "waterlogging", "12")
    page.click("[data-testid=submit]")
    assert status_text(page) == "已提交"

    log_in(page, base, Role.CITY_ADMIN)
    page.goto(submission_url)
    page.click("[data-testid=approve]")
    assert status_text(page) == "市级已审核"

    log_in(page, base, Role.PROVINCE_REVIEWER)
    page.goto(f"{base}/collection/rounds/{province.open_round.pk}/")
    page.click(f"[data-testid=review-{county.code}]")
    page.click("[data-testid=accept]")
    assert status_text(page) == "省级已采纳"
    shoot(page, "3_province_accepted")

    submission = Submission.objects.get(round=province.open_round, place=county)
    assert submission.status == SubmissionStatus.ACCEPTED
    assert province.value(province.open_round, "county", indicator="waterlogging").value == 12.0
    assert page.console_errors == []
