"""Bad values posted to the treatment-step pages are refused on their field, in the page's
language, and nothing is written."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.renewal.models import ProgressReport, ProjectStatus, RenewalProject


def client_for(user, language=None):
    client = Client()
    client.force_login(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


GOOD_EDIT = {
    "name": "浔阳区口袋公园",
    "budget": "1200",
    "start": "2025-03-01",
    "end": "2025-12-31",
    "departments": ["housing"],
    "target_indicator": ["green_space", ""],
    "target_change": ["0.4", ""],
}


def field_errors(response, field):
    return [str(error) for error in response.context["form"].errors.get(field, [])]


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"budget": "很多"}, "budget", "输入一个数字。"),
        ({"budget": "-5"}, "budget", "确保该值大于或等于0。"),
        ({"start": "2025-13-01"}, "start", "输入一个有效的日期。"),
        ({"end": "2024-01-01"}, "end", "完工时间早于开工时间"),
        ({"name": ""}, "name", "该字段是必填项。"),
        (
            {"target_change": ["abc", ""]},
            "targets",
            "预期变化应为数值：人均公园绿地面积（m²/人） 收到“abc”",
        ),
        ({"target_indicator": ["no_such_code", ""]}, "targets", "未知的指标代码：no_such_code"),
        (
            {"target_change": ["", ""]},
            "targets",
            "指标与预期变化须成对填写：人均公园绿地面积（m²/人）",
        ),
        (
            {"departments": ["no_such_department"]},
            "departments",
            "选择一个有效的选项。 no_such_department 不在可用的选项中。",
        ),
    ],
)
def test_a_bad_edit_is_refused_on_its_field_and_nothing_changes(candidate, bad, field, message):
    park, admin, _province = candidate
    before = (park.name, park.budget, park.start, park.end, park.targets)
    records = ChangeRecord.objects.count()
    url = reverse("renewal:project_edit", args=[park.pk])
    response = admin.post(url, {**GOOD_EDIT, **bad, "adopt": "1"})
    assert response.status_code == 400
    assert message in field_errors(response, field)
    assert message in response.content.decode().replace("&#x27;", "'")  # shown on the page
    park.refresh_from_db()
    assert (park.name, park.budget, park.start, park.end, park.targets) == before
    assert park.status == ProjectStatus.CANDIDATE and ChangeRecord.objects.count() == records


def test_a_refused_edit_keeps_what_was_typed(candidate):
    park, admin, _province = candidate
    url = reverse("renewal:project_edit", args=[park.pk])
    page = admin.post(url, {**GOOD_EDIT, "budget": "很多"}).content.decode()
    assert 'value="浔阳区口袋公园"' in page and 'value="很多"' in page
    assert 'value="green_space"' in page and 'value="0.4"' in page


def test_a_good_edit_saves_and_adopts(candidate):
    park, admin, _province = candidate
    response = admin.post(
        reverse("renewal:project_edit", args=[park.pk]), {**GOOD_EDIT, "adopt": "1"}
    )
    assert response.status_code == 302
    park.refresh_from_db()
    assert (park.name, park.budget, park.status) == (
        "浔阳区口袋公园",
        1200.0,
        ProjectStatus.ADOPTED,
    )
    assert park.targets == [{"indicator": "green_space", "expected_change": 0.4}]


def test_edit_errors_are_english_on_an_english_page(candidate):
    park, _admin, province = candidate
    english = client_for(province.users[Role.PROVINCE_ADMIN], "en")
    response = english.post(
        reverse("renewal:project_edit", args=[park.pk]), {**GOOD_EDIT, "budget": "-5"}
    )
    assert field_errors(response, "budget") == ["Ensure this value is greater than or equal to 0."]


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"month": "2025/06"}, "month", "应写成“年-月”，如 2025-06 或 2025年6月；收到“2025/06”"),
        (
            {"month": "2025年13月"},
            "month",
            "应写成“年-月”，如 2025-06 或 2025年6月；收到“2025年13月”",
        ),
        ({"percent_complete": "150"}, "percent_complete", "确保该值小于或等于100。"),
        ({"percent_complete": "一半"}, "percent_complete", "输入一个数字。"),
        ({"investment": "-1"}, "investment", "确保该值大于或等于0。"),
    ],
)
def test_a_bad_monthly_report_is_shown_beside_its_field_and_not_stored(
    candidate, bad, field, message
):
    park, admin, _province = candidate
    park.status = ProjectStatus.ADOPTED
    park.save()
    reports = ProgressReport.objects.count()
    response = admin.post(
        reverse("renewal:project_report", args=[park.pk]),
        {"month": "2025-06", "percent_complete": "30", "investment": "100", **bad},
    )
    assert response.status_code == 400
    assert [str(e) for e in response.context["report_form"].errors[field]] == [message]
    assert message in response.content.decode()
    assert ProgressReport.objects.count() == reports
    park.refresh_from_db()
    assert park.status == ProjectStatus.ADOPTED  # not started by a refused report


def test_a_good_monthly_report_is_stored_for_the_first_of_the_month(candidate):
    park, admin, _province = candidate
    response = admin.post(
        reverse("renewal:project_report", args=[park.pk]),
        {"month": "2025-06", "percent_complete": "30"},
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get(project=park)
    assert (report.month, report.percent_complete, report.investment) == (
        dt.date(2025, 6, 1),
        30.0,
        None,
    )


def test_an_unknown_status_is_refused_naming_the_field(candidate):
    park, admin, _province = candidate
    url = reverse("renewal:project_status", args=[park.pk])
    response = admin.post(url, {"status": "demolished"}, follow=True)
    assert "状态：" in response.content.decode()
    park.refresh_from_db()
    assert park.status == ProjectStatus.CANDIDATE


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example"])
def test_the_status_form_never_sends_the_user_off_the_site(candidate, target):
    park, admin, _province = candidate
    url = reverse("renewal:project_status", args=[park.pk])
    response = admin.post(url, {"status": "adopted", "next": target})
    assert response["Location"] == reverse("renewal:project", args=[park.pk])
    park.refresh_from_db()
    assert park.status == ProjectStatus.ADOPTED


def test_adopting_a_project_that_is_not_a_candidate_adopts_none(candidate, library):
    park, admin, _province = candidate
    _province, (_park, drainage, _nanchang) = library
    drainage.status = ProjectStatus.CANCELLED
    drainage.save()
    response = admin.post(reverse("renewal:candidate_list"), {"project": [park.pk, drainage.pk]})
    assert response.status_code == 400
    assert str(drainage.pk) in response.content.decode()  # the refused choice is named
    park.refresh_from_db()
    drainage.refresh_from_db()
    assert (park.status, drainage.status) == (ProjectStatus.CANDIDATE, ProjectStatus.CANCELLED)


def test_a_year_that_is_not_a_number_proposes_nothing(candidate):
    _park, admin, _province = candidate
    projects = RenewalProject.objects.count()
    response = admin.post(reverse("renewal:project_propose"), {"year": "今年"}, follow=True)
    assert response.status_code == 200
    assert "体检年度：输入整数。" in response.content.decode()
    assert RenewalProject.objects.count() == projects


def test_an_import_without_a_file_is_refused_on_the_file_field(candidate):
    _park, admin, _province = candidate
    projects = RenewalProject.objects.count()
    response = admin.post(reverse("renewal:project_import"), {})
    assert response.status_code == 400
    assert field_errors(response, "file") == ["该字段是必填项。"]
    empty = SimpleUploadedFile("empty.xlsx", b"")
    response = admin.post(reverse("renewal:project_import"), {"file": empty})
    assert response.status_code == 400 and field_errors(response, "file")
    assert RenewalProject.objects.count() == projects
