"""Numbers of the dashboards (province and city), read from one release.

Every query is on the release the caller has already restricted to the user; the
functions return plain dicts for ``json_script``.
"""

from __future__ import annotations

from django.apps import apps

from citycheck.assessment import labels
from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.core.language import localized
from citycheck.places.models import Boundary, Place

WARNING_ORDER = {"red": 2, "yellow": 1, "green": 0}


def map_features(release: Release, parent: Place) -> dict:
    """GeoJSON of ``parent``'s children with their index in ``release`` (for ECharts);
    children not ranked at this level (cities when only counties are) have no value."""
    scores = dict(
        Result.objects.filter(release=release, level=Level.INDEX, place__parent=parent).values_list(
            "place_id", "score"
        )
    )
    boundaries = Boundary.objects.filter(place__parent=parent).select_related("place")
    features = [
        {
            "type": "Feature",
            "geometry": b.geojson,
            "properties": {
                "name": b.place.name,
                "code": b.place.code,
                "value": None if scores.get(b.place_id) is None else round(scores[b.place_id], 2),
                "has_children": b.place.level != "county",
            },
        }
        for b in boundaries
    ]
    return {"type": "FeatureCollection", "features": features}


def top_level(release: Release) -> str:
    """The highest place level ranked in ``release`` (city, else county)."""
    levels = set(
        Result.objects.filter(release=release, level=Level.INDEX).values_list(
            "place__level", flat=True
        )
    )
    return "city" if "city" in levels or not levels else "county"


def ranking(release: Release, level: str) -> list[dict]:
    return [
        {"code": code, "name": localized(name_zh, name_en), "score": round(score, 2), "rank": rank}
        for code, name_zh, name_en, score, rank in Result.objects.filter(
            release=release, level=Level.INDEX, place__level=level
        )
        .order_by("rank", "place__code")
        .values_list("place__code", "place__name_zh", "place__name_en", "score", "rank")
    ]


def warning_matrix(release: Release, level: str) -> dict:
    """Places × dimensions: the worst warning colour among each dimension's indicators."""
    dimensions = dict(
        Result.objects.filter(release=release, level=Level.DIMENSION, place__level=level)
        .values_list("code", "name_zh")
        .distinct()
    )
    codes = sorted(dimensions)
    worst: dict[tuple[str, str], str] = {}
    names: dict[str, str] = {}
    for place_code, name_zh, name_en, dimension, warning in Result.objects.filter(
        release=release, level=Level.INDICATOR, place__level=level
    ).values_list("place__code", "place__name_zh", "place__name_en", "dimension_code", "warning"):
        names[place_code] = localized(name_zh, name_en)
        key = (place_code, dimension)
        if warning and WARNING_ORDER[warning] >= WARNING_ORDER.get(worst.get(key, ""), -1):
            worst[key] = warning
    places = sorted(names)
    return {
        "places": [names[c] for c in places],
        "dimensions": [dimensions[c] for c in codes],
        "cells": [
            [j, i, WARNING_ORDER.get(worst.get((place, code), ""), -1)]
            for i, place in enumerate(places)
            for j, code in enumerate(codes)
        ],
    }


def trends(release: Release, level: str, *, user) -> dict:
    """Index per year of each place of ``level`` over the published releases of the method
    (and ``release`` itself) of rounds run by the same province (or nation)."""
    others = (
        Release.objects.restrict(user)
        .filter(
            method_code=release.method_code,
            status=ReleaseStatus.PUBLISHED,
            round__scope_id=release.round.scope_id,
        )
        .exclude(round=release.round)
        .values_list("pk", flat=True)
    )
    rows = Result.objects.filter(
        release__in=[*others, release.pk], level=Level.INDEX, place__level=level
    ).values_list("release__round__year", "place__name_zh", "place__name_en", "score")
    years = sorted({year for year, _zh, _en, _score in rows})
    series: dict[str, dict[int, float]] = {}
    for year, name_zh, name_en, score in rows:
        series.setdefault(localized(name_zh, name_en), {})[year] = round(score, 2)
    return {
        "years": years,
        "series": [
            {"name": name, "data": [values.get(y) for y in years]}
            for name, values in sorted(series.items())
        ],
    }


def place_panel(release: Release, place: Place) -> dict:
    """A city's radar (with its peer mean), scorecard, problems and projects; dimensions
    and indicators named in the active language, standards as officials write them."""
    from citycheck.reports import content

    results = list(Result.objects.filter(release=release, place=place))
    index = next((r for r in results if r.level == Level.INDEX), None)
    dimensions = sorted((r for r in results if r.level == Level.DIMENSION), key=lambda r: r.code)
    system = release.round.system
    dimension_names = {
        **{r.code: r.name_zh for r in dimensions},
        **labels.dimension_names(system),
    }
    indicator_names = labels.indicator_names(system)
    scorecard = sorted(
        (r for r in results if r.level == Level.INDICATOR),
        key=lambda r: (r.dimension_code, r.code),
    )
    for row in scorecard:
        row.dimension_name = dimension_names.get(row.dimension_code, row.dimension_code)
        row.indicator_name = indicator_names.get(row.code, row.name_zh)
        row.standard_text = labels.standard_label(row.standard)
    means = content.peer_means(release, place, index)
    problems, projects = [], []
    if apps.is_installed("citycheck.diagnosis"):
        from citycheck.diagnosis.models import Problem, ProblemStatus

        problems = list(
            Problem.objects.filter(
                round=release.round, place=place, status=ProblemStatus.CONFIRMED
            ).order_by("-points")
        )
    projects = content.renewal_projects(place, release.round.year)
    return {
        "index": index,
        "dimensions": dimensions,
        "scorecard": scorecard,
        "radar": {
            "indicators": [{"name": dimension_names[r.code], "max": 100} for r in dimensions],
            "place": [round(r.score or 0, 2) for r in dimensions],
            "peers": [round(means.get(r.code, 0), 2) for r in dimensions],
        },
        "problems": problems,
        "projects": projects,
    }
