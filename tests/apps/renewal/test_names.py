"""Project pages show names, not the codes projects store: warning lights, indicators,
responsible departments; the library is paged and its page links keep the filters."""

import re

from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.renewal import views
from citycheck.renewal.models import ProjectStatus

from .test_pages import client_for
from .test_qa_pages import english_client


def section(html: str, element_id: str) -> str:
    """The element with ``element_id`` (up to its closing tag of the same name)."""
    match = re.search(rf'<(\w+)[^>]* id="{element_id}".*?</\1>', html, re.S)
    assert match, element_id
    return match.group(0)


def test_what_if_shows_warning_lights_and_indicator_names(library):
    province, _projects = library
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    text = admin.get(reverse("renewal:what_if"), {"round": 2024, "place": "360403"}).content
    text = text.decode()
    projection = section(text, "projection")
    assert '<span class="warning-dot red">红灯</span>' in projection
    assert not re.search(r">\s*(red|yellow|green)\s*<", projection)
    planned = section(text, "planned")
    assert "人均公园绿地面积 +0.6m²/人；城市内涝积水点数量 -1个" in planned
    assert "green_space" not in planned and "waterlogging" not in planned
    indicator = province.indicators["green_space"]
    indicator.name_en = "Park green space per capita"
    indicator.save()
    english = english_client(province.users[Role.PROVINCE_ADMIN])
    text = english.get(reverse("renewal:what_if"), {"round": 2024, "place": "360403"}).content
    text = text.decode()
    assert "Park green space per capita +0.6 m²/person; " in section(text, "planned")
    projection = section(text, "projection")
    assert "Park green space per capita" in projection and ">Red</span>" in projection


def test_project_pages_name_departments_and_target_indicators(library):
    province, (park, drainage, _nanchang) = library
    park.unit = "housing、市文旅局"  # a department code and free text
    park.save()
    drainage.unit = "自然资源部门"  # a department's Chinese name
    drainage.save()
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    text = admin.get(reverse("renewal:project", args=[park.pk])).content.decode()
    assert section(text, "unit") == '<span id="unit">住房城乡建设部门、市文旅局</span>'
    targets = section(text, "targets")
    assert "<li>人均公园绿地面积 +0.6m²/人</li>" in targets and "green_space" not in targets
    assert "公园绿地和绿道建设" in section(text, "project-type")
    plan = admin.get(reverse("renewal:annual_plan"), {"year": 2025}).content.decode()
    assert "住房城乡建设部门、市文旅局" in plan and "housing" not in section(plan, "plan")
    plan = admin.get(reverse("renewal:annual_plan"), {"year": 2026}).content.decode()
    assert "自然资源部门" in section(plan, "plan")
    department = province.departments["housing"]
    department.name_en = "Housing and urban-rural development"
    department.save()
    english = english_client(province.users[Role.PROVINCE_ADMIN])
    text = english.get(reverse("renewal:project", args=[park.pk])).content.decode()
    assert "Housing and urban-rural development, 市文旅局" in section(text, "unit")
    assert "+0.6 m²/person" in section(text, "targets")


def test_the_candidate_edit_form_offers_indicators_and_departments_by_name(library):
    province, (park, _drainage, _nanchang) = library
    park.status = ProjectStatus.CANDIDATE
    park.unit = "housing、市文旅局"
    park.save()
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    text = admin.get(reverse("renewal:project_edit", args=[park.pk])).content.decode()
    targets = section(text, "targets")
    assert '<option value="green_space" selected>人均公园绿地面积（m²/人）</option>' in targets
    assert '<option value="waterlogging">城市内涝积水点数量（个）</option>' in targets
    departments = section(text, "departments")
    assert re.search(r'value="housing"[^>]*checked', departments)
    assert "住房城乡建设部门" in departments and "自然资源部门" in departments
    assert 'name="other_unit" value="市文旅局"' in text


def test_projects_name_their_problems_in_the_page_language(library):
    province, (park, _drainage, _nanchang) = library
    english = english_client(province.users[Role.PROVINCE_ADMIN])
    text = english.get(reverse("renewal:project", args=[park.pk])).content.decode()
    assert "2024 Lack of green space</a>" in text  # the catalogue's English name
    assert "绿地不足" not in text


def test_the_library_is_paged_and_the_page_links_keep_the_filters(library, monkeypatch):
    province, _projects = library
    monkeypatch.setattr(views.ProjectListView, "paginate_by", 1)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    page = admin.get(reverse("renewal:project_list"), {"place": "360403", "page": 2})
    text = page.content.decode()
    assert page.status_code == 200 and len(page.context["object_list"]) == 1
    pages = section(text, "project-pages")
    assert 'href="?place=360403&amp;page=1"' in pages
    assert 'href="?place=360403&amp;page=2" aria-current="true"' in pages
    assert "共 2 条" in pages
