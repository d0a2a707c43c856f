"""A small province for the check-step tests: places, departments, indicators, users, a round.

Two cities: 南昌市 (360100) with five counties and 九江市 (360400) with one. Indicators
cover the rule kinds: a share (%), a per-capita ratio, a count (个), two shares that must
add up to 100 % and a population (万人).
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from citycheck.accounts.models import Department, User
from citycheck.collection import services
from citycheck.collection.models import Source, Submission
from citycheck.collection.validation import load_rules
from citycheck.core.choices import Role
from citycheck.indicators.models import (
    Dimension,
    Direction,
    Indicator,
    IndicatorSystem,
    IndicatorType,
    Rollup,
    SourceKind,
    Tier,
)
from citycheck.places.models import Place, PlaceLevel, UnitType

PLACES = [
    ("360000", "江西省", PlaceLevel.PROVINCE, None),
    ("360100", "南昌市", PlaceLevel.CITY, "360000"),
    ("360102", "东湖区", PlaceLevel.COUNTY, "360100"),
    ("360103", "西湖区", PlaceLevel.COUNTY, "360100"),
    ("360104", "青云谱区", PlaceLevel.COUNTY, "360100"),
    ("360111", "青山湖区", PlaceLevel.COUNTY, "360100"),
    ("360112", "新建区", PlaceLevel.COUNTY, "360100"),
    ("360400", "九江市", PlaceLevel.CITY, "360000"),
    ("360402", "濂溪区", PlaceLevel.COUNTY, "360400"),
]
UNIT_TYPES = {
    PlaceLevel.PROVINCE: UnitType.PROVINCE,
    PlaceLevel.CITY: UnitType.PREFECTURE_CITY,
    PlaceLevel.COUNTY: UnitType.DISTRICT,
}

# code, name, unit, department, rollup, formula, dimension
INDICATORS = [
    (
        "green_space_rate",
        "建成区绿地率",
        "%",
        "housing",
        Rollup.POPULATION_WEIGHTED_MEAN,
        "",
        "ecology",
    ),
    (
        "park_green_area_per_capita",
        "人均公园绿地面积",
        "平方米/人",
        "housing",
        Rollup.RATIO_OF_SUMS,
        "park_green_area / urban_resident_population * 100",
        "ecology",
    ),
    ("schools", "中小学数量", "个", "education", Rollup.SUM, "", "health_comfort"),
    ("share_a", "甲类比例", "%", "statistics", Rollup.NONE, "", "health_comfort"),
    ("share_b", "乙类比例", "%", "statistics", Rollup.NONE, "", "health_comfort"),
    ("resident_total", "常住人口", "万人", "statistics", Rollup.SUM, "", "health_comfort"),
]
# A complete, valid set of values for one county.
GOOD_VALUES = {
    "green_space_rate": 38.0,
    "park_green_area_per_capita": 12.0,
    "schools": 40.0,
    "share_a": 60.0,
    "share_b": 40.0,
    "resident_total": 50.0,
}


@dataclass
class Province:
    places: dict
    departments: dict
    system: IndicatorSystem
    indicators: dict
    users: dict
    round: object

    def submission(self, code, source=Source.SELF_CHECK):
        return Submission.objects.get(
            round=self.round, place=self.places[code], source=source, department=None
        )

    def entries(self, code, values=None, read_version=None):
        values = GOOD_VALUES if values is None else values
        return [
            services.ValueEntry(self.places[code], self.indicators[k], v, "", read_version)
            for k, v in values.items()
        ]


@pytest.fixture
def rules_file(tmp_path, settings):
    """The shipped rules plus a shares rule over the test's two shares."""
    shipped = (Path(django_settings.DATA_DIR) / "validation" / "rules.yaml").read_text("utf-8")
    path = tmp_path / "rules.yaml"
    path.write_text(
        shipped + "  - {kind: shares_sum, parts: [share_a, share_b], total: 100}\n",
        encoding="utf-8",
    )
    settings.CITYCHECK_VALIDATION_RULES = str(path)
    load_rules.cache_clear()
    yield path
    load_rules.cache_clear()


def make_user(username, role, place=None, department=None, **extra):
    return User.objects.create_user(
        username,
        password="pw-check-step",
        role=role,
        place=place,
        department=department,
        email=f"{username}@example.org",
        **extra,
    )


@pytest.fixture
def province(db, rules_file):
    places = {}
    for code, name, level, parent in PLACES:
        places[code] = Place.objects.create(
            code=code,
            name_zh=name,
            level=level,
            unit_type=UNIT_TYPES[level],
            parent=places.get(parent),
        )
    departments = {
        code: Department.objects.create(code=code, name_zh=name)
        for code, name in [
            ("housing", "住房城乡建设"),
            ("education", "教育"),
            ("statistics", "统计"),
        ]
    }
    system = IndicatorSystem.objects.create(code="test-system", version=2024, name_zh="测试体系")
    dimensions = {
        code: Dimension.objects.create(system=system, code=code, name_zh=name, order=n)
        for n, (code, name) in enumerate([("ecology", "生态宜居"), ("health_comfort", "健康舒适")])
    }
    indicators = {}
    for order, (code, name, unit, department, rollup, formula, dimension) in enumerate(INDICATORS):
        indicators[code] = Indicator.objects.create(
            system=system,
            dimension=dimensions[dimension],
            code=code,
            name_zh=name,
            unit=unit,
            definition=f"{name}的定义。",
            direction=Direction.HIGHER,
            type=IndicatorType.GUIDING,
            tier=Tier.NATIONAL,
            department=departments[department],
            source_kind=SourceKind.STATISTICS,
            rollup=rollup,
            formula=formula,
            order=order,
            decimals=1,
        )
    province_place = places["360000"]
    users = {
        "province": make_user("province", Role.PROVINCE_ADMIN, province_place),
        "reviewer": make_user("reviewer", Role.PROVINCE_REVIEWER, province_place),
        "city": make_user("city", Role.CITY_ADMIN, places["360100"]),
        "other_city": make_user("other_city", Role.CITY_ADMIN, places["360400"]),
        "county": make_user("county", Role.COUNTY_ADMIN, places["360102"]),
        "sibling": make_user("sibling", Role.COUNTY_ADMIN, places["360103"]),
        "housing": make_user(
            "housing", Role.DEPARTMENT_FILLER, places["360102"], departments["housing"]
        ),
        "evaluator": make_user("evaluator", Role.EVALUATOR),
        "public": make_user("public", Role.PUBLIC),
    }
    round_ = services.open_round(
        year=2024,
        system=system,
        places=[p for p in places.values() if p.level != PlaceLevel.PROVINCE],
        deadline=dt.date(2024, 6, 30),
        acting_user=users["province"],
    )
    for code in ("360102", "360103"):
        services.assign_evaluator(
            round_, places[code], users["evaluator"], acting_user=users["province"]
        )
    return Province(places, departments, system, indicators, users, round_)
