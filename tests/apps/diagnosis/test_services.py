"""Diagnosis in the platform: problem lists, review, re-check, export, commands."""

from io import StringIO

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.diagnosis import services
from citycheck.diagnosis.models import Problem, ProblemStatus, RecheckStatus


def problems_of(round_):
    return sorted(
        (p.place.name_zh, p.disease, p.severity) for p in round_.problems.select_related("place")
    )


def test_run_diagnosis_writes_the_problem_list(province):
    services.run_diagnosis(province.open_round)
    assert problems_of(province.open_round) == [
        ("浔阳区", "lack_of_green_space", "moderate"),
        ("浔阳区", "waterlogging", "moderate"),
    ]
    green = Problem.objects.get(round=province.open_round, disease="lack_of_green_space")
    assert green.explanation.startswith(
        "浔阳区存在绿地不足问题（较重）：人均公园绿地面积9m²/人，低于标准12（差3）"
    )
    assert "第4/4名" in green.explanation  # peers: the four counties of class medium
    assert green.departments == ["住房城乡建设部门"]
    assert green.evidence[0]["indicator"] == "green_space" and green.evidence[0]["value"] == 9.0
    assert ChangeRecord.objects.filter(event="diagnosed").exists()


def test_rerun_is_idempotent_and_keeps_reviews(province):
    services.run_diagnosis(province.open_round)
    problem = Problem.objects.get(round=province.open_round, disease="waterlogging")
    services.review_problem(
        problem, status=ProblemStatus.CONFIRMED, reason="已核实", acting_user=None
    )
    services.run_diagnosis(province.open_round)
    assert Problem.objects.filter(round=province.open_round).count() == 2
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.CONFIRMED and problem.status_reason == "已核实"


def test_review_needs_a_reason_and_the_right_place(province):
    services.run_diagnosis(province.open_round)
    problem = Problem.objects.get(round=province.open_round, disease="waterlogging")  # 浔阳区
    with pytest.raises(services.ReviewError, match="必须填写理由"):
        services.review_problem(
            problem, status=ProblemStatus.DISMISSED, reason=" ", acting_user=None
        )
    nanchang = province.users[Role.CITY_ADMIN]  # 南昌市: not 浔阳区's city
    with pytest.raises(services.ReviewError, match="无权"):
        services.review_problem(
            problem, status=ProblemStatus.DISMISSED, reason="误报", acting_user=nanchang
        )
    admin = province.users[Role.PROVINCE_ADMIN]
    services.review_problem(
        problem, status=ProblemStatus.DISMISSED, reason="数据口径不一致", acting_user=admin
    )
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.DISMISSED and problem.reviewed_by == admin
    assert ChangeRecord.objects.filter(event="dismissed", note="数据口径不一致").exists()


def test_problems_are_scoped_to_the_users_reach(province):
    services.run_diagnosis(province.open_round)
    assert Problem.objects.restrict(province.users[Role.CITY_ADMIN]).count() == 0
    assert Problem.objects.restrict(province.users[Role.PROVINCE_ADMIN]).count() == 2
    assert Problem.objects.restrict(province.users[Role.PUBLIC]).count() == 0


def test_recheck_classifies_the_earlier_problems_and_links_history(province):
    services.run_diagnosis(province.published_round)
    assert problems_of(province.published_round) == [("东湖区", "waterlogging", "moderate")]
    result = services.recheck_round(province.open_round)
    assert result[["place", "status"]].values.tolist() == [["360102", "resolved"]]
    earlier = Problem.objects.get(round=province.published_round)
    assert earlier.recheck_status == RecheckStatus.RESOLVED and earlier.recheck_year == 2024
    assert "已解决" in earlier.recheck_explanation and "已达标" in earlier.recheck_explanation
    # The 2024 problems are new: first seen in 2024, no earlier problem to link.
    assert set(
        Problem.objects.filter(round=province.open_round).values_list("first_year", flat=True)
    ) == {2024}


def test_export_problems_to_excel(province, tmp_path):
    services.run_diagnosis(province.open_round)
    path = tmp_path / "problems.xlsx"
    assert services.export_problems(province.open_round, path) == 2
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("地区代码", "地区", "城市病")
    assert {row[2] for row in rows[1:]} == {"绿地不足", "城市内涝"}
    problem = province.open_round.problems.first()
    problem.departments = ["housing", "市园林局"]  # a code and free text
    problem.save()
    services.export_problems(province.open_round, path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    departments = rows[0].index("责任单位")
    assert "住房城乡建设部门、市园林局" in {row[departments] for row in rows[1:]}
    scoped = tmp_path / "nanchang.xlsx"
    assert (
        services.export_problems(province.open_round, scoped, user=province.users[Role.CITY_ADMIN])
        == 0
    )


def test_commands(province, tmp_path):
    out = StringIO()
    call_command("diagnose", "--round", "2023", stdout=out)
    call_command("diagnose", "--round", "2024", stdout=out)
    assert "2024: 2 problems in 1 places." in out.getvalue()
    call_command("recheck", "--round", "2024", stdout=out)
    assert "1 problems re-checked: resolved 1" in out.getvalue()
    path = tmp_path / "p.xlsx"
    call_command("problems", "export", "--round", "2024", "-o", str(path), stdout=out)
    assert path.exists() and "2 problems written" in out.getvalue()
