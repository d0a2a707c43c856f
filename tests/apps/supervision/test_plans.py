"""Local plans: targets validated (unknown indicator, year outside the plan, not a
number), reach enforced, progress against the trend of adopted values."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.supervision import plans
from citycheck.supervision.models import PlanTarget

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(small_province):
    city = small_province.users[Role.CITY_ADMIN]
    return plans.save_plan(
        small_province.places["city"],
        title="南昌市城市体检实施方案",
        start_year=2021,
        end_year="2025",
        acting_user=city,
    )


def test_target_validation_names_the_field(small_province, plan):
    city = small_province.users[Role.CITY_ADMIN]
    with pytest.raises(plans.PlanError, match="未知指标：no_such") as exc:
        plans.set_target(plan, indicator="no_such", year=2025, value=90, acting_user=city)
    assert exc.value.field == "indicator"
    with pytest.raises(plans.PlanError, match="2030") as exc:
        plans.set_target(plan, indicator="green_space", year=2030, value=90, acting_user=city)
    assert exc.value.field == "year"
    with pytest.raises(plans.PlanError) as exc:
        plans.set_target(plan, indicator="green_space", year=2025, value="九十", acting_user=city)
    assert exc.value.field == "value"
    assert not PlanTarget.objects.exists()
    target = plans.set_target(
        plan, indicator="green_space", year=2025, value="90", acting_user=city
    )
    assert target.comparison == ">="  # from the indicator's direction
    assert ChangeRecord.objects.filter(object_id=str(target.pk), kind="create").exists()


def test_a_county_cannot_write_its_city_plan(small_province, plan):
    county = small_province.users[Role.COUNTY_ADMIN]
    with pytest.raises(PermissionDenied):
        plans.set_target(plan, indicator="green_space", year=2025, value=90, acting_user=county)
    with pytest.raises(PermissionDenied):
        plans.save_plan(
            small_province.places["other_city"],
            title="x",
            start_year=2021,
            end_year=2025,
            acting_user=small_province.users[Role.CITY_ADMIN],
        )


def test_progress_follows_the_adopted_values(small_province, plan):
    city = small_province.users[Role.CITY_ADMIN]
    latest = small_province.value(small_province.open_round, "city", source="adopted").value
    plans.set_target(plan, indicator="green_space", year=2025, value=latest - 1, acting_user=city)
    plans.set_target(
        plan, indicator="green_space", year=2024, value=latest + 1000, acting_user=city
    )
    table = plans.target_progress([plan]).sort_values("year")
    assert list(table["status"]) == ["off_track", "met"]
    assert table["latest"].iloc[0] == pytest.approx(latest)


def test_plan_pages_show_status_and_refuse_bad_input(client, small_province, plan):
    city = small_province.users[Role.CITY_ADMIN]
    plans.set_target(plan, indicator="green_space", year=2025, value=1, acting_user=city)
    client.force_login(city)
    url = reverse("supervision:plan", args=["360100"])
    response = client.post(
        url, {"form": "target", "indicator": "nope", "year": "2025", "value": "3"}
    )
    assert response.status_code == 400
    assert "未知指标：nope" in response.content.decode()
    page = client.get(url).content.decode()
    assert "已达标" in page
    client.force_login(small_province.users[Role.PROVINCE_ADMIN])
    board = client.get(reverse("supervision:plan_list")).content.decode()
    assert "南昌市城市体检实施方案" in board
    client.force_login(small_province.users[Role.COUNTY_ADMIN])
    assert client.get(reverse("supervision:plan", args=["360400"])).status_code == 404
    assert client.post(url, {"form": "plan", "title": "x"}).status_code == 404  # out of reach
    client.force_login(small_province.users[Role.PROVINCE_REVIEWER])  # sees, may not change
    assert client.post(url, {"form": "plan", "title": "x"}).status_code == 403
