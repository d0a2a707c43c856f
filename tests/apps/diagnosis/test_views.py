"""Diagnosis pages: filtered and scoped Excel export, the re-check view with recurring
problems; the diagnosis reads a published year from its release."""

from io import BytesIO
from urllib.parse import quote

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.collection.models import Source, Value
from citycheck.core.choices import Role
from citycheck.diagnosis import services
from citycheck.diagnosis.models import Problem, RecheckStatus
from citycheck.diagnosis.views import ProblemListView


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def exported(answer):
    return list(load_workbook(BytesIO(answer.content)).active.iter_rows(values_only=True))


def test_problem_export_follows_the_filters_and_the_reach(province):
    services.run_diagnosis(province.open_round)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("diagnosis:problem_list"), {"year": 2024}).content.decode()
    assert reverse("diagnosis:problem_export") + "?year=2024" in page
    rows = exported(admin.get(reverse("diagnosis:problem_export"), {"year": 2024}))
    assert rows[0][:3] == ("地区代码", "地区", "城市病")
    assert sorted(row[2] for row in rows[1:]) == ["城市内涝", "绿地不足"]
    rows = exported(admin.get(reverse("diagnosis:problem_export"), {"disease": "waterlogging"}))
    assert [row[2] for row in rows[1:]] == ["城市内涝"]  # latest round by default
    nanchang = client_for(province.users[Role.CITY_ADMIN])
    assert exported(nanchang.get(reverse("diagnosis:problem_export"), {"year": 2024}))[1:] == []
    assert Client().get(reverse("diagnosis:problem_export")).status_code == 302


def test_recheck_page_lists_every_earlier_problem_and_recurring_ones(province):
    # 浔阳区 already waterlogged in 2023, so its 2024 problem recurs.
    province.adopt(province.published_round, "other_county_2", "waterlogging", 3)
    services.run_diagnosis(province.published_round)
    services.recheck_round(province.open_round)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    answer = admin.get(reverse("diagnosis:recheck"), {"year": 2024})
    page = answer.content.decode()
    earlier = list(answer.context["earlier"])
    assert {(p.place.name_zh, p.disease) for p in earlier} == {
        (p.place.name_zh, p.disease) for p in Problem.objects.filter(round=province.published_round)
    }
    resolved = next(p for p in earlier if p.place.name_zh == "东湖区")  # waterlogging 2 → 0
    assert resolved.recheck_status == RecheckStatus.RESOLVED and "已解决" in page
    recurring = list(answer.context["recurring"])
    assert recurring and all(p.previous.round == province.published_round for p in recurring)
    assert reverse("diagnosis:problem", args=[recurring[0].previous.pk]) in page
    nanchang = client_for(province.users[Role.CITY_ADMIN])
    assert "东湖区" in nanchang.get(reverse("diagnosis:recheck"), {"year": 2024}).content.decode()
    assert (
        "浔阳区" not in nanchang.get(reverse("diagnosis:recheck"), {"year": 2024}).content.decode()
    )


def test_a_published_year_is_read_from_its_release(province):
    """Adopted values corrected after publication do not change the problem list: it
    keeps the published scorecard's numbers."""
    round_ = province.open_round
    release = Release.objects.create(
        round=round_,
        scope=province.places["province"],
        status=ReleaseStatus.PUBLISHED,
        method_code="test",
        method_version=1,
        method_text="",
        code_version="test",
        input_digest="0" * 64,
        published_at=timezone.now(),
    )
    for value in Value.objects.filter(round=round_, source=Source.ADOPTED).select_related(
        "place", "indicator"
    ):
        Result.objects.create(
            release=release,
            place=value.place,
            level=Level.INDICATOR,
            code=value.indicator.code,
            name_zh=value.indicator.name_zh,
            value=value.value,
        )
    # 浔阳区's green space is corrected to 15 after publication.
    province.adopt(round_, "other_county_2", "green_space", 15)
    services.run_diagnosis(round_)
    green = Problem.objects.get(round=round_, disease="lack_of_green_space")
    assert green.evidence[0]["value"] == 9.0
    release.status = ReleaseStatus.DRAFT
    release.save()
    services.run_diagnosis(round_)  # no published release: the adopted values count
    assert not Problem.objects.filter(round=round_, disease="lack_of_green_space").exists()


def test_an_export_that_matches_nothing_is_a_workbook_of_headers(province):
    """The citizen sees no problems, a county none that got worse: both still download."""
    services.run_diagnosis(province.published_round)
    services.recheck_round(province.open_round)
    url = reverse("diagnosis:problem_export")
    citizen = client_for(province.users[Role.PUBLIC])
    for query in ({}, {"recheck_status": "worse"}, {"recheck_status": "resolved"}):
        answer = citizen.get(url, query)
        assert answer.status_code == 200, query
        assert exported(answer) == [exported(answer)[0]]
        assert exported(answer)[0][:3] == ("地区代码", "地区", "城市病")
    county = client_for(province.users[Role.COUNTY_ADMIN])
    answer = county.get(url, {"recheck_status": "worse"})
    assert answer.status_code == 200 and exported(answer)[1:] == []
    # Named after the latest round with problems in reach: 东湖区's 2023 waterlogging.
    assert quote("2023年问题清单.xlsx") in answer["Content-Disposition"]


def test_a_year_that_is_not_a_number_is_ignored(province):
    services.run_diagnosis(province.open_round)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    assert admin.get(reverse("diagnosis:problem_list"), {"year": "abc"}).status_code == 200
    answer = admin.get(reverse("diagnosis:problem_export"), {"year": "abc"})
    assert answer.status_code == 200 and len(exported(answer)) == 3  # the latest round


def test_recheck_page_without_problems_in_reach_says_so(province):
    services.run_diagnosis(province.published_round)
    services.recheck_round(province.open_round)
    page = client_for(province.users[Role.PUBLIC]).get(reverse("diagnosis:recheck"))
    text = page.content.decode()
    assert "None" not in text
    assert "<h1>复查：上一轮问题是否改善</h1>" in text and 'id="recheck-empty"' in text


def test_recheck_page_shows_warning_lights_by_name(province):
    services.run_diagnosis(province.published_round)
    services.recheck_round(province.open_round)  # 东湖区 waterlogging 2 → 0: red → green
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    text = admin.get(reverse("diagnosis:recheck")).content.decode()
    assert "<h1>2024 年复查：上一轮问题是否改善</h1>" in text
    assert (
        '（<span class="warning-dot red">红灯</span> → <span class="warning-dot green">绿灯</span>）'
        in text
    )
    assert "red →" not in text and "→ green" not in text
    admin.cookies["django_language"] = "en"
    text = admin.get(reverse("diagnosis:recheck")).content.decode()
    assert '<span class="warning-dot red">Red</span>' in text


def test_recheck_page_opens_on_the_latest_recheck_of_the_users_places(province):
    """东湖区 had a problem in 2023 only; it was re-checked (resolved) in 2024."""
    services.run_diagnosis(province.published_round)
    services.recheck_round(province.open_round)
    county = client_for(province.users[Role.COUNTY_ADMIN])
    answer = county.get(reverse("diagnosis:recheck"))
    # 2023 is the first diagnosed round: nothing before it to re-check, so not offered.
    assert answer.context["year"] == 2024 and answer.context["years"] == [2024]
    assert [p.place.name_zh for p in answer.context["earlier"]] == ["东湖区"]


def test_the_problem_list_is_paged_and_the_page_links_keep_the_filters(province, monkeypatch):
    services.run_diagnosis(province.published_round)
    services.run_diagnosis(province.open_round)
    monkeypatch.setattr(ProblemListView, "paginate_by", 1)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    answer = admin.get(reverse("diagnosis:problem_list"), {"place": "360403", "page": 2})
    assert answer.status_code == 200 and len(answer.context["object_list"]) == 1
    text = answer.content.decode()
    assert 'href="?place=360403&amp;page=1"' in text
    assert 'href="?place=360403&amp;page=2" aria-current="true"' in text
