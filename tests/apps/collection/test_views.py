"""The check-step pages: what each user owes, data entry with htmx draft saves and
optimistic versions, workflow steps, comments, evidence, Excel round trip, discrepancies
and adjudication, the completeness board, round management and the audit beside a value."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from citycheck.collection import reminders, services, workflow
from citycheck.collection.models import (
    Adjudication,
    Assignment,
    ChangeChannel,
    Evidence,
    RevisionStatus,
    Round,
    Source,
    Submission,
    SubmissionStatus,
    Value,
    ValueChange,
    ValueComment,
)

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db

COUNTY = "360102"
HTMX = {"HTTP_HX_REQUEST": "true"}


def login(client, province, name):
    client.force_login(province.users[name])
    return client


def entry_url(province, code=COUNTY, source=Source.SELF_CHECK):
    return reverse("collection:entry", args=[province.round.pk, code]) + f"?source={source}"


def open_submission(client, province, code=COUNTY, source=Source.SELF_CHECK):
    response = client.get(entry_url(province, code, source))
    assert response.status_code == 302, response
    return Submission.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))


def form_data(client, submission, values=None, notes=None):
    """The entry form as the page renders it, with ``values`` typed over it."""
    page = client.get(reverse("collection:submission", args=[submission.pk]))
    assert page.status_code == 200
    data = {}
    for _dimension, rows in page.context["groups"]:
        for row in rows:
            key, code = row["indicator"].pk, row["indicator"].code
            data[f"version-{key}"] = row["version"]
            data[f"seen-{key}"] = row["seen_text"]
            data[f"seen-note-{key}"] = row["seen_note"]
            data[f"value-{key}"] = (values or {}).get(code, row["text"])
            data[f"note-{key}"] = (notes or {}).get(code, row["note"])
    return data


def save(client, submission, data):
    return client.post(reverse("collection:submission_save", args=[submission.pk]), data, **HTMX)


def step(client, submission, name, comment=""):
    return client.post(
        reverse("collection:submission_step", args=[submission.pk, name]), {"comment": comment}
    )


def fill_and_save(client, submission, values=GOOD_VALUES):
    response = save(client, submission, form_data(client, submission, values))
    assert "save-ok" in response.content.decode(), response.content.decode()
    return response


def status_of(submission):
    submission.refresh_from_db()
    return submission.status


# --------------------------------------------------------------------------- owed and entry


def test_round_list_shows_what_the_county_owes_and_by_when(client, province):
    login(client, province, "county")
    response = client.get(reverse("collection:round_list"))
    body = response.content.decode()
    assert response.status_code == 200
    owed = response.context["obligations"]
    assert [(r["place"], r["status"], r["indicators"]) for r in owed] == [
        (COUNTY, SubmissionStatus.DRAFT, len(GOOD_VALUES))
    ]
    assert "2024-06-30" in body and f'data-testid="fill-{COUNTY}"' in body


def test_a_department_filler_sees_its_department_by_name(client, province):
    login(client, province, "housing")
    body = client.get(reverse("collection:round_list")).content.decode()
    assert "<td>住房城乡建设</td>" in body and "<td>housing</td>" not in body


def test_entry_form_groups_by_dimension_with_definition_unit_previous_and_standard(
    client, province
):
    login(client, province, "county")
    submission = open_submission(client, province)
    response = client.get(reverse("collection:submission", args=[submission.pk]))
    groups = response.context["groups"]
    assert [d.name_zh for d, _rows in groups] == ["生态宜居", "健康舒适"]
    body = response.content.decode()
    for text in ("建成区绿地率的定义。", "平方米/人", "保存草稿", "下载本任务的 Excel 模板"):
        assert text in body


def test_draft_save_stores_audits_and_returns_new_versions(client, province):
    login(client, province, "county")
    submission = open_submission(client, province)
    response = fill_and_save(client, submission)
    value = Value.objects.get(place__code=COUNTY, indicator__code="schools")
    assert value.value == 40.0 and value.version == 1
    change = ValueChange.objects.get(value=value)
    assert (change.user.username, change.channel, change.new_value) == ("county", "form", 40.0)
    # The swapped-in form carries the new version, so a second save is not stale.
    assert f'name="version-{value.indicator_id}" value="1"' in response.content.decode()
    again = save(client, submission, form_data(client, submission, {"schools": 41}))
    assert "save-ok" in again.content.decode()
    value.refresh_from_db()
    assert (value.value, value.version) == (41.0, 2)


def test_second_stale_save_is_refused_showing_the_other_change(client, province):
    county = login(client, province, "county")
    submission = open_submission(county, province)
    fill_and_save(county, submission)
    stale_form = form_data(county, submission, {"schools": 45})
    # The city edits the same value meanwhile.
    from django.test import Client

    city = login(Client(), province, "city")
    fill_and_save(city, submission, {"schools": 42})
    response = save(county, submission, stale_form)
    body = response.content.decode()
    assert 'data-testid="save-refused"' in body and 'data-testid="conflicts"' in body
    assert "city" in body and "42.0" in body
    assert Value.objects.get(place__code=COUNTY, indicator__code="schools").value == 42.0
    # What the county typed is kept on the page.
    assert 'value="45"' in body


def test_untouched_fields_do_not_conflict_with_another_users_change(client, province):
    county = login(client, province, "county")
    submission = open_submission(county, province)
    fill_and_save(county, submission)
    stale_form = form_data(county, submission, {"share_a": 55, "share_b": 45})
    from django.test import Client

    fill_and_save(login(Client(), province, "city"), submission, {"schools": 42})
    assert "save-ok" in save(county, submission, stale_form).content.decode()
    assert Value.objects.get(place__code=COUNTY, indicator__code="schools").value == 42.0


def test_text_in_a_numeric_field_is_refused_and_nothing_is_stored(client, province):
    login(client, province, "county")
    submission = open_submission(client, province)
    response = save(client, submission, form_data(client, submission, {"schools": "四十"}))
    body = response.content.decode()
    assert "save-refused" in body and "schools" in body and "四十" in body
    assert not Value.objects.filter(place__code=COUNTY).exists()


def test_validation_messages_show_inline(client, province):
    login(client, province, "county")
    submission = open_submission(client, province)
    response = save(
        client, submission, form_data(client, submission, {**GOOD_VALUES, "share_a": 140})
    )
    body = response.content.decode()
    assert 'data-testid="issue-share_a"' in body and "has-error" in body


def test_county_cannot_open_or_save_another_countys_form(client, province):
    login(client, province, "sibling")
    sibling_submission = open_submission(client, province, "360103")
    login(client, province, "county")
    assert client.get(entry_url(province, "360103")).status_code == 403
    url = reverse("collection:submission", args=[sibling_submission.pk])
    assert client.get(url).status_code == 404
    data = {f"value-{i.pk}": "1" for i in province.indicators.values()}
    assert save(client, sibling_submission, data).status_code == 404
    assert step(client, sibling_submission, "submit").status_code == 404
    assert not Value.objects.filter(place__code="360103").exists()


def test_department_filler_fills_only_its_indicators(client, province):
    login(client, province, "housing")
    part = open_submission(client, province)
    assert part.department == province.departments["housing"]
    page = client.get(reverse("collection:submission", args=[part.pk]))
    codes = [r["indicator"].code for _d, rows in page.context["groups"] for r in rows]
    assert codes == ["green_space_rate", "park_green_area_per_capita"]
    assert "save-ok" in save(client, part, form_data(client, part, GOOD_VALUES)).content.decode()
    # The county's whole form shows the department only its own indicators, and a value
    # posted for another department's indicator is refused with the reason.
    whole = services.submission_for(province.round, province.places[COUNTY], Source.SELF_CHECK)
    data = form_data(client, whole)
    schools = province.indicators["schools"].pk
    assert f"value-{schools}" not in data
    data.update({f"value-{schools}": "3", f"version-{schools}": 0})
    response = save(client, whole, data)
    assert "不属于您的部门" in response.content.decode()
    assert not Value.objects.filter(indicator__code="schools").exists()


def test_evaluator_enters_third_party_values_only_for_its_places(client, province):
    login(client, province, "evaluator")
    submission = open_submission(client, province, COUNTY, Source.SELF_CHECK)
    assert submission.source == Source.THIRD_PARTY
    fill_and_save(client, submission)
    # It owes (and its form shows) only the indicators measured from spatial data.
    assert Value.objects.filter(source=Source.THIRD_PARTY, place__code=COUNTY).count() == 2
    assert client.get(entry_url(province, "360104")).status_code == 403


# --------------------------------------------------------------------------- workflow


def test_submit_return_resubmit_approve_accept_through_the_pages(client, province):
    county = login(client, province, "county")
    submission = open_submission(county, province)
    fill_and_save(county, submission)
    step(county, submission, "submit")
    assert status_of(submission) == SubmissionStatus.SUBMITTED
    from django.test import Client

    city = login(Client(), province, "city")
    awaiting = city.get(reverse("collection:round", args=[province.round.pk]))
    assert [s.place.code for s in awaiting.context["awaiting"]] == [COUNTY]
    page = city.get(reverse("collection:submission", args=[submission.pk]))
    assert {"approve", "return"} <= page.context["steps"]
    step(city, submission, "return", "学校数量请核实")
    assert status_of(submission) == SubmissionStatus.RETURNED
    comment = ValueComment.objects.get(submission=submission, event="returned")
    assert comment.text == "学校数量请核实"
    assert (
        "学校数量请核实"
        in county.get(reverse("collection:submission", args=[submission.pk])).content.decode()
    )

    fill_and_save(county, submission, {"schools": 41})
    step(county, submission, "submit")
    step(city, submission, "approve")
    assert status_of(submission) == SubmissionStatus.CITY_APPROVED
    province_client = login(Client(), province, "reviewer")
    step(province_client, submission, "accept")
    assert status_of(submission) == SubmissionStatus.ACCEPTED


def test_refusals_are_shown_and_change_nothing(client, province):
    county = login(client, province, "county")
    submission = open_submission(county, province)
    response = step(county, submission, "submit")  # nothing filled: required values missing
    assert status_of(submission) == SubmissionStatus.DRAFT
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any("缺少数值" in m for m in shown)
    fill_and_save(county, submission)
    step(county, submission, "submit")
    step(county, submission, "approve")  # a county cannot approve its own data
    assert status_of(submission) == SubmissionStatus.SUBMITTED
    from django.test import Client

    city = login(Client(), province, "city")
    step(city, submission, "return")  # a return needs a comment
    assert status_of(submission) == SubmissionStatus.SUBMITTED
    other_city = login(Client(), province, "other_city")
    assert step(other_city, submission, "approve").status_code == 404
    assert status_of(submission) == SubmissionStatus.SUBMITTED
    # Locked: a draft save on submitted data is refused.
    assert (
        "已锁定"
        in save(county, submission, form_data(county, submission, {"schools": 1})).content.decode()
    )


def test_revision_request_reopens_approved_data_with_the_reason_kept(client, province):
    users = province.users
    services.save_values(province.round, province.entries(COUNTY), acting_user=users["county"])
    submission = province.submission(COUNTY)
    workflow.submit_submission(submission, acting_user=users["county"])
    workflow.approve_submission(submission, acting_user=users["city"])
    login(client, province, "county")
    client.post(
        reverse("collection:submission_revision", args=[submission.pk]), {"reason": "口径调整"}
    )
    revision = submission.revisions.get()
    assert revision.reason == "口径调整" and revision.status == RevisionStatus.PENDING
    from django.test import Client

    city = login(Client(), province, "city")
    city.post(reverse("collection:revision_decide", args=[revision.pk]), {"grant": "1"})
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.GRANTED
    assert status_of(submission) == SubmissionStatus.RETURNED


def test_city_form_shows_the_counties_rollup_and_flags_disagreement(client, province):
    users = province.users
    for code, user in ((COUNTY, "county"), ("360103", "sibling")):
        services.save_values(
            province.round, province.entries(code, {"schools": 40.0}), acting_user=users[user]
        )
    services.save_values(
        province.round, province.entries("360100", {"schools": 100.0}), acting_user=users["city"]
    )
    login(client, province, "city")
    submission = open_submission(client, province, "360100")
    body = client.get(reverse("collection:submission", args=[submission.pk])).content.decode()
    rollup_cell = body.split('data-testid="rollup-schools"')[1].split("</td>")[0]
    assert "80" in rollup_cell and "不一致" in rollup_cell


# --------------------------------------------------------------------------- comments, evidence


def test_comment_and_evidence_of_allowed_and_forbidden_types(client, province):
    login(client, province, "county")
    submission = open_submission(client, province)
    client.post(reverse("collection:submission_comment", args=[submission.pk]), {"text": "已核"})
    assert ValueComment.objects.get(submission=submission).text == "已核"
    url = reverse("collection:submission_evidence", args=[submission.pk])
    pdf = io.BytesIO(b"%PDF-1.4 minimal")
    pdf.name = "report.pdf"
    client.post(url, {"file": pdf})
    assert Evidence.objects.get(submission=submission).content_kind == "pdf"
    script = io.BytesIO(b"MZ\x90\x00 not a pdf")
    script.name = "tool.pdf"
    response = client.post(url, {"file": script}, follow=True)
    assert "类型不允许" in response.content.decode()
    assert Evidence.objects.filter(submission=submission).count() == 1


# --------------------------------------------------------------------------- Excel


def test_excel_download_fill_upload_preview_confirm(client, province):
    login(client, province, "county")
    submission = open_submission(client, province)
    response = client.get(reverse("collection:submission_template", args=[submission.pk]))
    assert response["Content-Disposition"].endswith(f'{COUNTY}.xlsx"')
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook[COUNTY]
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, 7).value = GOOD_VALUES[sheet.cell(row, 1).value]
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "filled.xlsx"
    preview = client.post(
        reverse("collection:submission_upload", args=[submission.pk]), {"file": buffer}, **HTMX
    )
    body = preview.content.decode()
    assert 'data-testid="upload-diff"' in body and "中小学数量" in body
    assert not Value.objects.filter(place__code=COUNTY).exists()
    token = preview.context["preview"].token
    client.post(reverse("collection:upload_confirm", args=[submission.pk]), {"token": token})
    stored = dict(Value.objects.filter(place__code=COUNTY).values_list("indicator__code", "value"))
    assert stored == GOOD_VALUES
    assert set(ValueChange.objects.values_list("channel", flat=True)) == {ChangeChannel.EXCEL}


def test_bad_uploads_are_refused_naming_sheet_row_and_column(client, province):
    login(client, province, "county")
    submission = open_submission(client, province)
    url = reverse("collection:submission_upload", args=[submission.pk])
    not_xlsx = io.BytesIO(b"plain text")
    not_xlsx.name = "values.csv"
    body = client.post(url, {"file": not_xlsx}, **HTMX).content.decode()
    assert 'data-testid="upload-refused"' in body
    content = client.get(reverse("collection:submission_template", args=[submission.pk])).content
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook[COUNTY]
    sheet.cell(4, 7).value = "很多"
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "filled.xlsx"
    response = client.post(url, {"file": buffer}, **HTMX)
    problems = response.context["problems"]
    assert (COUNTY, 4, "G（本年值）") in [p[:3] for p in problems]
    # A template of the sibling county is refused on this county's page.
    login(client, province, "sibling")
    other = open_submission(client, province, "360103")
    sibling_template = client.get(
        reverse("collection:submission_template", args=[other.pk])
    ).content
    login(client, province, "county")
    upload = io.BytesIO(sibling_template)
    upload.name = "sibling.xlsx"
    body = client.post(url, {"file": upload}, **HTMX).content.decode()
    assert "upload-refused" in body
    assert not Value.objects.exists()


# --------------------------------------------------------------------------- review pages


def test_discrepancies_and_adjudication_by_the_province_only(client, province):
    users = province.users
    services.save_values(province.round, province.entries(COUNTY), acting_user=users["county"])
    services.save_values(
        province.round,
        province.entries(COUNTY, {**GOOD_VALUES, "schools": 50.0}),
        source=Source.THIRD_PARTY,
        acting_user=users["evaluator"],
    )
    login(client, province, "province")
    url = reverse("collection:discrepancies", args=[province.round.pk])
    page = client.get(url)
    assert [(r["place"], r["indicator"]) for r in page.context["rows"]] == [(COUNTY, "schools")]
    assert page.context["may_adjudicate"]
    adjudicate = reverse("collection:adjudicate", args=[province.round.pk])
    form = {"place": COUNTY, "indicator": "schools", "chosen_source": "third_party"}
    client.post(adjudicate, {**form, "reason": "现场核查"})
    adjudication = Adjudication.objects.get()
    assert (adjudication.adopted_value, adjudication.decided_by.username) == (50.0, "province")
    assert "现场核查" in client.get(url).content.decode()
    login(client, province, "city")
    client.post(adjudicate, {**form, "chosen_source": "self_check", "reason": "x"})
    assert Adjudication.objects.get().adopted_value == 50.0


def test_completeness_board_rolls_up_and_links_down_with_reminders(client, province):
    users = province.users
    services.save_values(province.round, province.entries(COUNTY), acting_user=users["county"])
    workflow.submit_submission(province.submission(COUNTY), acting_user=users["county"])
    import datetime as dt

    reminders.send_reminders(today=dt.date(2024, 7, 1))
    login(client, province, "province")
    url = reverse("collection:completeness", args=[province.round.pk])
    page = client.get(url)
    rollup = {row["code"]: row for row in page.context["rollup"]}
    assert rollup["360100"]["places"] == 5 and rollup["360100"]["submitted"] == 1
    assert rollup["360000"]["overdue"] == 7
    body = page.content.decode()
    assert "?source=self_check&amp;under=360400" in body
    assert "逾期" in body and page.context["reminders"]
    under = client.get(url + "?under=360400")
    assert [r["code"] for r in under.context["places"]] == ["360400", "360402"]
    login(client, province, "county")
    own = client.get(url)
    assert [r["code"] for r in own.context["places"]] == [COUNTY]
    assert client.get(url + "?under=360400").status_code == 404
    # the county's city and province are rows of its roll-up: they open, listing only its own
    for ancestor in ("360100", "360000"):
        assert f"under={ancestor}" in own.content.decode()
        opened = client.get(url + f"?under={ancestor}")
        assert [r["code"] for r in opened.context["places"]] == [COUNTY]


# --------------------------------------------------------------------------- management


def test_province_opens_a_round_and_assigns(client, province):
    login(client, province, "province")
    response = client.post(
        reverse("collection:round_open"),
        {"year": 2025, "kind": "annual", "system": province.system.pk, "deadline": "2025-06-30"},
    )
    round_ = Round.objects.get(year=2025)
    assert response.url == reverse("collection:round_assignments", args=[round_.pk])
    assert round_.places.count() == 8
    url = reverse("collection:round_assignments", args=[round_.pk])
    client.post(
        url,
        {
            "kind": "department",
            "indicator": province.indicators["schools"].pk,
            "department": province.departments["statistics"].pk,
        },
    )
    client.post(
        url,
        {
            "kind": "evaluator",
            "place": province.places["360104"].pk,
            "evaluator": province.users["evaluator"].pk,
        },
    )
    assert Assignment.objects.filter(round=round_).count() == 2
    duplicate = client.post(
        reverse("collection:round_open"),
        {"year": 2025, "kind": "annual", "system": province.system.pk, "deadline": "2025-06-30"},
    )
    assert "已存在" in duplicate.content.decode()


def test_only_the_province_manages_rounds(client, province):
    login(client, province, "city")
    assert client.get(reverse("collection:round_open")).status_code == 403
    url = reverse("collection:round_assignments", args=[province.round.pk])
    assert client.get(url).status_code == 403


def test_value_page_shows_its_audit(client, province):
    login(client, province, "county")
    submission = open_submission(client, province)
    fill_and_save(client, submission)
    fill_and_save(client, submission, {"schools": 44})
    value = Value.objects.get(place__code=COUNTY, indicator__code="schools")
    page = client.get(reverse("collection:value", args=[value.pk]))
    history = list(page.context["history"])
    assert [(c.old_value, c.new_value) for c in history] == [(40.0, 44.0), (None, 40.0)]
    assert "网页填报" in page.content.decode()
