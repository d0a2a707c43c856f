"""The re-check page: each row's evidence once, in the page's language; the tables are
paged and the page links keep the year and the conclusion; only years with an earlier
round are offered. The problem page names its departments and words its re-check."""

import re

from django.test import Client
from django.urls import reverse

from citycheck.collection.models import Source, Value
from citycheck.core.choices import Role
from citycheck.diagnosis import services, views
from citycheck.diagnosis.models import Problem


def client_for(user, language=None):
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]* id="{element_id}".*?</\1>', html, re.S)
    assert match, element_id
    return match.group(0)


def rechecked(province):
    """Both 2023 problems re-checked in 2024: 东湖区 waterlogging resolved, 浔阳区's
    waterlogging (raised to 3 in 2023 too) recurring."""
    province.adopt(province.published_round, "other_county_2", "waterlogging", 3)
    services.run_diagnosis(province.published_round)
    services.recheck_round(province.open_round)
    return Problem.objects.filter(recheck_year=2024).order_by("place__code")


def test_each_rows_evidence_shows_once(province):
    rechecked(province)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    table = section(admin.get(reverse("diagnosis:recheck")).content.decode(), "rechecked")
    assert "<th>说明</th>" not in table and "东湖区城市内涝问题" not in table
    assert table.count("城市内涝积水点数量由2降至0个（改善100%，已达标）") == 1
    assert table.count("城市内涝积水点数量保持3个") == 1


def test_the_evidence_is_worded_in_the_page_language(province):
    rechecked(province)
    english = client_for(province.users[Role.PROVINCE_ADMIN], "en")
    table = section(english.get(reverse("diagnosis:recheck")).content.decode(), "rechecked")
    assert (
        "城市内涝积水点数量 fell from 2 to 0 items (100% better, meets the standard) "
        '(<span class="warning-dot red">Red</span> → <span class="warning-dot green">Green</span>)'
    ) in table
    assert "降至" not in table and "已达标" not in table


def test_the_tables_are_paged_and_the_links_keep_the_filters(province, monkeypatch):
    rechecked(province)
    monkeypatch.setattr(views, "RECHECK_PAGE_SIZE", 1)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    answer = admin.get(reverse("diagnosis:recheck"), {"year": 2024, "page": 2})
    text = answer.content.decode()
    assert len(answer.context["earlier"]) == 1 and answer.context["earlier"].number == 2
    pages = section(text, "rechecked-pages")
    assert 'href="?year=2024&amp;page=1"' in pages
    assert 'href="?year=2024&amp;page=2" aria-current="true"' in pages
    # The conclusion links narrow this page's table; its page links keep it.
    assert 'href="?year=2024&amp;recheck_status=resolved"' in section(text, "recheck-counts")
    answer = admin.get(reverse("diagnosis:recheck"), {"year": 2024, "recheck_status": "unchanged"})
    assert [p.recheck_status for p in answer.context["earlier"]] == ["unchanged"]
    assert "rechecked-pages" not in answer.content.decode()  # one row: no page links
    answer = admin.get(reverse("diagnosis:recheck"), {"year": 2024, "recheck_status": "x"})
    assert answer.context["earlier"].paginator.count == 2  # an unknown conclusion: all
    monkeypatch.setattr(views, "RECHECK_PAGE_SIZE", 50)
    answer = admin.get(reverse("diagnosis:recheck"), {"year": 2024})
    assert "rechecked-pages" not in answer.content.decode()


def test_the_recurring_table_pages_on_its_own(province, monkeypatch):
    # A second recurring problem: 濂溪区 waterlogged in both years, like 浔阳区.
    Value.objects.filter(
        place=province.places["other_county"],
        indicator=province.indicators["waterlogging"],
        source=Source.ADOPTED,
    ).update(value=3)
    rechecked(province)
    monkeypatch.setattr(views, "RECHECK_PAGE_SIZE", 1)
    recurring = Problem.objects.filter(round=province.open_round, previous__isnull=False)
    assert recurring.count() == 2
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    text = admin.get(
        reverse("diagnosis:recheck"), {"year": 2024, "recheck_status": "unchanged", "page": 1}
    ).content.decode()
    pages = section(text, "recurring-pages")
    assert 'href="?year=2024&amp;recheck_status=unchanged&amp;page=1&amp;recurring_page=2"' in pages


def test_only_years_after_an_earlier_round_are_offered(province):
    """2023 is the test province's first diagnosed round: nothing before it to re-check."""
    rechecked(province)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    answer = admin.get(reverse("diagnosis:recheck"), {"year": 2023})
    assert answer.context["years"] == [2024] and answer.context["year"] == 2024
    assert '<option value="2023"' not in answer.content.decode()


def test_the_problem_page_names_departments_recorded_as_codes(province):
    rechecked(province)
    problem = Problem.objects.get(round=province.published_round, place__code="360102")
    problem.departments = ["housing", "市水务局"]
    problem.save()
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    text = admin.get(reverse("diagnosis:problem", args=[problem.pk])).content.decode()
    assert "住房城乡建设部门、市水务局" in section(text, "departments")
    recheck = section(text, "recheck")
    assert "城市内涝积水点数量由2降至0个" in recheck and "东湖区" not in recheck
