"""A province for the check-step tests: places, departments, indicators, users, a round,
built with the shared builders of ``citycheck.testing``.

Two cities: 南昌市 (360100) with five counties and 九江市 (360400) with one. Indicators
cover the rule kinds: a share (%), a per-capita ratio, a count (个), two shares that must
add up to 100 % and a population (万人).
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from citycheck.collection import services
from citycheck.collection.models import Source, Submission
from citycheck.collection.validation import load_rules
from citycheck.core.choices import Role
from citycheck.indicators.models import (
    IndicatorSystem,
    Rollup,
    SourceKind,
)
from citycheck.places.models import PlaceLevel, UnitType
from citycheck.testing import build_departments, build_places, build_system, build_user

# The place builder's spec (label → code, name, level, unit type, parent label); labels
# are the codes.
_LEVELS = {
    PlaceLevel.PROVINCE: UnitType.PROVINCE,
    PlaceLevel.CITY: UnitType.PREFECTURE_CITY,
    PlaceLevel.COUNTY: UnitType.DISTRICT,
}
PLACES = {
    code: (code, name, level, _LEVELS[level], parent)
    for code, name, level, parent in [
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
}
DEPARTMENTS = {"housing": "住房城乡建设", "education": "教育", "statistics": "统计"}
DIMENSIONS = {"ecology": "生态宜居", "health_comfort": "健康舒适"}

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
# Measured from spatial data: what a commissioned third-party evaluator owes (rules file,
# third_party.source_kinds); the others are statistics, which come through the self-check.
SPATIAL = {"green_space_rate", "park_green_area_per_capita"}
# The system builder's spec: every indicator higher-better, one decimal, ordered as listed.
INDICATOR_FIELDS = {
    code: {
        "name_zh": name,
        "unit": unit,
        "definition": f"{name}的定义。",
        "department": department,
        "rollup": rollup,
        "formula": formula,
        "dimension": dimension,
        "order": order,
        "decimals": 1,
        "source_kind": SourceKind.SPATIAL if code in SPATIAL else SourceKind.STATISTICS,
    }
    for order, (code, name, unit, department, rollup, formula, dimension) in enumerate(INDICATORS)
}
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


# key → (role, place code, department code) of the province's users.
USERS = {
    "province": (Role.PROVINCE_ADMIN, "360000", None),
    "reviewer": (Role.PROVINCE_REVIEWER, "360000", None),
    "city": (Role.CITY_ADMIN, "360100", None),
    "other_city": (Role.CITY_ADMIN, "360400", None),
    "county": (Role.COUNTY_ADMIN, "360102", None),
    "sibling": (Role.COUNTY_ADMIN, "360103", None),
    "housing": (Role.DEPARTMENT_FILLER, "360102", "housing"),
    "evaluator": (Role.EVALUATOR, None, None),
    "public": (Role.PUBLIC, None, None),
}


@pytest.fixture
def province(db, rules_file):
    """The places, departments, system and users above (no boundaries, no city classes),
    built by ``citycheck.testing``, and the 2024 round opened through the service."""
    places = build_places(PLACES, boundaries=False, city_class=None)
    departments = build_departments(DEPARTMENTS)
    system, indicators = build_system("测试体系", DIMENSIONS, INDICATOR_FIELDS, departments)
    users = {
        key: build_user(
            key,
            role,
            places.get(place),
            departments.get(department),
            email=f"{key}@example.org",
        )
        for key, (role, place, department) in USERS.items()
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
