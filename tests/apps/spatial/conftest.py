"""The small province with the two life-circle indicators in its system, and a small
synthetic 南昌 data set (16 x 16 streets) imported for the city in the open round."""

import pytest

from citycheck.core.choices import Role
from citycheck.indicators.models import Indicator
from citycheck.spatial import services, synthetic
from citycheck.spatial.geodata import load_facility_types
from citycheck.testing import INDICATOR_DEFAULTS


@pytest.fixture
def province(small_province):
    dimension = small_province.indicators["green_space"].dimension
    for order, (code, name) in enumerate(
        [
            ("park_service_coverage", "公园绿化活动场地服务半径覆盖率"),
            ("middle_school_coverage", "中学服务半径覆盖率"),
        ],
        start=10,
    ):
        small_province.indicators[code] = Indicator.objects.create(
            **{**INDICATOR_DEFAULTS, "order": order, "unit": "%", "number": str(order)},
            system=small_province.system,
            dimension=dimension,
            code=code,
            name_zh=name,
        )
    return small_province


@pytest.fixture
def city_user(province):
    return province.users[Role.CITY_ADMIN]


@pytest.fixture
def dataset(province, city_user):
    data = synthetic.nanchang(side=16, types=load_facility_types())
    return services.save_dataset(
        province.open_round,
        province.places["city"],
        data,
        name="合成南昌",
        format="synthetic",
        acting_user=city_user,
    )
