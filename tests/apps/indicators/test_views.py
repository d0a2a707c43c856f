"""Indicator system pages: list, dimensions → indicators, indicator metadata."""

import pytest
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.testing import build_small_province


@pytest.fixture
def county_client(client, db):
    province = build_small_province()
    client.force_login(province.users[Role.COUNTY_ADMIN])
    client.province = province
    return client


def test_system_list(county_client):
    response = county_client.get(reverse("indicators:indicatorsystem_list"))
    assert list(response.context["object_list"]) == [county_client.province.system]


def test_system_detail_groups_indicators_by_dimension(county_client):
    system = county_client.province.system
    response = county_client.get(reverse("indicators:indicatorsystem", args=[system.pk]))
    grouped = [(d.code, [i.code for i in rows]) for d, rows in response.context["dimensions"]]
    assert grouped == [("livable", ["green_space", "built_density"]), ("safe", ["waterlogging"])]
    assert "住房城乡建设部门" in response.content.decode()


def test_indicator_detail_shows_all_metadata(county_client):
    indicator = county_client.province.indicators["green_space"]
    html = county_client.get(reverse("indicators:indicator", args=[indicator.pk])).content.decode()
    for text in [
        "人均公园绿地面积",
        "park_green_area / resident_population",
        "m²/人",
        "越高越好",
        "住房城乡建设部门",
        "《城市体检指标体系》",
        "中等城市",
        "不低于",
    ]:
        assert text in html, text


def test_indicator_without_citation_says_defined_by_the_platform(county_client):
    indicator = county_client.province.indicators["built_density"]
    response = county_client.get(reverse("indicators:indicator", args=[indicator.pk]))
    assert "本平台自拟" in response.content.decode()


def test_unknown_indicator_is_404(county_client):
    assert county_client.get(reverse("indicators:indicator", args=[999999])).status_code == 404


def test_names_follow_the_language_with_chinese_where_no_english_is_recorded(county_client):
    system = county_client.province.system
    dimension = system.dimensions.get(code="livable")
    dimension.name_en = "Livable"
    dimension.save()
    indicator = system.indicators.get(code="green_space")
    indicator.name_en, indicator.department.name_en = "Green space ratio", "Housing bureau"
    indicator.save()
    indicator.department.save()
    county_client.cookies["django_language"] = "en"
    text = county_client.get(reverse("indicators:indicatorsystem", args=[system.pk])).content
    text = text.decode()
    assert "Livable" in text and "Green space ratio" in text and "Housing bureau" in text
    assert indicator.unit == "m²/人" and "m²/person" in text and "m²/人" not in text
    safe = system.dimensions.get(code="safe")
    assert not safe.name_en and safe.name_zh in text  # no English name: Chinese shown
    county_client.cookies["django_language"] = "zh-hans"
    text = county_client.get(reverse("indicators:indicatorsystem", args=[system.pk])).content
    assert dimension.name_zh in text.decode() and "Livable" not in text.decode()
