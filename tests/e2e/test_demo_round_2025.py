"""The demo's open 2025 round finished in the browser with the demo logins, as officials
would (issue 10): the county and the housing department fill from their task lists, the
city approves and submits its own data, the evaluator fills its assigned place, the province
adjudicates two discrepancies and accepts, closes the round, assesses, reviews the draft and
publishes it after confirming, diagnoses, makes a project from a problem, enters a month's
progress and downloads 南昌市's report; the portal then shows 2025. No response on the way
is a 4xx or 5xx and the browser logs no error. Screenshots: test-artifacts/demo2025_*.png.
"""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from citycheck.collection.models import Round, Source, Value
from citycheck.renewal.models import ProjectStatus, RenewalProject

from .test_county_login import ARTIFACTS, browser_page  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "citycheck-demo"
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
COUNTY, CITY = "360121", "360100"


class Walk:
    """The browser, signing in as one demo login after another, failing on any 4xx/5xx."""

    def __init__(self, page, base):
        self.page, self.base, self.failures = page, base, []
        page.on(
            "response",
            lambda r: r.status >= 400 and self.failures.append((r.status, r.url)),
        )

    def login(self, username):
        page = self.page
        page.context.clear_cookies()
        page.goto(f"{self.base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("form button[type=submit]:has-text('登录')")
        page.wait_for_url(f"{self.base}/")

    def go(self, path):
        self.page.goto(f"{self.base}{path}")

    def shoot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(Path(ARTIFACTS) / f"demo2025_{name}.png"), full_page=True)

    def explain_and_save(self):
        """Write a note beside every value the check asks to explain, and save."""
        notes = self.page.locator("input.needs-note")
        for number in range(notes.count()):
            notes.nth(number).fill("已核实：统计年报口径")
        self.page.click("[data-testid=save-draft]")
        self.page.wait_for_selector("[data-testid=save-ok]")

    def status(self):
        return self.page.inner_text("[data-testid=submission-status]")


def test_the_demo_round_2025_is_finished_in_the_browser(live_server, browser_page):  # noqa: F811
    call_command("demo", stdout=StringIO())
    round_ = Round.objects.get(year=2025)
    walk = Walk(browser_page, live_server.url)
    page = walk.page

    # the county fills from its task list and submits
    walk.login("nanchangxian_admin")
    walk.go("/collection/rounds/")
    page.click(f"[data-testid=fill-{COUNTY}]")
    page.wait_for_selector("[data-testid=entry-form]")
    county_submission = page.url
    walk.explain_and_save()
    page.click("[data-testid=submit]")
    assert walk.status() == "已提交"
    walk.shoot("1_county_submitted")

    # the housing department fills its part of the city's data from its task list and submits
    walk.login("nanchang_housing")
    walk.go("/collection/rounds/")
    page.click(f"[data-testid=fill-{CITY}]")
    page.wait_for_selector("[data-testid=entry-form]")
    department_submission = page.url
    page.locator("tr[data-code] input[name^=note-]").first.fill("住房城乡建设部门复核")
    page.click("[data-testid=save-draft]")
    page.wait_for_selector("text=已保存 1 项")
    walk.explain_and_save()
    page.click("[data-testid=submit]")
    assert walk.status() == "已提交"
    walk.shoot("2_department_submitted")

    # the city approves its county and its department, and submits its own data
    walk.login("nanchang_admin")
    for submission in (county_submission, department_submission):
        walk.go(submission.removeprefix(live_server.url))
        page.click("[data-testid=approve]")
        assert walk.status() == "市级已审核"
    walk.go("/collection/rounds/")
    page.click(f"[data-testid=fill-{CITY}]")
    page.wait_for_selector("[data-testid=entry-form]")
    city_submission = page.url
    walk.explain_and_save()
    page.click("[data-testid=submit]")
    assert walk.status() == "已提交"
    walk.shoot("3_city_submitted")

    # the evaluator measures what it owes for 南昌县, two values well apart from the county's
    own = dict(
        Value.objects.filter(
            round=round_, place__code=COUNTY, source=Source.SELF_CHECK
        ).values_list("indicator__code", "value")
    )
    walk.login("evaluator")
    walk.go("/collection/rounds/")
    page.click(f"[data-testid=fill-{COUNTY}]")
    page.wait_for_selector("[data-testid=entry-form]")
    third_party_submission = page.url
    codes = page.locator("tr[data-code]").evaluate_all("rows => rows.map(r => r.dataset.code)")
    units = dict(round_.system.all_indicators().values_list("code", "unit"))
    # two shares the evaluator measures higher than the county reported (still below 100 %)
    apart = [c for c in codes if units[c] == "%" and 10 <= (own.get(c) or 0) <= 60][:2]
    for code in codes:
        measured = own[code] * (1.5 if code in apart else 1.0) if own.get(code) else 1.0
        page.fill(f"tr[data-code={code}] input[name^=value-]", f"{measured:.4g}")
    page.click("[data-testid=save-draft]")
    page.wait_for_selector("[data-testid=save-ok]")
    walk.explain_and_save()
    page.click("[data-testid=submit]")
    assert walk.status() == "已提交"
    walk.shoot("4_evaluator_submitted")

    # the province adjudicates the two discrepancies and accepts the three data sets
    walk.login("province_admin")
    for code in apart:
        walk.go(f"/collection/rounds/{round_.pk}/discrepancies/")
        form = page.locator(
            f"tr:has(input[name=place][value='{COUNTY}']):has(input[name=indicator][value='{code}'])"
            " form.adjudicate"
        )
        form.locator("select[name=chosen_source]").select_option(Source.THIRD_PARTY)
        form.locator("input[name=reason]").fill("第三方现场核查")
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
    walk.shoot("5_adjudicated")
    assert round_.adjudications.filter(place__code=COUNTY).count() == 2
    walk.login("province_reviewer")
    for submission in (
        county_submission,
        department_submission,
        city_submission,
        third_party_submission,
    ):
        walk.go(submission.removeprefix(live_server.url))
        page.click("[data-testid=accept]")
        assert walk.status() == "省级已采纳"

    # the province closes the round, assesses, reviews the draft and publishes it
    walk.login("province_admin")
    walk.go(f"/collection/rounds/{round_.pk}/")
    page.click("button[name=status][value=closed]")
    page.wait_for_selector("text=已截止")
    walk.go("/assessment/releases/")
    label = next(
        text
        for text in page.locator("select[name=round] option").all_inner_texts()
        if "2025" in text
    )
    page.select_option("select[name=round]", label=label)
    page.click("button:has-text('开始计算')")
    page.wait_for_selector("a:has-text('查看结果')", timeout=60_000)
    page.click("a:has-text('查看结果')")
    page.wait_for_selector("h1:has-text('2025')")
    walk.shoot("6_draft_release")
    page.click("a:has-text('发布…')")
    # the places whose data was never accepted are named before anything becomes public
    assert "尚未经省级采纳" in page.inner_text("[data-testid=provisional-warning]")
    walk.shoot("7_publish_confirmation")
    page.click("form[action*=publish] button[type=submit]")
    page.wait_for_selector("text=已发布")

    # diagnosis, a project from a problem and its first month's progress
    walk.go("/diagnosis/problems/")
    page.click("button:has-text('运行诊断')")
    page.wait_for_selector("a:has-text('查看结果')", timeout=60_000)
    walk.go("/diagnosis/problems/?year=2025")
    page.click("table a[href*='/diagnosis/problems/']")
    page.click("#project-from-problem button")
    page.click("#save-adopt")
    page.wait_for_selector("text=候选项目")
    project = RenewalProject.objects.order_by("-pk").first()
    assert project.status == ProjectStatus.ADOPTED and project.problems.exists()
    walk.go(f"/renewal/projects/{project.pk}/")
    page.fill("#report-form input[name=month]", project.start.strftime("%Y-%m"))
    page.fill("#report-form input[name=percent_complete]", "10")
    page.click("#report")
    page.wait_for_load_state()
    assert project.reports.count() == 1
    walk.shoot("8_project_progress")

    # 南昌市's report downloads under its Chinese title
    release = round_.releases.get()
    report = page.request.get(
        f"{live_server.url}/reports/releases/{release.pk}/places/{CITY}/report.docx"
    )
    assert report.status == 200
    assert "filename*=UTF-8''" in report.headers["content-disposition"]

    # the pages of the walk read in one language: English ones carry no Chinese in their
    # navigation, headings and tables' headers, Chinese ones no English words there
    # (a project's heading is its name, data that exists only in Chinese)
    pages = {
        "/collection/rounds/": "nav.mainnav, h1, th",
        county_submission.removeprefix(live_server.url): "nav.mainnav, h1, th",
        f"/assessment/releases/{release.pk}/": "nav.mainnav, h1, th",
        "/diagnosis/problems/?year=2025": "nav.mainnav, h1, th",
        f"/renewal/projects/{project.pk}/": "nav.mainnav, th",
    }
    for language, foreign in (("zh-hans", LATIN_WORD), ("en", CJK)):
        switch = page.locator(f"form.langswitch button[value={language}]")
        if switch.is_enabled():  # the current language's button is disabled
            switch.click()
        page.wait_for_selector(f"html[lang={language}]")
        for path, chrome_selector in pages.items():
            walk.go(path)
            chrome = " ".join(page.locator(chrome_selector).all_inner_texts())
            assert not foreign.search(chrome), (language, path, foreign.findall(chrome)[:5])
    walk.shoot("9_project_page_en")

    # and the public sees 2025
    page.context.clear_cookies()
    walk.go("/portal/")
    assert "2025" in page.inner_text("h1")
    walk.shoot("10_portal")
    assert walk.failures == []
    assert page.console_errors == []
