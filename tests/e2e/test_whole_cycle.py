"""One whole cycle in the browser on a fresh database: a county enters a value, its city
approves, the province accepts, closes the round, assesses and publishes, and the public
portal shows a score that moved because of that value.

The other places' data goes through the same services their people's actions call (save,
submit, approve, accept); only 东湖区's way is clicked, with a screenshot at each step."""

import re
from pathlib import Path

import pytest

from citycheck.assessment.methods import parse_method
from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.assessment.services import publish_release, run_assessment
from citycheck.collection import services, workflow
from citycheck.collection.models import RoundStatus, Source
from citycheck.core.choices import Role
from citycheck.places.models import PlaceLevel
from citycheck.testing import build_reporting_province, offer_method
from tests.apps.assessment.conftest import METHOD

from .test_check_workflow import log_in, status_text
from .test_county_login import ARTIFACTS, browser_page  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CODES = ("green_space", "built_density", "waterlogging")
# 2024 and 2025 values per place; only 东湖区's green space changes (10 → 16), typed in
# the browser in 2025.
VALUES = {
    "360100": (14.0, 10.0, 1.0),
    "360400": (11.0, 12.0, 2.0),
    "360102": (10.0, 10.0, 0.0),
    "360103": (12.5, 11.0, 2.0),
    "360402": (9.0, 9.0, 3.0),
    "360403": (7.0, 11.5, 6.0),
}
COUNTY, NEW_GREEN_SPACE = "360102", "16"


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS) / f"whole_cycle_{name}.png"), full_page=True)


def through_the_workflow(round_, place, numbers, indicators, users):
    """What each place's people do: enter (explaining every value), submit, the city
    approves a county's data, the province accepts."""
    filler = users[place.code]
    services.save_values(
        round_,
        [
            services.ValueEntry(place, indicators[code], number, "统计年报")
            for code, number in zip(CODES, numbers, strict=True)
        ],
        acting_user=filler,
    )
    submission = services.submission_for(round_, place, Source.SELF_CHECK)
    workflow.submit_submission(submission, acting_user=filler)
    if place.level == PlaceLevel.COUNTY:
        workflow.approve_submission(submission, acting_user=users[place.parent.code])
    workflow.accept_submission(submission, acting_user=users["reviewer"])


@pytest.fixture
def province(settings, tmp_path):
    offer_method(settings, tmp_path / "methods", "test-index.yaml", METHOD)
    built = build_reporting_province()
    system, indicators, reporting = built.system, built.indicators, built.reporting
    users = {
        **built.fillers,
        "reviewer": built.users[Role.PROVINCE_REVIEWER],
        "admin": built.users[Role.PROVINCE_ADMIN],
    }
    # 2024: the whole round as its people did it, assessed and published
    last_year = services.open_round(
        year=2024, system=system, places=reporting, acting_user=users["admin"]
    )
    for place in reporting:
        through_the_workflow(last_year, place, VALUES[place.code], indicators, users)
    services.set_round_status(last_year, RoundStatus.CLOSED, acting_user=users["admin"])
    method = parse_method(METHOD, source="test-index.yaml")
    publish_release(
        run_assessment(last_year, method, acting_user=users["admin"]), acting_user=users["admin"]
    )
    # 2025: every other place reports the same values again
    current = services.open_round(
        year=2025, system=system, places=reporting, acting_user=users["admin"]
    )
    for place in reporting:
        if place.code != COUNTY:
            through_the_workflow(current, place, VALUES[place.code], indicators, users)
    return current


def index_score(year):
    release = Release.objects.get(round__year=year, status=ReleaseStatus.PUBLISHED)
    return Result.objects.get(release=release, level=Level.INDEX, place__code=COUNTY).score


def test_a_value_typed_by_the_county_moves_its_published_score(
    live_server,
    browser_page,  # noqa: F811
    province,
):
    page, base, round_ = browser_page, live_server.url, province

    log_in(page, base, Role.COUNTY_ADMIN)
    page.goto(f"{base}/collection/rounds/")
    page.click(f"[data-testid=fill-{COUNTY}]")
    page.wait_for_selector("[data-testid=entry-form]")
    for code, number in zip(CODES, VALUES[COUNTY], strict=True):
        typed = NEW_GREEN_SPACE if code == "green_space" else f"{number:g}"
        page.fill(f"tr[data-code={code}] input[name^=value-]", typed)
        page.fill(f"tr[data-code={code}] input[name^=note-]", "新建湿地公园纳入统计")
    page.click("[data-testid=save-draft]")
    page.wait_for_selector("text=已保存 3 项")
    shoot(page, "1_county_entered")
    page.click("[data-testid=submit]")
    assert status_text(page) == "已提交"
    submission_url = page.url

    log_in(page, base, Role.CITY_ADMIN)
    page.goto(submission_url)
    page.click("[data-testid=approve]")
    assert status_text(page) == "市级已审核"

    log_in(page, base, Role.PROVINCE_REVIEWER)
    page.goto(submission_url)
    page.click("[data-testid=accept]")
    assert status_text(page) == "省级已采纳"
    shoot(page, "2_province_accepted")

    log_in(page, base, Role.PROVINCE_ADMIN)
    page.goto(f"{base}/collection/rounds/{round_.pk}/")
    page.click("button[name=status][value=closed]")
    page.wait_for_selector("text=已截止")
    page.goto(f"{base}/assessment/releases/")
    page.select_option("select[name=round]", str(round_.pk))
    page.select_option("select[name=method]", "test-index.yaml")
    page.click("button:has-text('开始计算')")
    page.wait_for_selector("text=查看结果", timeout=30_000)
    shoot(page, "3_assessment_done")
    page.click("text=查看结果")
    page.click("[data-testid=publish]")
    page.click("[data-testid=confirm-publish]")
    page.wait_for_selector("text=已发布")
    shoot(page, "4_release_published")

    page.context.clear_cookies()
    page.goto(f"{base}/portal/places/{COUNTY}/")
    conclusion = page.inner_text("[data-testid=conclusion]")
    shoot(page, "5_portal_place")
    shown = float(re.search(r"城市健康指数为([0-9.]+)", conclusion).group(1))
    assert shown == pytest.approx(index_score(2025), abs=0.005)
    assert index_score(2025) > index_score(2024) + 1
    assert page.console_errors == []
