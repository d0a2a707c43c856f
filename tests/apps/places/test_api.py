"""The places API: list and filters, detail by code, the boundaries GeoJSON, reach."""

import pytest

from citycheck.core.choices import Role
from citycheck.testing import build_small_province

PLACES = "/api/places/places/"


@pytest.fixture
def province(db):
    return build_small_province()


def codes(response) -> list[str]:
    return [row["code"] for row in response.json()["results"]]


def test_list_filters_by_level_and_parent(client, province):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    assert len(codes(client.get(PLACES))) == 7
    assert codes(client.get(PLACES, {"level": "city"})) == ["360100", "360400"]
    assert codes(client.get(PLACES, {"parent": "360400"})) == ["360402", "360403"]


def test_detail_by_code(client, province):
    client.force_login(province.users[Role.CITY_ADMIN])
    body = client.get(f"{PLACES}360102/").json()
    assert body["name_zh"] == "东湖区" and body["parent"] == "360100"
    assert body["years"] == [{"year": 2024, "urban_population": None, "city_class": "medium"}]
    assert client.get(f"{PLACES}360102/?format=json")["Content-Type"] == "application/json"


def test_reach_limits_the_list_and_hides_other_places(client, province):
    client.force_login(province.users[Role.COUNTY_ADMIN])
    assert codes(client.get(PLACES)) == ["360102"]
    assert client.get(f"{PLACES}360103/").status_code == 404


def test_anonymous_sees_no_places(client, province):
    assert codes(client.get(PLACES)) == []


def test_boundaries_are_a_feature_collection_of_the_place_and_its_children(client, province):
    client.force_login(province.users[Role.CITY_ADMIN])
    body = client.get(f"{PLACES}360100/boundaries/").json()
    assert body["type"] == "FeatureCollection"
    assert body["datums"] == ["GCJ-02"]
    assert [f["properties"]["code"] for f in body["features"]] == ["360100", "360102", "360103"]
    assert body["features"][0]["geometry"]["type"] == "Polygon"
    assert body["features"][1]["properties"]["name"] == "东湖区"


def test_boundaries_leave_out_children_out_of_reach(client, province):
    client.force_login(province.users[Role.EVALUATOR])  # assigned 南昌市 only in that city
    body = client.get(f"{PLACES}360100/boundaries/").json()
    assert [f["id"] for f in body["features"]] == ["360100"]
    assert client.get(f"{PLACES}360000/boundaries/").status_code == 404


def test_places_api_is_read_only(client, province):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    response = client.post(PLACES, {"code": "360999"}, content_type="application/json")
    assert response.status_code == 405
