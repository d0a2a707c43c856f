"""A resident answers the satisfaction survey on a phone-sized window (390 x 844), in
Chinese and then English; the province weights the survey and sees scores with
intervals. Screenshots: test-artifacts/survey_*.png."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from citycheck.core.choices import Role
from citycheck.survey import services
from citycheck.survey.models import Response, SurveyLink
from citycheck.testing import PASSWORD, build_small_province
from tests.apps.survey.conftest import synthetic_rows
from tests.e2e.test_county_login import CHROMIUM, CHROMIUM_ARGS, english_catalog  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def phone():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.console_errors = []
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        yield page
        browser.close()


def test_resident_answers_on_a_phone_and_the_province_sees_scores(
    live_server,
    english_catalog,  # noqa: F811
    phone,
):
    province = build_small_province()
    admin = province.users[Role.PROVINCE_ADMIN]
    questionnaire = services.import_questionnaire(
        settings.DATA_DIR / "survey" / "resident-2021.yaml", acting_user=admin
    )
    survey = services.open_survey(province.open_round, questionnaire, acting_user=admin)
    services.load_streets(settings.DATA_DIR / "survey" / "streets-demo.csv")
    services.record_responses(
        survey, synthetic_rows(["360102", "360103", "360402", "360403"], 30), acting_user=admin
    )
    token = SurveyLink.objects.get(survey=survey, place__code="360100").token
    page = phone
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/survey/r/{token}/")
    page.wait_for_selector("[data-testid=survey-form]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    page.screenshot(path=str(ARTIFACTS / "survey_form_zh.png"))
    page.select_option("select[name=street]", "360103902")  # a street: its county follows
    for name, value in (
        ("sex", "female"),
        ("age_band", "60_plus"),
        ("residence_years", "over_10"),
        ("tenure", "owned"),
        ("tr_mode", "walk"),
        ("in_cost_share", "under_30"),
    ):
        page.check(f"input[name={name}][value='{value}']")
    ratings = page.locator("fieldset .scale").count()
    assert ratings == 33
    for index, code in enumerate(
        page.eval_on_selector_all(
            "fieldset[data-item]:has(.scale)", "nodes => nodes.map(n => n.dataset.item)"
        )
    ):
        page.check(f"input[name={code}][value='{2 + index % 4}']")
    page.fill("textarea[name=comment]", "公园很好，电话 13800138000")
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=survey-thanks]")
    page.screenshot(path=str(ARTIFACTS / "survey_thanks.png"))
    mine = Response.objects.get(channel="web")
    assert mine.place.code == "360103" and mine.age_band == "60_plus"
    assert mine.street == "360103902"
    assert "13800138000" not in mine.answers["comment"]
    assert mine.flags == ["speeder"]  # a robot answers in seconds: kept, not counted

    # English is one click away, and the form keeps working in it.
    page.goto(f"{live_server.url}/survey/r/{token}/")
    page.click("form.langswitch button[value=en]")
    page.wait_for_selector("text=Resident satisfaction survey")
    assert page.locator("text=Very satisfied").count() == 33
    page.screenshot(path=str(ARTIFACTS / "survey_form_en.png"))

    # The province weights the survey (a job) and reads scores with their intervals.
    page.click("form.langswitch button[value=zh-hans]")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", Role.PROVINCE_ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]:has-text('登录')")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/survey/{survey.pk}/")
    page.click("[data-testid=weight]")
    page.wait_for_url("**/jobs/*/")
    page.goto(f"{live_server.url}/survey/{survey.pk}/scores/")
    row = page.locator("[data-testid=scores] tr[data-place='360100']")
    text = row.inner_text()
    assert "南昌市" in text
    assert re.search(r"\d+\.\d \(\d+\.\d–\d+\.\d\)", text)
    summary = page.inner_text("[data-testid=weighting-summary]")
    assert "有效答卷 120 份" in summary and "另有 1 份" in summary
    page.screenshot(path=str(ARTIFACTS / "survey_scores.png"), full_page=True)
    assert page.console_errors == []
