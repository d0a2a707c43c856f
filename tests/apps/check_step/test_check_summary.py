"""One check, shown the same everywhere: the entry page's summary and issues are what
submit refuses on; a third-party evaluator owes only what it measures; warnings compare
with last year in words an official reads, in the page's language."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from citycheck.collection import services
from citycheck.collection.models import Source, SubmissionStatus
from tests.apps.collection.test_views import (
    COUNTY,
    form_data,
    login,
    open_submission,
    save,
    status_of,
)

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db


def summary(response) -> str:
    found = re.search(r'data-testid="validation-summary">(.*?)</p>', response.content.decode())
    assert found, response.content.decode()
    return found.group(1)


def submit(client, submission) -> list[str]:
    """Press 提交审核 and return the messages the page then shows."""
    response = client.post(
        reverse("collection:submission_step", args=[submission.pk, "submit"]), follow=True
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def page(client, submission):
    response = client.get(reverse("collection:submission", args=[submission.pk]))
    assert response.status_code == 200
    return response


def test_an_empty_form_shows_the_missing_values_submit_refuses_on(client, province):
    login(client, province, "county")
    submission = open_submission(client, province)
    shown = summary(page(client, submission))
    assert shown == ("提交前检查：6 项错误须改正（其中 6 项未填），0 项提示须在“说明”中解释。")
    assert "建成区绿地率：缺少数值（提交前必须填写）。" in page(client, submission).content.decode()
    (refusal,) = submit(client, submission)
    assert refusal.startswith("不能提交。" + shown)
    assert status_of(submission) == SubmissionStatus.DRAFT


def test_after_saving_the_page_counts_the_warnings_submit_counts(client, province):
    login(client, province, "county")
    submission = open_submission(client, province)
    values = {**GOOD_VALUES, "green_space_rate": 75.0}  # above the usual 10–60 %
    saved = save(client, submission, form_data(client, submission, values))
    shown = summary(saved)
    assert shown == "提交前检查：0 项错误须改正（其中 0 项未填），1 项提示须在“说明”中解释。"
    assert "建成区绿地率：75% 高于常见范围（一般不高于 60%）" in saved.content.decode()
    (refusal,) = submit(client, submission)
    assert refusal.startswith("不能提交。" + shown)
    # Explaining the value is what the summary asks for; then submit goes through.
    explained = save(
        client,
        submission,
        form_data(client, submission, notes={"green_space_rate": "新建湿地公园"}),
    )
    assert summary(explained) == "提交前检查：没有需要处理的问题，可以提交。"
    assert "（已说明）" in explained.content.decode()
    assert submit(client, submission) == ["已提交。"]
    assert status_of(submission) == SubmissionStatus.SUBMITTED


def test_the_evaluator_owes_and_submits_only_what_it_measures(client, province):
    login(client, province, "evaluator")
    submission = open_submission(client, province, COUNTY, Source.THIRD_PARTY)
    codes = [
        r["indicator"].code for _d, rows in page(client, submission).context["groups"] for r in rows
    ]
    assert codes == ["green_space_rate", "park_green_area_per_capita"]
    shown = summary(page(client, submission))
    assert shown.startswith("提交前检查：2 项错误须改正（其中 2 项未填）")
    (refusal,) = submit(client, submission)
    assert refusal.startswith("不能提交。" + shown)
    save(
        client,
        submission,
        form_data(client, submission, {"green_space_rate": 38, "park_green_area_per_capita": 12}),
    )
    assert submit(client, submission) == ["已提交。"]
    assert status_of(submission) == SubmissionStatus.SUBMITTED
    # What it owes is also what its task list counts.
    rows = services.obligations(province.users["evaluator"])
    assert set(rows["indicators"]) == {2}


@pytest.fixture
def last_year(province):
    """The county's 2023 values: the ones of GOOD_VALUES."""
    previous = services.open_round(
        year=2023,
        system=province.system,
        places=[province.places[COUNTY]],
        acting_user=province.users["province"],
    )
    services.save_values(previous, province.entries(COUNTY), acting_user=province.users["county"])
    return previous


def test_a_large_change_from_last_year_is_worded_for_officials(client, province, last_year):
    login(client, province, "county")
    submission = open_submission(client, province)
    values = {**GOOD_VALUES, "park_green_area_per_capita": 20.0, "green_space_rate": 40.0}
    body = save(client, submission, form_data(client, submission, values)).content.decode()
    # +67 % is beyond the indicator's 30 %; 38 → 40 (+5 %) is an ordinary change.
    assert "人均公园绿地面积：20 平方米/人，比去年（12）上升 67%，请核实并在“说明”中解释。" in body
    assert 'data-testid="issue-green_space_rate"' not in body
    assert "park_green_area_per_capita" not in re.sub(r'(data-[a-z-]+|name)="[^"]*"', "", body)


def test_messages_follow_the_page_language(client, province, last_year):
    login(client, province, "county")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    submission = open_submission(client, province)
    values = {**GOOD_VALUES, "park_green_area_per_capita": 20.0, "schools": ""}
    body = save(client, submission, form_data(client, submission, values)).content.decode()
    assert "up 67% on last year (12); please check it and explain it in “Note”." in body
    assert summary(page(client, submission)) == (
        "Check before submitting: 1 error(s) to correct (1 of them not filled in), "
        "1 warning(s) to explain in “Note”."
    )
    assert "请核实" not in body and "缺少数值" not in page(client, submission).content.decode()


def test_a_malformed_third_party_entry_names_the_field():
    from citycheck.collection.validation import RulesFileError, parse_rules

    with pytest.raises(RulesFileError, match=r"third_party\.source_kinds"):
        parse_rules("third_party: {source_kinds: spatial}\n")
    assert parse_rules("third_party: {source_kinds: [survey]}\n").third_party_source_kinds == (
        "survey",
    )
