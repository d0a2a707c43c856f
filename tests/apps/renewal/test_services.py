"""Projects in the platform: proposal, lifecycle, monthly progress, Excel import/export."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from citycheck.core.choices import Role
from citycheck.diagnosis import services as diagnosis
from citycheck.diagnosis.models import Problem, ProblemStatus
from citycheck.renewal import services
from citycheck.renewal.models import ProgressReport, ProjectStatus, RenewalProject


@pytest.fixture
def confirmed(province):
    diagnosis.run_diagnosis(province.open_round)
    for problem in Problem.objects.filter(round=province.open_round):
        diagnosis.review_problem(
            problem, status=ProblemStatus.CONFIRMED, reason="已核实", acting_user=None
        )
    return province


def test_candidates_from_confirmed_problems_with_explained_priority(confirmed):
    projects = services.propose_projects(confirmed.open_round)
    by_type = {p.project_type: p for p in projects}
    assert {"parks_and_greenways", "drainage_works", "sponge_city"} <= set(by_type)
    sponge = by_type["sponge_city"]
    assert sponge.name == "浔阳区海绵城市建设" and sponge.year == 2025
    assert {p.disease for p in sponge.problems.all()} == {"lack_of_green_space", "waterlogging"}
    assert sponge.status == ProjectStatus.CANDIDATE
    assert set(sponge.priority_components) == {"severity", "demand", "urgency", "cost"}
    assert sponge.priority_explanation.startswith(f"优先级 {sponge.priority:.1f} 分")
    assert (sponge.end - sponge.start).days > 600  # 24 months
    # Proposing again adds nothing.
    assert services.propose_projects(confirmed.open_round) == []


def test_dismissed_problems_give_no_candidates(province):
    diagnosis.run_diagnosis(province.open_round)
    assert services.propose_projects(province.open_round) == []


def test_lifecycle_adopt_report_finish_and_flags(confirmed):
    project = next(
        p
        for p in services.propose_projects(confirmed.open_round)
        if p.project_type == "drainage_works"
    )
    services.set_project_status(project, ProjectStatus.ADOPTED, acting_user=None)
    services.report_progress(project, month=dt.date(2025, 3, 1), percent_complete=5, investment=300)
    project.refresh_from_db()
    assert project.status == ProjectStatus.IN_PROGRESS
    board = services.progress_board(as_of=dt.date(2025, 9, 1))
    flags = board.flags.loc[project.pk]
    assert flags["late"] and flags["stalled"]  # expected ~38 % by September, 5 % since March
    assert board.by_city.loc["360400", "late"] == 1
    assert board.by_disease.loc["waterlogging", "projects"] == 1
    services.report_progress(
        project, month=dt.date(2025, 9, 1), percent_complete=100, investment=9000
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.FINISHED
    assert not services.progress_board(as_of=dt.date(2025, 9, 1)).flags.loc[project.pk, "late"]
    with pytest.raises(ValueError, match="0 到 100"):
        services.report_progress(project, month=dt.date(2025, 10, 1), percent_complete=120)


def test_progress_board_is_scoped(confirmed):
    project = services.propose_projects(confirmed.open_round)[0]
    services.set_project_status(project, ProjectStatus.ADOPTED, acting_user=None)
    nanchang = confirmed.users[Role.CITY_ADMIN]
    assert services.progress_board(as_of=dt.date(2025, 5, 1), user=nanchang).flags.empty
    province_admin = confirmed.users[Role.PROVINCE_ADMIN]
    assert len(services.progress_board(as_of=dt.date(2025, 5, 1), user=province_admin).flags) == 1


def template(path, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = services.TEMPLATE_SHEET
    sheet.append([label for label, _field in services.TEMPLATE_COLUMNS])
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


GOOD_ROW = [
    "360403",
    "浔阳区滨江口袋公园",
    "parks_and_greenways",
    2025,
    1200,
    "2025-03-01",
    "2025-12-31",
    "浔阳区住建局",
    116.0,
    29.7,
    "green_space:0.6; waterlogging:-1",
    "中央补助:500; 地方财政:700",
    "",
]


def test_import_projects_from_the_template(confirmed, tmp_path):
    problem = Problem.objects.get(round=confirmed.open_round, disease="lack_of_green_space")
    row = [*GOOD_ROW[:-1], str(problem.pk)]
    projects = services.import_projects(template(tmp_path / "ok.xlsx", [row, GOOD_ROW]))
    assert len(projects) == 2
    park = projects[0]
    assert park.status == ProjectStatus.ADOPTED and park.location == {
        "type": "Point",
        "coordinates": [116.0, 29.7],
    }
    assert park.targets == [
        {"indicator": "green_space", "expected_change": 0.6},
        {"indicator": "waterlogging", "expected_change": -1.0},
    ]
    assert park.funding[0] == {"source": "中央补助", "amount": 500.0}
    assert list(park.problems.all()) == [problem]


def test_a_bad_template_names_cells_and_writes_nothing(confirmed, tmp_path):
    bad_place = ["999999", *GOOD_ROW[1:]]
    backwards = [*GOOD_ROW[:5], "2025-12-31", "2025-03-01", *GOOD_ROW[7:]]
    bad_target = [*GOOD_ROW[:10], "green_space=0.6", *GOOD_ROW[11:]]
    path = template(tmp_path / "bad.xlsx", [GOOD_ROW, bad_place, backwards, bad_target])
    with pytest.raises(services.ProjectImportError) as caught:
        services.import_projects(path)
    cells = [(row, column) for row, column, _message in caught.value.issues]
    assert cells == [(3, "A"), (4, "G"), (5, "K")]
    assert "项目库!A3: 未知的行政区划代码" in str(caught.value)
    assert RenewalProject.objects.count() == 0
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("projects", "import", str(path), stdout=StringIO())


def test_export_then_import_round_trip(confirmed, tmp_path):
    services.import_projects(template(tmp_path / "ok.xlsx", [GOOD_ROW]))
    out = StringIO()
    call_command("projects", "export", "-o", str(tmp_path / "library.xlsx"), stdout=out)
    assert "1 projects written" in out.getvalue()
    rows = list(load_workbook(tmp_path / "library.xlsx").active.iter_rows(values_only=True))
    assert rows[1][:3] == ("360403", "浔阳区滨江口袋公园", "parks_and_greenways")
    again = services.import_projects(tmp_path / "library.xlsx")
    first, second = RenewalProject.objects.order_by("pk")
    for field in (
        "place_id",
        "name",
        "project_type",
        "budget",
        "start",
        "end",
        "location",
        "targets",
        "funding",
    ):
        assert getattr(first, field) == getattr(second, field), field
    assert len(again) == 1


def test_propose_command(confirmed):
    out = StringIO()
    call_command("projects", "propose", "--round", "2024", stdout=out)
    assert "candidate projects proposed" in out.getvalue()
    assert ProgressReport.objects.count() == 0


def test_a_county_proposes_only_for_its_own_place(client, confirmed):
    """Issue 16 item 7: proposing from the web creates candidates only where the user may
    change data, never for another city's places."""
    county = confirmed.users[Role.COUNTY_ADMIN]
    client.force_login(county)
    response = client.post("/renewal/projects/propose/", {"year": confirmed.open_round.year})
    assert response.status_code == 302
    places = set(RenewalProject.objects.values_list("place__code", flat=True))
    assert places <= {county.place.code}
    # the province, proposing for the same round, gets 浔阳区's (the place with problems)
    services.propose_projects(
        confirmed.open_round, acting_user=confirmed.users[Role.PROVINCE_ADMIN]
    )
    assert "360403" in set(RenewalProject.objects.values_list("place__code", flat=True))
