"""Shared test data: a small province with one user per role, and helpers for tests.

``build_small_province()`` creates, in the test database::

    江西省 360000 "province"
    ├── 南昌市 360100 "city"
    │   ├── 东湖区 360102 "county"
    │   └── 西湖区 360103 "sibling_county"
    └── 九江市 360400 "other_city"
        ├── 濂溪区 360402 "other_county"
        └── 浔阳区 360403 "other_county_2"

with boundaries (toy squares, flagged GCJ-02), city classes, one indicator system
(two dimensions, three indicators of two departments, standards), an open round and a
published round (both ``is_synthetic``) holding a self-check, a third-party and an adopted
value of every indicator for every place, and one user per role (username = role value,
password :data:`PASSWORD`). Tests call ``build_small_province()`` in a fixture, or use the
``small_province`` fixture once ``tests/conftest.py`` lists this module in ``pytest_plugins``.

Every test province is built with the same pieces: :func:`build_places`,
:func:`build_departments`, :func:`build_system`, :func:`build_user`, :func:`build_round`
and :func:`build_values`; a province of another shape (the check-step tests') passes its
own spec to them rather than creating rows its own way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from citycheck.accounts.models import Department, User
from citycheck.collection.models import Round, RoundStatus, Source, Value
from citycheck.core.choices import Role
from citycheck.indicators.models import (
    Comparison,
    Dimension,
    Direction,
    Indicator,
    IndicatorSystem,
    IndicatorType,
    Rollup,
    SourceKind,
    Standard,
    Tier,
)
from citycheck.places.models import Boundary, CityClass, Place, PlaceLevel, PlaceYear, UnitType

PASSWORD = "citycheck-test-password"

# label → (code, name, level, unit type, parent label); labels name a place's relation to
# the county user (东湖区) and the city user (南昌市) of the matrix tests.
PLACES = {
    "province": ("360000", "江西省", PlaceLevel.PROVINCE, UnitType.PROVINCE, None),
    "city": ("360100", "南昌市", PlaceLevel.CITY, UnitType.PREFECTURE_CITY, "province"),
    "county": ("360102", "东湖区", PlaceLevel.COUNTY, UnitType.DISTRICT, "city"),
    "sibling_county": ("360103", "西湖区", PlaceLevel.COUNTY, UnitType.DISTRICT, "city"),
    "other_city": ("360400", "九江市", PlaceLevel.CITY, UnitType.PREFECTURE_CITY, "province"),
    "other_county": ("360402", "濂溪区", PlaceLevel.COUNTY, UnitType.DISTRICT, "other_city"),
    "other_county_2": ("360403", "浔阳区", PlaceLevel.COUNTY, UnitType.DISTRICT, "other_city"),
}

# role → label of the user's place; the evaluator has no subtree but assigned places.
USER_PLACES = {
    Role.PROVINCE_ADMIN: "province",
    Role.PROVINCE_REVIEWER: "province",
    Role.CITY_ADMIN: "city",
    Role.COUNTY_ADMIN: "county",
    Role.DEPARTMENT_FILLER: "city",
    Role.EVALUATOR: None,
    Role.INTERVIEWER: None,
    Role.PUBLIC: None,
}
EVALUATOR_PLACES = ("city", "other_county")
# The interviewer (a survey company) is assigned the counties of 南昌市 only.
INTERVIEWER_PLACES = ("county", "sibling_county")


@dataclass
class SmallProvince:
    places: dict[str, Place]
    system: IndicatorSystem
    indicators: dict[str, Indicator]
    departments: dict[str, Department]
    open_round: Round
    published_round: Round
    users: dict[str, User] = field(default_factory=dict)

    def value(self, round_, label, *, indicator="green_space", source=Source.SELF_CHECK) -> Value:
        """The value of ``indicator`` for the place labelled ``label`` in ``round_``."""
        return Value.objects.get(
            round=round_,
            place=self.places[label],
            indicator=self.indicators[indicator],
            source=source,
        )

    def adopt(self, round_, label, indicator, value) -> None:
        """Overwrite the adopted value of ``indicator`` for the place labelled ``label``."""
        Value.objects.filter(
            round=round_,
            place=self.places[label],
            indicator=self.indicators[indicator],
            source=Source.ADOPTED,
        ).update(value=value)


def _square(lon: float, lat: float, size: float) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_places(
    spec: dict | None = None, *, boundaries: bool = True, city_class: str | None = CityClass.MEDIUM
) -> dict[str, Place]:
    """Places of ``spec`` (label → (code, name, level, unit type, parent label); default
    :data:`PLACES`), parents first, by label; with toy square boundaries and, below the
    province, a 2024 city class unless those are turned off."""
    places: dict[str, Place] = {}
    for offset, (label, (code, name, level, unit_type, parent)) in enumerate(
        (spec or PLACES).items()
    ):
        place = Place.objects.create(
            code=code,
            name_zh=name,
            level=level,
            unit_type=unit_type,
            parent=places[parent] if parent else None,
        )
        if boundaries:
            Boundary.objects.create(
                place=place,
                geojson=_square(114 + offset * 0.5, 27, 0.4),
                datum=Boundary.Datum.GCJ02,
                source="toy square for tests",
            )
        if city_class and level != PlaceLevel.PROVINCE:
            PlaceYear.objects.create(place=place, year=2024, city_class=city_class)
        places[label] = place
    return places


def build_departments(names: dict[str, str]) -> dict[str, Department]:
    """Departments by code from code → Chinese name."""
    return {
        code: Department.objects.create(code=code, name_zh=name) for code, name in names.items()
    }


# Indicator fields a test need not give (a guiding national statistic, rolled up by
# population), and the system a test province uses.
INDICATOR_DEFAULTS = {
    "type": IndicatorType.GUIDING,
    "tier": Tier.NATIONAL,
    "source_kind": SourceKind.STATISTICS,
    "rollup": Rollup.POPULATION_WEIGHTED_MEAN,
    "direction": Direction.HIGHER,
}


def build_system(
    name_zh: str,
    dimensions: dict[str, str],
    indicators: dict[str, dict],
    departments: dict[str, Department],
) -> tuple[IndicatorSystem, dict[str, Indicator]]:
    """The indicator system ``test-system`` v2024 with ``dimensions`` (code → name, in
    order) and ``indicators`` (code → Indicator fields, ``dimension`` and ``department``
    given by code, the rest defaulting to :data:`INDICATOR_DEFAULTS`), ordered within
    their dimension as given."""
    system = IndicatorSystem.objects.create(code="test-system", version=2024, name_zh=name_zh)
    dimension_rows = {
        code: Dimension.objects.create(system=system, code=code, name_zh=name, order=order)
        for order, (code, name) in enumerate(dimensions.items(), start=1)
    }
    orders: dict[str, int] = {}
    created = {}
    for code, given in indicators.items():
        fields = dict(given)
        dimension = fields.pop("dimension")
        department = fields.pop("department", None)
        orders[dimension] = orders.get(dimension, 0) + 1
        created[code] = Indicator.objects.create(
            **{**INDICATOR_DEFAULTS, "order": orders[dimension], **fields},
            system=system,
            code=code,
            dimension=dimension_rows[dimension],
            department=departments[department] if department else None,
        )
    return system, created


SMALL_DEPARTMENTS = {"housing": "住房城乡建设部门", "resources": "自然资源部门"}
SMALL_DIMENSIONS = {"livable": "生态宜居", "safe": "安全韧性"}
SMALL_INDICATORS = {
    "green_space": {
        "dimension": "livable",
        "number": "1",
        "name_zh": "人均公园绿地面积",
        "unit": "m²/人",
        "formula": "park_green_area / resident_population",
        "department": "housing",
        "citation": "住房和城乡建设部《城市体检指标体系》（2021）",
    },
    "built_density": {
        "dimension": "livable",
        "number": "2",
        "name_zh": "建成区人口密度",
        "unit": "人/km²",
        "direction": Direction.RANGE,
        "department": "resources",
    },
    "waterlogging": {
        "dimension": "safe",
        "number": "3",
        "name_zh": "城市内涝积水点数量",
        "unit": "个",
        "direction": Direction.LOWER,
        "department": "housing",
    },
}


def build_small_system() -> tuple[IndicatorSystem, dict[str, Indicator], dict[str, Department]]:
    """The small province's system: two dimensions, three indicators, two standards."""
    departments = build_departments(SMALL_DEPARTMENTS)
    system, indicators = build_system(
        "测试指标体系", SMALL_DIMENSIONS, SMALL_INDICATORS, departments
    )
    Standard.objects.create(
        indicator=indicators["green_space"],
        city_class=CityClass.MEDIUM,
        comparison=Comparison.AT_LEAST,
        value=12,
        warning_band=2,
    )
    Standard.objects.create(
        indicator=indicators["waterlogging"],
        comparison=Comparison.AT_MOST,
        value=0,
    )
    return system, indicators, departments


def build_round(system, places, *, year, status) -> Round:
    round_ = Round.objects.create(
        year=year,
        system=system,
        status=status,
        is_synthetic=True,
        deadline=dt.date(year + 1, 3, 31),
    )
    round_.places.set(places.values())
    return round_


def build_values(round_, places, indicators) -> None:
    # Fixture rows need no audit trail; bulk_create keeps the fixture fast.
    Value.objects.bulk_create(
        Value(
            round=round_,
            place=place,
            indicator=indicator,
            source=source,
            value=10.0 + number + place_number,
        )
        for place_number, place in enumerate(places.values())
        for number, indicator in enumerate(indicators.values())
        for source in (Source.SELF_CHECK, Source.THIRD_PARTY, Source.ADOPTED)
    )


def build_user(username, role, place=None, department=None, **extra) -> User:
    """A user with :data:`PASSWORD`."""
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        role=role,
        place=place,
        department=department,
        **extra,
    )


def build_users(places, departments) -> dict[str, User]:
    users = {
        role: build_user(
            role,
            role,
            places[label] if label else None,
            departments["housing"] if role == Role.DEPARTMENT_FILLER else None,
        )
        for role, label in USER_PLACES.items()
    }
    users[Role.EVALUATOR].assigned_places.set([places[label] for label in EVALUATOR_PLACES])
    users[Role.INTERVIEWER].assigned_places.set([places[label] for label in INTERVIEWER_PLACES])
    return users


def build_small_province() -> SmallProvince:
    """Create the small province described in the module docstring."""
    places = build_places()
    system, indicators, departments = build_small_system()
    open_round = build_round(system, places, year=2024, status=RoundStatus.OPEN)
    published_round = build_round(system, places, year=2023, status=RoundStatus.PUBLISHED)
    for round_ in (open_round, published_round):
        build_values(round_, places, indicators)
    return SmallProvince(
        places=places,
        system=system,
        indicators=indicators,
        departments=departments,
        open_round=open_round,
        published_round=published_round,
        users=build_users(places, departments),
    )


@pytest.fixture
def small_province(db) -> SmallProvince:
    return build_small_province()


@dataclass
class ReportingProvince:
    """The small province's places and system with no round yet, and its people: the
    role users and an administrator for every city and county (``fillers`` by place code,
    东湖区 and 南昌市 being the county and city role users)."""

    places: dict[str, Place]
    system: IndicatorSystem
    indicators: dict[str, Indicator]
    users: dict[str, User]
    fillers: dict[str, User]

    @property
    def reporting(self) -> list[Place]:
        """The places that report (cities and counties)."""
        return [p for p in self.places.values() if p.level != PlaceLevel.PROVINCE]


def build_reporting_province() -> ReportingProvince:
    """For the tests that drive whole rounds through the people's actions: the small
    province without rounds or values, ``built_density`` given its 8–12 band (so the
    index can take it), and one administrator per reporting place."""
    places = build_places()
    system, indicators, departments = build_small_system()
    Standard.objects.create(
        indicator=indicators["built_density"],
        comparison=Comparison.BETWEEN,
        value=8,
        value_high=12,
        warning_band=2,
    )
    users = build_users(places, departments)
    fillers = {
        places["county"].code: users[Role.COUNTY_ADMIN],
        places["city"].code: users[Role.CITY_ADMIN],
    }
    for place in places.values():
        if place.code not in fillers and place.level != PlaceLevel.PROVINCE:
            role = Role.CITY_ADMIN if place.level == PlaceLevel.CITY else Role.COUNTY_ADMIN
            fillers[place.code] = build_user(f"admin{place.code}", role, place)
    return ReportingProvince(places, system, indicators, users, fillers)


def offer_method(settings, folder, name: str, text: str) -> None:
    """Make ``text`` the only method file officials may choose, as ``name``."""
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    settings.CITYCHECK_METHODS_DIR = folder


@pytest.fixture(autouse=True)
def default_language():
    """Run every test in the default language (简体中文).

    LocaleMiddleware activates a request's language in the serving thread and leaves it
    active, so a test that fetched an English page would otherwise make the next test in
    the same worker read English messages.
    """
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


def docx_text(path) -> str:
    """The text of a Word file, its paragraphs then its table cells, for assertions."""
    import docx

    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)
