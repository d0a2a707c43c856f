"""What an official meets on the project pages: months written either way, progress that
goes back, a priority that follows the budget, a project made from a problem, and a
what-if page that says what it is based on."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from citycheck.collection.models import Source, Value
from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.diagnosis import services as diagnosis
from citycheck.diagnosis.models import Problem, ProblemStatus
from citycheck.renewal.models import ProgressReport, ProjectStatus, RenewalProject
from citycheck.renewal.services import project_types

from .test_api import client_for as api_client_for
from .test_forms import GOOD_EDIT, client_for


@pytest.fixture
def adopted(candidate):
    park, admin, province = candidate
    park.status = ProjectStatus.ADOPTED
    park.save()
    return park, admin, province


def report(admin, project, **fields):
    return admin.post(reverse("renewal:project_report", args=[project.pk]), fields)


def test_the_month_is_a_month_picker_and_accepts_chinese_writing(adopted):
    park, admin, _province = adopted
    page = admin.get(reverse("renewal:project", args=[park.pk])).content.decode()
    assert re.search(r'<input type="month" name="month"', page)
    assert report(admin, park, month="2025年11月", percent_complete="20").status_code == 302
    assert ProgressReport.objects.get(project=park).month == dt.date(2025, 11, 1)


def test_progress_going_back_needs_a_reason_which_is_kept(adopted):
    park, admin, _province = adopted
    report(admin, park, month="2025-06", percent_complete="15")
    refused = report(admin, park, month="2025-07", percent_complete="12")
    assert refused.status_code == 400
    message = "形象进度 12% 低于 2025-06 的 15%；如确需下调（如重新核定、返工），请填写下调原因。"
    assert [str(e) for e in refused.context["report_form"].errors["lowered_reason"]] == [message]
    assert message in refused.content.decode()
    assert not ProgressReport.objects.filter(project=park, month=dt.date(2025, 7, 1)).exists()

    taken = report(
        admin, park, month="2025-07", percent_complete="12", lowered_reason="监理重新核定"
    )
    assert taken.status_code == 302
    lowered = ProgressReport.objects.get(project=park, month=dt.date(2025, 7, 1))
    assert lowered.percent_complete == 12
    record = ChangeRecord.objects.get(event="progress_lowered")
    assert record.note == "监理重新核定" and record.object_id == str(lowered.pk)
    # Going forward again needs no reason.
    assert report(admin, park, month="2025-08", percent_complete="20").status_code == 302


def test_the_priority_note_follows_an_edited_budget(candidate):
    park, admin, _province = candidate
    edit = reverse("renewal:project_edit", args=[park.pk])
    admin.post(edit, {**GOOD_EDIT, "budget": "1000"})
    park.refresh_from_db()
    cheap = park.priority
    assert "预算 1000 万元" in park.explain_priority()
    admin.post(edit, {**GOOD_EDIT, "budget": "20000"})
    park.refresh_from_db()
    assert "预算 20000 万元" in park.explain_priority() and park.priority < cheap
    page = admin.get(edit).content.decode()
    assert "预算 20000 万元" in page and "预算 1000 万元" not in page


def test_departments_and_other_units_are_stored_together(candidate):
    park, admin, _province = candidate
    admin.post(
        reverse("renewal:project_edit", args=[park.pk]),
        {**GOOD_EDIT, "departments": ["housing", "resources"], "other_unit": "市文旅局，区城管局"},
    )
    park.refresh_from_db()
    assert park.unit == "housing、resources、市文旅局、区城管局"
    page = admin.get(reverse("renewal:project", args=[park.pk])).content.decode()
    assert "住房城乡建设部门、自然资源部门、市文旅局、区城管局" in page


@pytest.fixture
def problem(province):
    """浔阳区's lack of green space in 2024, confirmed, with no project yet."""
    diagnosis.run_diagnosis(province.open_round)
    found = Problem.objects.get(round=province.open_round, disease="lack_of_green_space")
    diagnosis.review_problem(
        found, status=ProblemStatus.CONFIRMED, reason="已核实", acting_user=None
    )
    return found


def test_a_project_is_made_from_a_problem_on_its_page(problem, province):
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("diagnosis:problem", args=[problem.pk])).content.decode()
    action = reverse("renewal:project_from_problem", args=[problem.pk])
    assert f'action="{action}"' in page and "尚无针对该问题的项目" in page

    answer = admin.post(action)
    project = RenewalProject.objects.get(problems=problem)
    assert answer.url == reverse("renewal:project_edit", args=[project.pk])
    assert (project.place, project.year, project.status) == (
        problem.place,
        2025,
        ProjectStatus.CANDIDATE,
    )
    # Only indicators of the problem's system: the problem's own, short of its standard
    # here, by the shortfall to its standard: no project type of the catalogue moves it.
    assert project.targets == [{"indicator": "green_space", "expected_change": 3.0}]
    assert problem.departments == ["住房城乡建设部门"] and project.unit == "housing"
    assert project.name == "浔阳区" + project_types()[project.project_type].name_zh
    assert project.priority is not None and "预算" in project.explain_priority()
    edit = admin.get(answer.url).content.decode()
    assert "人均公园绿地面积（m²/人）</option>" in edit
    page = admin.get(reverse("diagnosis:problem", args=[problem.pk])).content.decode()
    assert project.name in page

    # Again: the same project, the problem already linked, and no copy.
    again = admin.post(action)
    assert again.url == reverse("renewal:project_edit", args=[project.pk])
    assert RenewalProject.objects.filter(problems=problem).count() == 1


def test_only_those_who_may_propose_for_the_place_see_and_use_the_action(problem, province):
    action = reverse("renewal:project_from_problem", args=[problem.pk])
    reviewer = client_for(province.users[Role.PROVINCE_REVIEWER])  # sees, may not change
    page = reviewer.get(reverse("diagnosis:problem", args=[problem.pk]))
    assert page.status_code == 200 and action not in page.content.decode()
    assert reviewer.post(action).status_code == 404
    county = client_for(province.users[Role.COUNTY_ADMIN])  # another city's county
    assert county.post(action).status_code == 404
    assert not RenewalProject.objects.exists()


def test_no_project_from_a_dismissed_problem(problem, province):
    diagnosis.review_problem(
        problem, status=ProblemStatus.DISMISSED, reason="数据错误", acting_user=None
    )
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    action = reverse("renewal:project_from_problem", args=[problem.pk])
    assert action not in admin.get(reverse("diagnosis:problem", args=[problem.pk])).content.decode()
    answer = admin.post(action, follow=True)
    assert "该问题已排除，不能据此生成项目。" in answer.content.decode()
    assert not RenewalProject.objects.exists()


def test_what_if_for_an_open_round_says_it_uses_the_values_adopted_so_far(library):
    province, _projects = library
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    what_if = reverse("renewal:what_if")
    text = admin.get(what_if, {"round": 2024, "place": "360403"}).content.decode()
    assert "2024 年体检截至目前已采信的数值（同级 4 个地区中已有 4 个）" in text
    assert 'href="?round=2023&amp;place=360403"' in text  # the latest complete round
    closed = admin.get(what_if, {"round": 2023, "place": "360403"}).content.decode()
    assert "2023 年体检的采信值（填报已截止）" in closed and 'id="what-if-latest"' not in closed


def test_what_if_without_places_to_compare_explains_the_missing_index(library):
    province, _projects = library
    Value.objects.filter(round=province.open_round, source=Source.ADOPTED).exclude(
        place=province.places["other_county_2"]
    ).delete()
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("renewal:what_if"), {"round": 2024, "place": "360403"})
    text = page.content.decode()
    assert page.status_code == 200 and page.context["result"]["index"] is None
    assert "同级地区中只有 1 个有 2024 年的数值，没有可比较的地区，无法计算相对指数。" in text
    assert 'id="index"' not in text and "→" not in text
    assert "同级 4 个地区中已有 1 个" in text


def test_what_if_shows_the_sign_of_an_index_rise(library):
    province, (park, _drainage, _nanchang) = library
    park.targets = [{"indicator": "green_space", "expected_change": 4.0}]  # passes 濂溪区
    park.save()
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("renewal:what_if"), {"round": 2024, "place": "360403"})
    change = page.context["result"]["index"]["change"]
    assert change > 0 and f"（+{change:.2f}）" in page.content.decode()


def test_the_api_asks_for_the_reason_of_lowered_progress_on_its_field(adopted):
    park, _admin, province = adopted
    api = api_client_for(province.users[Role.PROVINCE_ADMIN])
    url = reverse("renewal-api:renewalproject-report", args=[park.pk])
    api.post(url, {"month": "2025-06-01", "percent_complete": 15}, format="json")
    refused = api.post(url, {"month": "2025-07-01", "percent_complete": 12}, format="json")
    assert refused.status_code == 400 and "下调原因" in refused.json()["lowered_reason"]
    taken = api.post(
        url,
        {"month": "2025-07-01", "percent_complete": 12, "lowered_reason": "重新核定"},
        format="json",
    )
    assert taken.status_code == 200 and "lowered_reason" not in taken.json()
    assert ChangeRecord.objects.get(event="progress_lowered").note == "重新核定"


def test_the_progress_board_month_is_a_month_picker_with_a_clear_refusal(adopted):
    _park, admin, _province = adopted
    board = reverse("renewal:progress_board")
    page = admin.get(board, {"as_of": "2025年8月"})
    assert page.status_code == 200 and page.context["as_of"] == dt.date(2025, 8, 1)
    assert '<input type="month" name="as_of" value="2025-08"' in page.content.decode()
    refused = admin.get(board, {"as_of": "八月"})
    assert refused.status_code == 400
    assert "应写成“年-月”，如 2025-06 或 2025年6月；收到“八月”" in refused.content.decode()
    assert refused.context["as_of"] == dt.date.today().replace(day=1)
