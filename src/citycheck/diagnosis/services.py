"""Diagnosis workflow: run the rules for a round, review problems, re-check, export.

The only module that writes problems. Each function is atomic and records its event.
The numbers come from :mod:`citycheck.engine.diagnosis` and :mod:`citycheck.engine.recheck`
over the round's adopted values (and earlier rounds' for the trend).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.accounts.models import department_names, name_departments
from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.collection.models import Round, Source, Value
from citycheck.core.choices import Action
from citycheck.core.models import record_event
from citycheck.engine import diagnosis as engine
from citycheck.engine import recheck as engine_recheck
from citycheck.indicators import services as indicator_services
from citycheck.places.models import Place, PlaceLevel, PlaceYear
from citycheck.survey.services import satisfaction_frame

from . import wording
from .models import Problem, ProblemStatus

CATALOGUE_FILE = Path(settings.DATA_DIR) / "diagnosis" / "diseases.yaml"
DIAGNOSED_LEVELS = (PlaceLevel.CITY, PlaceLevel.COUNTY)


class ReviewError(ValueError):
    """A review step that is not allowed (no reason, unknown status)."""


@cache
def catalogue() -> engine.DiseaseCatalogue:
    return engine.load_catalogue(CATALOGUE_FILE)


@dataclass(frozen=True)
class RoundData:
    """What the engine needs about a round, read once."""

    values: pd.DataFrame  # (place code, year) x indicator code, adopted values
    indicators: pd.DataFrame
    standards: pd.DataFrame
    city_classes: dict[str, str]
    peer_groups: dict[str, str]
    places: dict[str, Place]
    releases: dict[int, int]  # year → published release the year's values were read from


def round_data(round_: Round) -> RoundData:
    """Adopted values of ``round_`` and the earlier rounds of its kind and system."""
    places = {p.code: p for p in round_.places.filter(level__in=DIAGNOSED_LEVELS).order_by("code")}
    # Department names, not codes: they are written into the explanations.
    indicators = pd.DataFrame(
        list(
            round_.system.all_indicators().values(
                "code",
                "name_zh",
                "name_en",
                "unit",
                "direction",
                "type",
                "decimals",
                "department__name_zh",
                dimension_code=F("dimension__code"),
            )
        )
    ).rename(
        columns={
            "department__name_zh": "department",
            "dimension_code": "dimension",
        }
    )
    indicators["department"] = indicators["department"].fillna("")
    standards = indicator_services.standards_frame(round_.system)
    releases = published_releases(round_)
    rows = Value.objects.filter(
        source=Source.ADOPTED,
        round__kind=round_.kind,
        round__system=round_.system,
        round__year__lte=round_.year,
        place__code__in=list(places),
    ).exclude(round__year__in=list(releases))
    # A published year is read from its release: the problem list then shows the numbers
    # and colours of the published scorecard even if an adopted value was corrected later.
    published = Result.objects.filter(
        release__in=list(releases.values()),
        level=Level.INDICATOR,
        place__code__in=list(places),
        value__isnull=False,
    )
    long = pd.DataFrame(
        [
            *rows.values_list("place__code", "round__year", "indicator__code", "value"),
            *published.values_list("place__code", "release__round__year", "code", "value"),
        ],
        columns=["place", "year", "indicator", "value"],
    )
    values = long.pivot_table(
        index=["place", "year"], columns="indicator", values="value", aggfunc="first"
    ).astype(float)
    values.columns.name = None
    classes = {}
    for code, city_class in (
        PlaceYear.objects.filter(place__code__in=list(places), year__lte=round_.year)
        .order_by("year")
        .values_list("place__code", "city_class")
    ):
        classes[code] = city_class
    # Peers: places of the same level and city class (counties are not compared with
    # cities); a class with too few places for a quartile falls back to the whole level.
    by_class = {code: f"{place.level}:{classes.get(code, '')}" for code, place in places.items()}
    sizes = pd.Series(by_class).value_counts()
    min_peers = min(d.rules.min_peers for d in catalogue().diseases)
    groups = {
        code: group if sizes[group] >= min_peers else places[code].level
        for code, group in by_class.items()
    }
    return RoundData(values, indicators, standards, classes, groups, places, releases)


def published_releases(round_: Round) -> dict[int, int]:
    """Year → id of the latest published release of each round up to ``round_`` (same
    kind and system)."""
    releases = Release.objects.filter(
        status=ReleaseStatus.PUBLISHED,
        round__kind=round_.kind,
        round__system=round_.system,
        round__year__lte=round_.year,
    ).order_by("round__year", "published_at", "pk")
    return dict(releases.values_list("round__year", "pk"))


def diagnose_frame(round_: Round, data: RoundData | None = None) -> pd.DataFrame:
    """The engine's problem list for ``round_`` (nothing written)."""
    data = data or round_data(round_)
    if data.values.empty or round_.year not in set(data.values.index.get_level_values("year")):
        return pd.DataFrame(columns=["place", "disease"])
    return engine.diagnose(
        data.values,
        catalogue=catalogue(),
        indicators=data.indicators,
        standards=data.standards,
        city_classes=data.city_classes,
        peer_groups=data.peer_groups,
        year=round_.year,
        satisfaction=satisfaction_frame(round_),
        place_names={code: place.name_zh for code, place in data.places.items()},
    )


def earlier_round(round_: Round) -> Round | None:
    """The latest diagnosed round before ``round_`` (same kind and system): the round
    whose problems ``round_`` re-checks."""
    return (
        Round.objects.filter(
            kind=round_.kind, system=round_.system, scope=round_.scope, year__lt=round_.year
        )
        .filter(problems__isnull=False)
        .distinct()
        .order_by("-year")
        .first()
    )


@transaction.atomic
def run_diagnosis(round_: Round, *, acting_user=None) -> list[Problem]:
    """Write the round's problem lists; re-running keeps reviews of problems raised again.

    Problems not raised any more are deleted unless they were already reviewed.
    Each problem is linked to the same place's same disease in the earlier rounds.
    Years with a published release are read from it (see :func:`round_data`).
    """
    data = round_data(round_)
    frame = diagnose_frame(round_, data)
    places = {p.code: p for p in round_.places.all()}
    history = pd.DataFrame(
        list(
            Problem.objects.filter(
                round__kind=round_.kind, round__year__lt=round_.year
            ).values_list("pk", "place__code", "disease", "round__year")
        ),
        columns=["problem", "place", "disease", "year"],
    )
    rounds = Round.objects.filter(
        kind=round_.kind,
        system=round_.system,
        scope=round_.scope,
        year__lte=round_.year,
        problems__isnull=False,
    ).values_list("year", flat=True)
    if not frame.empty:
        frame = engine_recheck.link_history(frame, history, rounds={*rounds, round_.year})
    existing = {(p.place.code, p.disease): p for p in round_.problems.select_related("place")}
    indicator_labels = _indicator_labels(data.indicators)
    kept = []
    for row in frame.to_dict("records"):
        problem = existing.pop((row["place"], row["disease"]), None) or Problem(
            round=round_, place=places[row["place"]], disease=row["disease"]
        )
        problem.snapshot()
        for field in (
            "disease_name",
            "dimension",
            "severity",
            "points",
            "signals",
            "evidence",
            "causes",
            "departments",
            "explanation",
            "first_year",
            "returned",
        ):
            setattr(problem, field, _plain(row[field]))
        problem.evidence = _labelled(problem.evidence, indicator_labels)
        problem.causes = _labelled(problem.causes, indicator_labels)
        previous_ids = row["previous_problems"]
        problem.previous_id = previous_ids[-1] if previous_ids else None
        problem.save()
        kept.append(problem)
    for stale in existing.values():
        if stale.status == ProblemStatus.OPEN:
            stale.delete()
    record_event(
        round_,
        "diagnosed",
        acting_user=acting_user,
        data={
            "problems": len(kept),
            "catalogue": str(CATALOGUE_FILE.name),
            "releases": {str(year): pk for year, pk in data.releases.items()},
        },
    )
    return kept


def _indicator_labels(indicators: pd.DataFrame) -> dict[str, dict]:
    """Per indicator code, what :mod:`.wording` needs beyond the engine's evidence to word
    a problem when it is shown, in either language."""
    return {
        row["code"]: {
            "name_en": row["name_en"],
            "decimals": int(row["decimals"]),
            "direction": row["direction"],
        }
        for row in indicators.to_dict("records")
    }


def _labelled(items: list[dict], labels: dict[str, dict]) -> list[dict]:
    return [
        {**item, **labels[item["indicator"]]} if item.get("indicator") in labels else item
        for item in items
    ]


def _plain(value):
    """Numpy scalars to Python numbers for JSON and model fields."""
    if hasattr(value, "item"):
        return value.item()
    return value


@transaction.atomic
def review_problem(problem: Problem, *, status: str, reason: str, acting_user) -> Problem:
    """Confirm or dismiss a problem; a reason is required for either."""
    if status not in (ProblemStatus.CONFIRMED, ProblemStatus.DISMISSED):
        raise ReviewError(_("状态只能是“已确认”或“已排除”。"))
    if not reason.strip():
        raise ReviewError(_("确认或排除问题时必须填写理由。"))
    if (
        acting_user is not None
        and not Problem.objects.restrict(acting_user, Action.CHANGE).filter(pk=problem.pk).exists()
    ):
        raise ReviewError(_("无权审核该地区的问题。"))
    problem.snapshot()
    problem.status = status
    problem.status_reason = reason.strip()
    problem.reviewed_by = acting_user
    problem.reviewed_at = timezone.now()
    problem.save()
    record_event(problem, status, acting_user=acting_user, note=problem.status_reason)
    return problem


@transaction.atomic
def recheck_round(round_: Round, *, acting_user=None) -> pd.DataFrame:
    """Re-check every problem of the previous diagnosed round against ``round_``.

    Diagnoses ``round_`` first when it has no problem list yet. Returns the engine's
    re-check frame; the conclusions are stored on the earlier problems.
    """
    previous_round = earlier_round(round_)
    if previous_round is None:
        return pd.DataFrame(columns=["place", "disease", "status"])
    if not round_.problems.exists():
        run_diagnosis(round_, acting_user=acting_user)
    data = round_data(round_)
    wanted = [c for c in data.values.columns if c in catalogue().indicator_codes]
    evidence = engine.indicator_evidence(
        data.values[wanted],
        indicators=data.indicators[data.indicators["code"].isin(wanted)],
        standards=data.standards,
        city_classes=data.city_classes,
        peer_groups=data.peer_groups,
        year=round_.year,
        trend_years=catalogue().trend_years,
    )
    earlier = [p.as_engine_row() for p in previous_round.problems.select_related("place", "round")]
    current = [p.as_engine_row() for p in round_.problems.select_related("place", "round")]
    result = engine_recheck.recheck(
        pd.DataFrame(earlier),
        pd.DataFrame(current),
        current_evidence=evidence,
        indicators=data.indicators,
        place_names={code: place.name_zh for code, place in data.places.items()},
    )
    problems = previous_round.problems.in_bulk([row for row in result["problem"]])
    for row in result.to_dict("records"):
        problem = problems[row["problem"]]
        problem.snapshot()
        problem.recheck_status = row["status"]
        problem.recheck_year = round_.year
        problem.recheck_evidence = [
            {k: _plain(v) for k, v in item.items()} for item in row["evidence"]
        ]
        problem.recheck_explanation = row["explanation"]
        problem.save()
    record_event(
        round_,
        "rechecked",
        acting_user=acting_user,
        data={"earlier_round": previous_round.year, **result["status"].value_counts().to_dict()},
    )
    return result


def export_problems(round_: Round | None, path, *, user=None, problems=None) -> int:
    """Write the round's problem list to an Excel workbook; returns the number of rows.

    ``path`` is a file name or a writable binary file. With ``user`` only the problems the
    user may see are written; ``problems`` (a queryset, e.g. the page's filtered rows)
    narrows them further. Without a round, or when nothing is left, the workbook has the
    headers alone.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from citycheck.core.excel import append_row

    problems = problems if problems is not None else Problem.objects.all()
    problems = problems.filter(round=round_) if round_ is not None else problems.none()
    problems = problems.select_related("place", "round")
    if user is not None:
        problems = problems.restrict(user, Action.VIEW)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("问题清单")
    headers = [
        _("地区代码"),
        _("地区"),
        _("城市病"),
        _("严重程度"),
        _("得分"),
        _("问题说明"),
        _("相关指标"),
        _("责任单位"),
        _("状态"),
        _("理由"),
        _("首次发现年度"),
        _("复查结论"),
    ]
    append_row(sheet, headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    count = 0
    departments = department_names()
    for problem in problems:
        append_row(
            sheet,
            [
                problem.place.code,
                problem.place.name_zh,
                problem.title,
                problem.get_severity_display(),
                problem.points,
                wording.description(problem, departments),
                "、".join(item.get("name", "") for item in problem.evidence if item.get("name")),
                "、".join(name_departments(problem.departments, departments)),
                problem.get_status_display(),
                problem.status_reason,
                problem.first_year,
                problem.get_recheck_status_display() if problem.recheck_status else "",
            ],
        )
        count += 1
    sheet.column_dimensions["F"].width = 100
    for row in sheet.iter_rows(min_row=2, min_col=6, max_col=6):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(path)
    return count
