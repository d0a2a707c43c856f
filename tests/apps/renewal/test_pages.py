"""Pages of the treatment step: library filters on table, map layer and export; Excel
upload; candidates edited and adopted; annual plan; progress board; what-if; effects."""

import datetime as dt
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from citycheck.core.choices import Role
from citycheck.diagnosis import services as diagnosis
from citycheck.diagnosis.models import Problem, ProblemStatus
from citycheck.renewal import services
from citycheck.renewal.models import ProjectStatus, RenewalProject

from .test_services import GOOD_ROW, template


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_library_filters_narrow_table_map_layer_and_export(library):
    province, (park, drainage, nanchang) = library
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    for params, expected in (
        ({}, {park, drainage, nanchang}),
        ({"project_type": "parks_and_greenways"}, {park, nanchang}),
        ({"year": 2026}, {drainage}),
        ({"place": "360400"}, {park, drainage}),  # the city and its counties
        ({"disease": "lack_of_green_space"}, {park}),
        ({"status": "candidate"}, set()),
    ):
        page = admin.get(reverse("renewal:project_list"), params).content.decode()
        assert {p for p in (park, drainage, nanchang) if p.name in page} == expected, params
        layer = admin.get(reverse("renewal-api:renewalproject-geojson"), params).json()
        assert {f["properties"]["id"] for f in layer["features"]} == {p.pk for p in expected}
        export = admin.get(reverse("renewal:project_export"), params)
        rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
        assert {row[1] for row in rows[1:]} == {p.name for p in expected}, params
    page = admin.get(reverse("renewal:project_list")).content.decode()
    assert "GCJ-02" in page and 'id="project-map"' in page and "vendor/echarts" in page
    assert "公园绿道建设" in page or "公园" in page  # the type's Chinese name
    feature = layer_for(admin, park)
    assert feature["properties"]["place_name"] == "浔阳区"
    assert feature["properties"]["url"] == reverse("renewal:project", args=[park.pk])


def layer_for(client, project):
    layer = client.get(reverse("renewal-api:renewalproject-geojson")).json()
    return next(f for f in layer["features"] if f["properties"]["id"] == project.pk)


def test_library_map_boundaries_and_rows_are_scoped(library):
    province, (park, _drainage, nanchang) = library
    city = client_for(province.users[Role.CITY_ADMIN])  # 南昌市
    page = city.get(reverse("renewal:project_list"))
    assert nanchang.name in page.content.decode() and park.name not in page.content.decode()
    boundaries = city.get(page.context["boundaries_url"]).json()
    assert {f["properties"]["code"] for f in boundaries["features"]} <= {
        "360100",
        "360102",
        "360103",
    }
    assert boundaries["datums"] == ["GCJ-02"]
    layer = city.get(page.context["layer_url"]).json()
    assert [f["properties"]["id"] for f in layer["features"]] == [nanchang.pk]
    export = city.get(reverse("renewal:project_export"))
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == [nanchang.name]


def upload(client, rows, tmp_path, name="upload.xlsx"):
    path = template(tmp_path / name, rows)
    file = SimpleUploadedFile(name, path.read_bytes())
    return client.post(reverse("renewal:project_import"), {"file": file})


def test_upload_shows_every_bad_cell_and_writes_nothing(province, tmp_path):
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    assert admin.get(reverse("renewal:project_import")).status_code == 200
    bad_place = ["999999", *GOOD_ROW[1:]]
    bad_budget = [*GOOD_ROW[:4], "很多", *GOOD_ROW[5:]]
    answer = upload(admin, [GOOD_ROW, bad_place, bad_budget], tmp_path)
    page = answer.content.decode()
    assert answer.status_code == 400
    assert "项目库!A3" in page and "项目库!E4" in page and "未导入任何项目" in page
    assert RenewalProject.objects.count() == 0
    not_excel = admin.post(
        reverse("renewal:project_import"), {"file": SimpleUploadedFile("x.xlsx", b"nope")}
    )
    assert not_excel.status_code == 400 and "x.xlsx" in not_excel.content.decode()
    answer = upload(admin, [GOOD_ROW], tmp_path)
    assert answer.status_code == 302 and RenewalProject.objects.count() == 1


def test_upload_refuses_places_out_of_reach(province, tmp_path):
    nanchang = client_for(province.users[Role.CITY_ADMIN])
    answer = upload(nanchang, [GOOD_ROW], tmp_path)  # 浔阳区 is under 九江市
    assert answer.status_code == 400 and "项目库!A2" in answer.content.decode()
    assert RenewalProject.objects.count() == 0
    public = client_for(province.users[Role.PUBLIC])
    assert public.get(reverse("renewal:project_import")).status_code == 403


def test_candidates_are_proposed_edited_adopted_and_form_the_annual_plan(province):
    diagnosis.run_diagnosis(province.open_round)
    for problem in Problem.objects.filter(round=province.open_round):
        diagnosis.review_problem(
            problem, status=ProblemStatus.CONFIRMED, reason="已核实", acting_user=None
        )
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    answer = admin.post(reverse("renewal:project_propose"), {"year": 2024})
    assert answer.url == reverse("renewal:candidate_list")
    page = admin.get(reverse("renewal:candidate_list")).content.decode()
    candidates = list(RenewalProject.objects.filter(status=ProjectStatus.CANDIDATE))
    assert len(candidates) >= 3 and all(c.name in page for c in candidates)
    assert "城市内涝" in page  # the problems each candidate addresses

    sponge = RenewalProject.objects.get(project_type="sponge_city")
    edit = reverse("renewal:project_edit", args=[sponge.pk])
    form = {
        "name": "浔阳区海绵城市示范片区",
        "budget": "9000",
        "start": "2025-03-01",
        "end": "2026-06-30",
        "other_unit": "浔阳区住建局",
        "target_indicator": ["green_space", "waterlogging", ""],
        "target_change": ["0.5", "-1", ""],
    }
    backwards = admin.post(edit, {**form, "end": "2024-01-01"})
    assert backwards.status_code == 400 and "完工时间早于开工时间" in backwards.content.decode()
    admin.post(edit, {**form, "adopt": "1"})
    sponge.refresh_from_db()
    assert sponge.name == "浔阳区海绵城市示范片区" and sponge.status == ProjectStatus.ADOPTED
    assert sponge.targets == [
        {"indicator": "green_space", "expected_change": 0.5},
        {"indicator": "waterlogging", "expected_change": -1.0},
    ]
    assert admin.post(edit, form).status_code == 400  # adopted: no longer a candidate

    drainage = RenewalProject.objects.get(project_type="drainage_works")
    admin.post(reverse("renewal:candidate_list"), {"project": [drainage.pk]})
    drainage.refresh_from_db()
    assert drainage.status == ProjectStatus.ADOPTED

    plan = admin.get(reverse("renewal:annual_plan"), {"year": 2025}).content.decode()
    assert sponge.name in plan and drainage.name in plan
    still_candidates = RenewalProject.objects.filter(status=ProjectStatus.CANDIDATE)
    assert all(c.name not in plan for c in still_candidates)
    export = admin.get(reverse("renewal:annual_plan_export"), {"year": 2025})
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    assert {row[1] for row in rows[1:]} == {sponge.name, drainage.name}


def test_candidates_of_other_places_cannot_be_edited_or_adopted(province):
    diagnosis.run_diagnosis(province.open_round)
    for problem in Problem.objects.filter(round=province.open_round):
        diagnosis.review_problem(
            problem, status=ProblemStatus.CONFIRMED, reason="已核实", acting_user=None
        )
    (candidate, *_rest) = services.propose_projects(province.open_round)  # all in 浔阳区
    nanchang = client_for(province.users[Role.CITY_ADMIN])
    assert nanchang.get(reverse("renewal:project_edit", args=[candidate.pk])).status_code == 404
    nanchang.post(reverse("renewal:candidate_list"), {"project": [candidate.pk]})
    candidate.refresh_from_db()
    assert candidate.status == ProjectStatus.CANDIDATE
    assert candidate.name not in nanchang.get(reverse("renewal:candidate_list")).content.decode()


def test_progress_board_has_chinese_columns_and_visible_flags(library):
    province, (park, _drainage, _nanchang) = library
    services.report_progress(park, month=dt.date(2025, 4, 1), percent_complete=5)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("renewal:progress_board"), {"as_of": "2025-09"}).content.decode()
    for label in ("计划进度（%）", "实际进度（%）", "按城市", "按项目类型", "按城市病", "滞后项目"):
        assert label in page
    assert "expected_percent" not in page and "investment_share" not in page
    assert "flag-late" in page and "flag-stalled" in page
    assert "九江市" in page and "城市内涝" not in page.split("按城市病")[0][-5:]
    assert "绿地不足" in page.split("按城市病")[1]  # disease roll-up by Chinese name


def test_what_if_page_projects_values_warnings_and_index(library):
    province, (park, drainage, _nanchang) = library
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("renewal:what_if"), {"round": 2024, "place": "360403"})
    text = page.content.decode()
    assert page.status_code == 200 and park.name in text and drainage.name in text
    rows = {row["indicator"]: row for row in page.context["result"]["indicators"]}
    assert rows["green_space"]["projected"] == pytest.approx(9.6)
    assert rows["waterlogging"]["projected"] == pytest.approx(1.0)  # 3 - 1 - 1
    index = page.context["result"]["index"]
    # A relative index: still last among the counties on both indicators, so no change.
    assert index["projected"] == index["current"] == 0
    assert 'id="index"' in text and "人均公园绿地面积" in text and "相对位置" in text
    park.targets = [{"indicator": "green_space", "expected_change": 4.0}]  # 13 > 濂溪区 12.5
    park.save()
    index = admin.get(reverse("renewal:what_if"), {"round": 2024, "place": "360403"}).context[
        "result"
    ]["index"]
    assert index["projected"] > index["current"]
    county = client_for(province.users[Role.COUNTY_ADMIN])
    assert (
        county.get(reverse("renewal:what_if"), {"round": 2024, "place": "360403"}).status_code
        == 404
    )


def test_effects_page_says_too_few_places_plainly(library):
    province, (park, _drainage, _nanchang) = library
    services.report_progress(park, month=dt.date(2025, 12, 1), percent_complete=100)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("renewal:effects"), {"round": 2024})
    text = page.content.decode()
    assert page.status_code == 200 and "无法得出结论" in text and "实施地区数" in text
    assert all(not row["conclusive"] for row in page.context["rows"])
    county = client_for(province.users[Role.COUNTY_ADMIN])
    assert county.get(reverse("renewal:effects"), {"round": 2024}).status_code == 403
    assert admin.get(reverse("renewal:effects"), {"round": 1999}).status_code == 404
