"""The indicator system API: systems, dimensions, indicators with standards; read-only."""

import pytest

from citycheck.core.choices import Role
from citycheck.testing import build_small_province

API = "/api/indicators/"


@pytest.fixture
def province(db):
    return build_small_province()


def test_anyone_may_read_systems(client, province):
    rows = client.get(f"{API}indicator-systems/").json()["results"]
    assert [(r["code"], r["version"]) for r in rows] == [("test-system", 2024)]


def test_indicators_filter_by_system_and_dimension(client, province):
    livable = province.system.dimensions.get(code="livable")
    rows = client.get(f"{API}indicators/", {"dimension": livable.pk}).json()["results"]
    assert [r["code"] for r in rows] == ["green_space", "built_density"]
    rows = client.get(f"{API}indicators/", {"system": province.system.pk}).json()["results"]
    assert len(rows) == 3
    green = rows[0]
    assert green["department"] == "housing"
    assert green["standards"] == [
        {
            "city_class": "medium",
            "comparison": ">=",
            "value": 12.0,
            "value_high": None,
            "warning_band": 2.0,
            "is_target": False,
            "citation": "",
        }
    ]


def test_dimensions_filter_by_system(client, province):
    rows = client.get(f"{API}dimensions/", {"system": province.system.pk}).json()["results"]
    assert [r["code"] for r in rows] == ["livable", "safe"]


def test_indicator_api_is_read_only(client, province):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    response = client.post(f"{API}indicators/", {"code": "x"}, content_type="application/json")
    assert response.status_code == 405
