"""Pages found wanting on the demo: what-if for a round without values, the effects page
for users without the whole round, the project map without locations, English mode."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from citycheck.collection.models import RoundStatus, Source, Value
from citycheck.core.choices import Role
from citycheck.diagnosis import services as diagnosis
from citycheck.diagnosis.models import Problem, ProblemStatus
from citycheck.renewal import services
from citycheck.renewal.models import RenewalProject
from citycheck.testing import build_round

from .test_api import client_for as api_client_for
from .test_pages import client_for


@pytest.fixture
def round_being_filled(province):
    """2025, open, with self-check values only (like the demo's current round)."""
    round_ = build_round(province.system, province.places, year=2025, status=RoundStatus.OPEN)
    Value.objects.create(
        round=round_,
        place=province.places["other_county_2"],
        indicator=province.indicators["green_space"],
        source=Source.SELF_CHECK,
        value=9.5,
    )
    return round_


def test_what_if_offers_only_rounds_with_values_latest_first(library, round_being_filled):
    province, _projects = library
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("renewal:what_if"))
    assert [r.year for r in page.context["rounds"]] == [2024, 2023]
    assert 'value="2025"' not in page.content.decode()


def test_what_if_for_a_round_without_values_says_so_on_the_page(library, round_being_filled):
    province, _projects = library
    for role in (Role.PROVINCE_ADMIN, Role.CITY_ADMIN):
        user_client = client_for(province.users[role])
        place = "360403" if role == Role.PROVINCE_ADMIN else "360102"
        page = user_client.get(reverse("renewal:what_if"), {"round": 2025, "place": place})
        text = page.content.decode()
        assert page.status_code == 400, role
        assert 'id="what-if-error"' in text and "2025 年体检还没有采信值" in text
        assert page.context["result"] is None


def test_what_if_api_names_the_field_it_cannot_use(library, round_being_filled):
    province, _projects = library
    admin = api_client_for(province.users[Role.PROVINCE_ADMIN])
    answer = admin.get(reverse("renewal-api:what-if"), {"round": 2025, "place": "360403"})
    assert answer.status_code == 400 and "2025" in answer.json()["round"]
    Value.objects.filter(
        round=province.open_round, place=province.places["other_county_2"], source=Source.ADOPTED
    ).delete()
    answer = admin.get(reverse("renewal-api:what-if"), {"round": 2024, "place": "360403"})
    assert answer.status_code == 400 and "浔阳区" in answer.json()["place"]


WITHOUT_THE_WHOLE_ROUND = (
    Role.PUBLIC,
    Role.EVALUATOR,
    Role.CITY_ADMIN,
    Role.DEPARTMENT_FILLER,
    Role.COUNTY_ADMIN,
)


def effects_link(html: str) -> bool:
    return f'href="{reverse("renewal:effects")}"' in html


def test_effects_link_only_for_users_who_see_the_whole_round(library):
    province, _projects = library
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    assert effects_link(admin.get(reverse("renewal:project_list")).content.decode())
    for role in WITHOUT_THE_WHOLE_ROUND:
        user_client = client_for(province.users[role])
        for url in (reverse("renewal:project_list"), reverse("diagnosis:problem_list")):
            assert not effects_link(user_client.get(url).content.decode()), (role, url)


def test_effects_page_explains_the_refusal_with_status_403(library):
    province, _projects = library
    for role in WITHOUT_THE_WHOLE_ROUND:
        user_client = client_for(province.users[role])
        for params in ({}, {"round": 2024}):
            page = user_client.get(reverse("renewal:effects"), params)
            text = page.content.decode()
            assert page.status_code == 403, (role, params)
            assert "项目成效评估仅对全省范围的用户开放" in text and 'id="effects-refusal"' in text
            assert 'name="round"' not in text  # no form that cannot be used
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    assert admin.get(reverse("renewal:effects")).status_code == 200


def test_project_map_says_when_no_project_has_a_location(library):
    province, _projects = library
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("renewal:project_list"))
    assert 'id="no-locations-note"' not in page.content.decode()
    # Regions of the map (the province and its cities) with their number of projects.
    assert page.context["projects_by_region"] == {"360000": 3, "360400": 2, "360100": 1}
    RenewalProject.objects.update(location=None)
    page = admin.get(reverse("renewal:project_list"))
    text = page.content.decode()
    assert 'id="no-locations-note"' in text and "都没有填写经纬度" in text
    assert 'id="projects-by-region"' in text
    # The note follows the filters: the 2026 project alone has no location either.
    RenewalProject.objects.filter(year=2025).update(
        location={"type": "Point", "coordinates": [1, 2]}
    )
    page = admin.get(reverse("renewal:project_list"), {"year": 2026})
    assert 'id="no-locations-note"' in page.content.decode()
    assert page.context["projects_by_region"] == {"360000": 1, "360400": 1}


def english_client(user):
    client = client_for(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_english_pages_name_project_types_in_english(library):
    province, (park, _drainage, _nanchang) = library
    services.report_progress(park, month=dt.date(2025, 3, 1), percent_complete=20)
    admin = english_client(province.users[Role.PROVINCE_ADMIN])
    library_page = admin.get(reverse("renewal:project_list")).content.decode()
    board = admin.get(reverse("renewal:progress_board"), {"as_of": "2025-09"}).content.decode()
    for page in (library_page, board):
        assert "Parks and greenways" in page and "公园绿地和绿道建设" not in page
    assert "Drainage and waterlogging works" in library_page
    with translation.override("en"):
        assert services.project_type_names()["historic_district_protection"] == (
            "Historic-district protection"
        )
    with translation.override("zh-hans"):
        assert services.project_type_names()["historic_district_protection"] == "历史文化街区保护"


def test_english_progress_board_explains_flags_in_english(library):
    province, (park, _drainage, _nanchang) = library
    services.report_progress(park, month=dt.date(2025, 3, 1), percent_complete=20)
    admin = english_client(province.users[Role.PROVINCE_ADMIN])
    board = admin.get(reverse("renewal:progress_board"), {"as_of": "2025-09"})
    text = board.content.decode()
    assert "Behind schedule: 70% planned, 20% done, 50 percentage points behind" in text
    assert "no progress for 6 months in a row" in text
    assert "进度滞后" not in text and "无进展" not in text
    chinese = client_for(province.users[Role.PROVINCE_ADMIN])
    text = chinese.get(reverse("renewal:progress_board"), {"as_of": "2025-09"}).content.decode()
    assert "进度滞后：计划应完成 70%，实际 20%，落后 50 个百分点；已连续 6 个月无进展" in text


@pytest.fixture
def candidates(province):
    diagnosis.run_diagnosis(province.open_round)
    for problem in Problem.objects.filter(round=province.open_round):
        diagnosis.review_problem(
            problem, status=ProblemStatus.CONFIRMED, reason="已核实", acting_user=None
        )
    return province, services.propose_projects(province.open_round)


def test_priority_explanation_follows_the_language(candidates):
    province, projects = candidates
    with translation.override("zh-hans"):
        for project in projects:
            # In Chinese the rebuilt explanation is the engine's own text.
            assert project.explain_priority() == project.priority_explanation
    sponge = next(p for p in projects if p.project_type == "sponge_city")
    admin = english_client(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("renewal:candidate_list")).content.decode()
    with translation.override("en"):
        english = sponge.explain_priority()
    assert english.startswith(f"Priority {sponge.priority:.1f} = Severity ")
    assert "no satisfaction data, taken as medium" in english and "budget" in english
    assert f'title="{english}"' in page.replace("&#x27;", "'")
    assert "Sponge-city works" in page and "海绵城市建设</td>" not in page
    assert "优先级" not in page.split('id="candidates"')[1]
