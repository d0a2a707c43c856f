"""Place pages: the tree in reach, a place's detail, 404 out of reach, a query budget."""

import pytest
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.testing import build_small_province


@pytest.fixture
def province(db):
    return build_small_province()


def listed_codes(response) -> list[str]:
    return [place.code for place, _depth in response.context["rows"]]


def test_province_admin_sees_the_whole_tree_in_path_order(client, province):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    response = client.get(reverse("places:place_list"))
    assert listed_codes(response) == [
        "360000",
        "360100",
        "360102",
        "360103",
        "360400",
        "360402",
        "360403",
    ]
    depths = dict((p.code, d) for p, d in response.context["rows"])
    assert (depths["360000"], depths["360100"], depths["360102"]) == (0, 1, 2)


def test_county_user_sees_only_its_county(client, province):
    client.force_login(province.users[Role.COUNTY_ADMIN])
    response = client.get(reverse("places:place_list"))
    assert listed_codes(response) == ["360102"]
    assert "西湖区" not in response.content.decode()


def test_level_filter(client, province):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    response = client.get(reverse("places:place_list"), {"level": "city"})
    assert listed_codes(response) == ["360100", "360400"]


def test_place_detail_shows_children_in_reach_city_class_and_map(client, province):
    client.force_login(province.users[Role.CITY_ADMIN])
    response = client.get(reverse("places:place", args=["360100"]))
    assert response.status_code == 200
    assert [c.code for c in response.context["children"]] == ["360102", "360103"]
    # The province above is out of reach: no link to it in the breadcrumbs.
    assert list(response.context["ancestors"]) == []
    html = response.content.decode()
    assert "中等城市" in html and "GCJ-02" in html
    assert reverse("places-api:place-boundaries", args=["360100"]) in html
    assert "vendor/echarts/echarts.min.js" in html


def test_out_of_reach_and_unknown_places_are_both_404(client, province):
    client.force_login(province.users[Role.CITY_ADMIN])
    assert client.get(reverse("places:place", args=["360400"])).status_code == 404
    assert client.get(reverse("places:place", args=["369999"])).status_code == 404


def test_place_pages_query_budget(client, province, django_assert_max_num_queries):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    with django_assert_max_num_queries(12):
        client.get(reverse("places:place_list"))
    with django_assert_max_num_queries(15):
        client.get(reverse("places:place", args=["360000"]))
