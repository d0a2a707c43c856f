"""Project API: library with a GeoJSON layer, monthly reports, progress board."""

from django.urls import reverse
from rest_framework.test import APIClient

from citycheck.core.choices import Role
from citycheck.renewal import services
from citycheck.renewal.models import ProjectStatus

from .test_services import GOOD_ROW, template


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_library_map_report_and_board(province, tmp_path):
    (project,) = services.import_projects(template(tmp_path / "ok.xlsx", [GOOD_ROW]))
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    listing = admin.get(
        reverse("renewal-api:renewalproject-list"), {"project_type": "parks_and_greenways"}
    ).json()
    assert listing["count"] == 1 and listing["results"][0]["name"] == "浔阳区滨江口袋公园"
    layer = admin.get(reverse("renewal-api:renewalproject-geojson")).json()
    assert layer["features"][0]["geometry"] == {"type": "Point", "coordinates": [116.0, 29.7]}
    assert (
        client_for(province.users[Role.CITY_ADMIN])
        .get(reverse("renewal-api:renewalproject-list"))
        .json()["count"]
        == 0
    )

    report_url = reverse("renewal-api:renewalproject-report", args=[project.pk])
    answer = admin.post(
        report_url,
        {"month": "2025-06-01", "percent_complete": 10, "investment": 100},
        format="json",
    )
    assert answer.status_code == 200
    assert (
        admin.post(
            report_url, {"month": "2025-07-01", "percent_complete": 140}, format="json"
        ).status_code
        == 400
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.IN_PROGRESS

    board = admin.get(reverse("renewal-api:progress-board"), {"as_of": "2025-08"}).json()
    row = board["projects"][0]
    assert row["project"] == project.pk and row["late"] is True  # ~60 % expected, 10 % done
    assert board["by_city"][0]["city"] == "360400"
    assert admin.get(reverse("renewal-api:progress-board"), {"as_of": "August"}).status_code == 400


def test_what_if_and_effects(province, tmp_path):
    (project,) = services.import_projects(template(tmp_path / "ok.xlsx", [GOOD_ROW]))
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    answer = admin.get(reverse("renewal-api:what-if"), {"round": 2024, "place": "360403"}).json()
    rows = {row["indicator"]: row for row in answer["indicators"]}
    # 浔阳区: green space 9 + 0.6 (still red), waterlogging 3 - 1 = 2 (still red: standard 0).
    assert (
        rows["green_space"]["projected"] == 9.6 and rows["green_space"]["colour_projected"] == "red"
    )
    assert rows["waterlogging"]["projected"] == 2.0
    assert answer["projects"] == [project.pk]
    county_user = client_for(province.users[Role.COUNTY_ADMIN])  # 东湖区
    assert (
        county_user.get(
            reverse("renewal-api:what-if"), {"round": 2024, "place": "360403"}
        ).status_code
        == 404
    )
    effects = admin.get(reverse("renewal-api:effects"), {"round": 2024}).json()
    assert {row["indicator"] for row in effects} == {"green_space", "waterlogging"}
    assert all(not row["conclusive"] and "无法得出结论" in row["message"] for row in effects)
    assert county_user.get(reverse("renewal-api:effects"), {"round": 2024}).status_code == 403
    assert admin.get(reverse("renewal-api:effects"), {"round": 1999}).status_code == 400
