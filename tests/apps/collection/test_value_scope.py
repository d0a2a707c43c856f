"""A value is written only for a place of the round and an indicator of its system, on
every path (issue 16 item 7): the API names the field, the service refuses for the web
form and the Excel upload, and nothing is stored."""

import pytest

from citycheck.collection import services
from citycheck.collection.models import Source, Value
from citycheck.core.choices import Role
from citycheck.indicators.models import Dimension, Indicator, IndicatorSystem
from citycheck.testing import build_reporting_province

pytestmark = pytest.mark.django_db


@pytest.fixture
def province():
    province = build_reporting_province()
    province.round = services.open_round(
        year=2025,
        system=province.system,
        places=province.reporting,
        acting_user=province.users[Role.PROVINCE_ADMIN],
    )
    other = IndicatorSystem.objects.create(code="other-system", version=2025, name_zh="另一体系")
    dimension = Dimension.objects.create(system=other, code="livable", name_zh="生态宜居", order=1)
    province.foreign = Indicator.objects.create(
        system=other, dimension=dimension, code="other_indicator", name_zh="另一指标", unit="%"
    )
    return province


def post_value(client, province, place, indicator):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    return client.post(
        "/api/collection/values/",
        {
            "round": province.round.pk,
            "place": place,
            "indicator": indicator.pk,
            "source": Source.SELF_CHECK,
            "value": 12.0,
        },
        content_type="application/json",
    )


def test_the_api_refuses_a_place_outside_the_round_naming_the_field(client, province):
    response = post_value(client, province, "360000", province.indicators["green_space"])
    assert response.status_code == 400 and "place" in response.json()
    assert not Value.objects.exists()


def test_the_api_refuses_an_indicator_of_another_system_naming_the_field(client, province):
    response = post_value(client, province, "360102", province.foreign)
    assert response.status_code == 400 and "indicator" in response.json()
    assert not Value.objects.exists()


def test_the_service_refuses_both_for_every_other_path(province):
    admin = province.users[Role.PROVINCE_ADMIN]
    for place, indicator, message in [
        (province.places["province"], province.indicators["green_space"], "不在"),
        (province.places["county"], province.foreign, "不属于"),
    ]:
        with pytest.raises(services.CheckStepError, match=message):
            services.save_values(
                province.round,
                [services.ValueEntry(place, indicator, 12.0)],
                acting_user=admin,
            )
    assert not Value.objects.exists()
