"""Place names follow the reader's language: English pages say "Nanchang City", Chinese
pages "南昌市", never the other way round."""

import pytest
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.places import services
from citycheck.places.models import Place
from citycheck.testing import build_small_province

CHINESE_TO_ENGLISH = {"江西省": "Jiangxi Province", "南昌市": "Nanchang City", "东湖区": "Donghu"}


@pytest.fixture
def province(db):
    province = build_small_province()
    for name_zh, name_en in CHINESE_TO_ENGLISH.items():
        Place.objects.filter(name_zh=name_zh).update(name_en=name_en)
    return province


def page(client, user, url, language):
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_place_page_names_the_place_its_parent_and_children_in_the_readers_language(
    client, province
):
    admin = province.users[Role.PROVINCE_ADMIN]
    url = reverse("places:place", args=["360100"])
    english = page(client, admin, url, "en")
    assert "Nanchang City" in english and "Jiangxi Province" in english and "Donghu" in english
    assert "南昌市" not in english and "东湖区" not in english
    # 西湖区 has no English name: the Chinese one stands in
    assert "西湖区" in english
    chinese = page(client, admin, url, "zh-hans")
    assert "南昌市" in chinese and "江西省" in chinese and "东湖区" in chinese
    # the English name appears only as the place's own 英文名称 field
    assert chinese.count("Nanchang City") == 1
    assert "Jiangxi Province" not in chinese and "Donghu" not in chinese


def test_place_list_and_the_users_place_in_the_header_follow_the_language(client, province):
    user = province.users[Role.CITY_ADMIN]
    english = page(client, user, reverse("places:place_list"), "en")
    assert "Nanchang City" in english and "南昌市" not in english
    chinese = page(client, user, reverse("places:place_list"), "zh-hans")
    assert "南昌市" in chinese and "Nanchang" not in chinese


def test_division_file_gives_every_place_an_english_name(db):
    services.load_divisions()
    assert Place.objects.count() > 100
    assert not Place.objects.filter(name_en="").exists()
    assert Place.objects.get(code="360100").name_en == "Nanchang City"
