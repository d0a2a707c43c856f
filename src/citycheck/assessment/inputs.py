"""What an assessment reads from the database, as data frames, and the digest of it.

:func:`collect_inputs` is the only place the assessment reads values: the ADOPTED values
of the round (and of earlier rounds, for the previous-year imputation), the indicator
system with its standards, and each place's city class. Everything the engine needs is
in the returned :class:`AssessmentInputs`; :meth:`AssessmentInputs.digest` hashes it so
that a release records exactly what it was computed from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd
from django.utils.translation import gettext as _

from citycheck.collection.models import Round, Source, Submission, SubmissionStatus, Value
from citycheck.indicators.models import Direction, Standard
from citycheck.places.models import Place, PlaceYear, shared_codes

from .methods import MethodError, MethodSpec, check_against_system

DIRECTION_SIGNS = {Direction.HIGHER: 1, Direction.LOWER: -1, Direction.RANGE: 0}


@dataclass(frozen=True)
class AssessmentInputs:
    """The frames an assessment run is computed from.

    ``places`` (by place code: pk, name_zh, level, parent_code, city_class),
    ``indicators`` (by indicator code: name_zh, dimension, direction +1/-1/0 for a range,
    type, order), ``dimensions`` (by dimension code: name_zh, order), ``values`` (wide:
    place code × indicator code, the round's adopted values), ``history`` (long: place,
    indicator, year, value — adopted values of earlier rounds), ``standards`` (one row
    per indicator and city class, '' = every class), ``system`` (code and version of the
    indicator system), ``round_status`` and ``pending_places`` (codes of the places whose
    data the province has not accepted: a self-check submission not yet accepted, or no
    submission and no adopted value).
    """

    round_year: int
    scope_code: str
    places: pd.DataFrame
    indicators: pd.DataFrame
    dimensions: pd.DataFrame
    values: pd.DataFrame
    history: pd.DataFrame
    standards: pd.DataFrame
    system: dict = field(default_factory=dict)
    round_status: str = ""
    pending_places: tuple = ()

    def digest(self, spec: MethodSpec) -> str:
        """SHA-256 of the inputs and the method: sorted adopted values, standards, city
        classes, indicator metadata and the parsed method specification."""
        uses_history = spec.steps["impute"]["method"] == "previous_year"
        parts = {
            "round_year": self.round_year,
            "scope": self.scope_code,
            "method": spec.content,
            "places": _canonical(self.places.drop(columns=["pk"])),
            "indicators": _canonical(self.indicators),
            "dimensions": _canonical(self.dimensions),
            "values": _canonical(self.values.stack(future_stack=True).dropna().rename("value")),
            "history": _canonical(self.history) if uses_history else None,
            "standards": _canonical(self.standards),
        }
        text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()


def _canonical(frame: pd.DataFrame | pd.Series) -> list:
    """Rows sorted by their index as plain lists (floats as repr, so exact)."""
    frame = frame.to_frame() if isinstance(frame, pd.Series) else frame
    rows = frame.sort_index().reset_index().itertuples(index=False)
    return [[repr(cell) if isinstance(cell, float) else cell for cell in row] for row in rows]


def scope_of(round_: Round) -> Place:
    """The lowest place whose subtree holds every place of the round (the province,
    normally, also when the province itself does not report)."""
    paths = list(round_.places.values_list("path", flat=True))
    if not paths:
        raise MethodError(_("该轮次没有参与地区"), field=f"round {round_.year}")
    shared = shared_codes(paths)
    if not shared:
        raise MethodError(_("该轮次的参与地区不属于同一上级地区"), field=f"round {round_.year}")
    return Place.objects.get(code=shared[-1])


def collect_inputs(round_: Round, spec: MethodSpec) -> AssessmentInputs:
    """Read what the assessment of ``round_`` with ``spec`` needs; check the spec's codes."""
    system = round_.system
    indicator_rows = list(
        system.all_indicators()
        .select_related("dimension")
        .order_by("dimension__order", "order", "code")
    )
    indicators = pd.DataFrame(
        [
            {
                "code": i.code,
                "name_zh": i.name_zh,
                "dimension": i.dimension.code,
                "direction": DIRECTION_SIGNS[i.direction],
                "type": i.type,
                "unit": i.unit,
                "order": i.order,
                "decimals": i.decimals,
            }
            for i in indicator_rows
        ],
        columns=["code", "name_zh", "dimension", "direction", "type", "unit", "order", "decimals"],
    ).set_index("code")
    dimension_rows = {i.dimension.code: i.dimension for i in indicator_rows}
    dimensions = (
        pd.DataFrame(
            [
                {"code": d.code, "name_zh": d.name_zh, "order": d.order}
                for d in dimension_rows.values()
            ],
            columns=["code", "name_zh", "order"],
        )
        .set_index("code")
        .sort_values("order", kind="stable")
    )
    check_against_system(spec, indicators.index, dimensions.index)

    scope = scope_of(round_)
    place_rows = list(
        round_.places.filter(level__in=spec.content["place_levels"])
        .select_related("parent")
        .order_by("code")
    )
    classes = _city_classes(place_rows, round_.year)
    places = pd.DataFrame(
        [
            {
                "code": p.code,
                "pk": p.pk,
                "name_zh": p.name_zh,
                "level": p.level,
                "parent_code": p.parent.code if p.parent else "",
                "city_class": classes.get(p.pk, ""),
            }
            for p in place_rows
        ],
        columns=["code", "pk", "name_zh", "level", "parent_code", "city_class"],
    ).set_index("code")

    adopted = Value.objects.filter(
        source=Source.ADOPTED,
        place__in=place_rows,
        indicator__in=indicator_rows,
        round__kind=round_.kind,
        round__year__lte=round_.year,
    ).values_list("place__code", "indicator__code", "round__year", "value")
    long = pd.DataFrame(list(adopted), columns=["place", "indicator", "year", "value"])
    current = long[long["year"] == round_.year]
    values = (
        current.pivot_table(
            index="place", columns="indicator", values="value", aggfunc="first", dropna=False
        )
        .reindex(index=places.index, columns=indicators.index)
        .astype(float)
    )
    values.index.name, values.columns.name = "place", "indicator"
    history = long[long["year"] < round_.year].set_index(["place", "indicator", "year"])

    standard_rows = Standard.objects.filter(indicator__in=indicator_rows).select_related(
        "indicator"
    )
    standards = (
        pd.DataFrame(
            [
                {
                    "indicator": s.indicator.code,
                    "city_class": s.city_class,
                    "comparison": s.comparison,
                    "value": s.value,
                    "value_high": s.value_high,
                    "warning_band": s.warning_band,
                    "type": s.indicator.type,
                    "is_target": s.is_target,
                }
                for s in standard_rows
            ],
            columns=[
                "indicator",
                "city_class",
                "comparison",
                "value",
                "value_high",
                "warning_band",
                "type",
                "is_target",
            ],
        )
        .set_index(["indicator", "city_class"])
        .sort_index()
    )
    return AssessmentInputs(
        system={"code": system.code, "version": system.version},
        round_status=round_.status,
        pending_places=pending_places(round_, places.index, values),
        round_year=round_.year,
        scope_code=scope.code,
        places=places,
        indicators=indicators,
        dimensions=dimensions,
        values=values,
        history=history.sort_index(),
        standards=standards,
    )


def _city_classes(places: list[Place], year: int) -> dict[int, str]:
    """Each place's city class in ``year``, or its latest earlier one."""
    classes: dict[int, str] = {}
    rows = PlaceYear.objects.filter(place__in=places, year__lte=year).order_by("year")
    for place_id, city_class in rows.values_list("place_id", "city_class"):
        classes[place_id] = city_class
    return classes


def pending_places(round_: Round, place_codes, values: pd.DataFrame) -> tuple:
    """Codes of the places whose data the province has not accepted: a self-check
    submission of the round not yet accepted, or neither a submission nor any adopted
    value (a place that reported nothing)."""
    statuses: dict[str, set] = {}
    rows = Submission.objects.filter(
        round=round_, source=Source.SELF_CHECK, place__code__in=list(place_codes)
    ).values_list("place__code", "status")
    for code, status in rows:
        statuses.setdefault(code, set()).add(status)
    reported = set(values.index[values.notna().any(axis=1)])
    return tuple(
        code
        for code in place_codes
        if (code in statuses and statuses[code] != {SubmissionStatus.ACCEPTED})
        or (code not in statuses and code not in reported)
    )
