"""From :class:`~citycheck.assessment.inputs.AssessmentInputs` and a method specification to
the rows of a release: a thin adapter around :class:`citycheck.engine.index.CompositeIndex`.

For each place level of the method the adapter builds one engine model
(:func:`build_index`: the system's tree indicator → dimension → index, directions with 0
for a range indicator, the standards' bands, peer groups, earlier rounds for
previous-year imputation, the method's steps, uncertainty and coherence), calls it once,
and turns its result into the release rows (``RESULT_COLUMNS``) and the details stored
with the release. Every number comes from the engine; 达标 and warning colours come from
:func:`citycheck.engine.standards.assess_standards`, kept apart from the index.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citycheck.engine import standards as engine_standards
from citycheck.engine._validation import EngineError
from citycheck.engine.index import CompositeIndex, IndexResult
from citycheck.places.models import PlaceLevel

from .inputs import AssessmentInputs
from .methods import MethodSpec

Report = Callable[[float, str], None]

RESULT_COLUMNS = [
    "place",
    "level",
    "code",
    "name_zh",
    "dimension_code",
    "value",
    "score",
    "weight",
    "rank",
    "rank_median",
    "rank_low",
    "rank_high",
    "place_count",
    "peer_group",
    "peer_rank",
    "peer_count",
    "meets_standard",
    "warning",
    "bottom_line_failed",
    "standard",
    "distance_to_target",
    "obstacle_degree",
    "note",
]
SCORED_COLUMNS = [
    "meets_standard",
    "warning",
    "bottom_line_failed",
    "standard",
    "distance_to_target",
]

# Fewer places make ranks, intervals and peer groups meaningless.
MIN_PLACES = 3
# The root of the tree the adapter builds.
ROOT = "index"

# Why an indicator left the index of a level (engine reason → words).
LEAVING_NOTES = {
    "excluded": gettext_lazy("方法说明排除，未计入指数"),
    "no_values": gettext_lazy("本层级参评地区均无数据，未计入指数"),
    "constant": gettext_lazy("本层级各地区取值相同，未计入指数"),
    "constant_after_treatment": gettext_lazy("异常值处理后各地区取值相同，未计入指数"),
    "no_indicators": gettext_lazy("所属指标均未计入指数"),
}


class AssessmentError(ValueError):
    """The assessment cannot be computed; the message says what and where."""


@dataclass
class Computation:
    """The rows of a release (``RESULT_COLUMNS``) and what the run decided on the way."""

    results: pd.DataFrame
    details: dict = field(default_factory=dict)


def compute(
    inputs: AssessmentInputs, spec: MethodSpec, *, report: Report | None = None
) -> Computation:
    """Score every place against the standards and compute the index for each place level."""
    report = report or (lambda progress, message: None)
    levels = [
        level for level in spec.content["place_levels"] if (inputs.places["level"] == level).any()
    ]
    if not levels:
        raise AssessmentError(_("该轮次没有方法说明 place_levels 所列层级的地区"))
    report(5, _("对照标准值"))
    assessed = assess_standards(inputs)
    scored = score_standards(assessed)
    frames, details = [], {"levels": {}}
    for number, level in enumerate(levels):
        label = PlaceLevel(level).label
        report(10 + 80 * number / len(levels), f"{label}：{_('计算指数')}")
        try:
            model, values = build_index(inputs, spec, level, assessed)
            result = model.compute(values)
        except EngineError as exc:
            raise AssessmentError(
                _("%(level)s层级无法计算：%(error)s") % {"level": label, "error": exc}
            ) from exc
        if len(result.index) < MIN_PLACES:
            raise AssessmentError(
                _("%(level)s层级参与排名的地区不足 %(minimum)d 个（实有 %(count)d 个）")
                % {"level": label, "minimum": MIN_PLACES, "count": len(result.index)}
            )
        places = inputs.places.loc[values.index]
        frames.append(_rows(inputs, values, result, scored, peer_groups(places, spec)))
        details["levels"][level] = _details(places, result)
    report(95, _("整理结果"))
    results = pd.concat(frames, ignore_index=True).reindex(columns=RESULT_COLUMNS)
    text = ["name_zh", "dimension_code", "peer_group", "warning", "standard", "note"]
    results[text] = results[text].astype(object).fillna("")
    results["bottom_line_failed"] = results["bottom_line_failed"].fillna(False).astype(bool)
    return Computation(results=results, details=plain(details))


def build_index(
    inputs: AssessmentInputs, spec: MethodSpec, level: str, assessed: pd.DataFrame | None = None
) -> tuple[CompositeIndex, pd.DataFrame]:
    """The engine model of one place level and the values it computes from.

    ``assessed`` is :func:`assess_standards` of the inputs (computed when not given); the
    bands of range indicators come from its ``between`` standards.
    """
    assessed = assess_standards(inputs) if assessed is None else assessed
    places = inputs.places[inputs.places["level"] == level]
    indicators = inputs.indicators
    excluded = spec.content["indicators"]["exclude"]
    _check_range_standards(indicators, excluded, assessed)
    tree = {
        **indicators["dimension"].to_dict(),
        **dict.fromkeys(
            inputs.dimensions.index[inputs.dimensions.index.isin(indicators["dimension"])], ROOT
        ),
    }
    between = assessed[assessed["comparison"] == "between"]
    bands = between.rename(columns={"target": "low", "target_high": "high"})[
        ["place", "indicator", "low", "high"]
    ]
    history = None
    if spec.steps["impute"]["method"] == "previous_year" and not inputs.history.empty:
        history = (
            inputs.history["value"]
            .unstack("indicator")
            .reindex(columns=indicators.index)
            .reorder_levels(["place", "year"])
            .sort_index()
        )
    targets = None
    if spec.steps["normalise"]["method"] == "distance_to_target":
        targets = inputs.standards.groupby(level="indicator")["value"].first()
    model = CompositeIndex.from_spec(
        {
            **spec.steps,
            "uncertainty": spec.content["uncertainty"],
            "coherence": spec.content["coherence"],
        },
        tree,
        indicators["direction"],
        groups=peer_groups(places, spec),
        targets=targets,
        bands=bands,
        history=history,
        exclude=excluded,
    )
    return model, inputs.values.loc[places.index, indicators.index]


def peer_groups(places: pd.DataFrame, spec: MethodSpec) -> pd.Series:
    """The peer group of each place: its city class (``—`` when it has none), or one group."""
    if spec.content["peer_groups"] == "city_class":
        return places["city_class"].replace("", "—")
    return pd.Series("all", index=places.index)


def _check_range_standards(indicators, excluded, assessed) -> None:
    ranged = indicators.index[(indicators["direction"] == 0) & ~indicators.index.isin(excluded)]
    banded = set(assessed.loc[assessed["comparison"] == "between", "indicator"])
    for code in ranged:
        if code not in banded:
            raise AssessmentError(
                _(
                    "区间最优指标 %(code)s 没有“介于”标准值，无法计入指数；请补充标准值或在方法说明"
                    " indicators.exclude 中排除它"
                )
                % {"code": code}
            )


def assess_standards(inputs: AssessmentInputs) -> pd.DataFrame:
    """:func:`citycheck.engine.standards.assess_standards` of every place × indicator value
    (missing values included, colour ``missing``)."""
    table = inputs.standards.reset_index()[list(engine_standards.STANDARD_COLUMNS)]
    if table.empty:
        return pd.DataFrame(
            columns=["place", "indicator", "comparison", "target", "target_high", "colour"]
        )
    return engine_standards.assess_standards(inputs.values, table, inputs.places["city_class"])


def score_standards(assessed: pd.DataFrame) -> pd.DataFrame:
    """达标, warning colour, shortfall and standard text by (place, indicator), from
    :func:`assess_standards`; values without a standard are left out."""
    if assessed.empty:
        return pd.DataFrame(
            columns=SCORED_COLUMNS,
            index=pd.MultiIndex.from_tuples([], names=["place", "indicator"]),
        )
    colour = assessed["colour"].astype(str)
    present = colour != "missing"
    text = [
        engine_standards.describe(comparison, target, None if math.isnan(high) else high)
        for comparison, target, high in zip(
            assessed["comparison"], assessed["target"], assessed["target_high"], strict=True
        )
    ]
    return pd.DataFrame(
        {
            "place": assessed["place"],
            "indicator": assessed["indicator"],
            "meets_standard": assessed["meets"].astype(object).where(present, None),
            "warning": colour.where(present, ""),
            "bottom_line_failed": assessed["bottom_line_failed"].astype(bool),
            "standard": text,
            "distance_to_target": assessed["shortfall"],
        }
    ).set_index(["place", "indicator"])


def _rows(inputs, values, result: IndexResult, scored, groups: pd.Series) -> pd.DataFrame:
    ranked = result.index.index
    count = len(ranked)
    peer = groups.reindex(ranked)
    peer_count = peer.map(peer.value_counts())
    summary = (
        result.uncertainty.summary
        if result.uncertainty is not None
        else pd.DataFrame(index=ranked, columns=["median_rank", "rank_low", "rank_high"])
    )
    frames = []
    for code in result.scores.columns:
        is_index = code == ROOT
        scores = result.scores[code]
        frames.append(
            pd.DataFrame(
                {
                    "place": ranked,
                    "level": "index" if is_index else "dimension",
                    "code": code,
                    "name_zh": _("城市健康指数")
                    if is_index
                    else inputs.dimensions.loc[code, "name_zh"],
                    "dimension_code": "" if is_index else code,
                    "value": scores.to_numpy(),
                    "score": scores.to_numpy(),
                    "weight": 1.0 if is_index else float(result.weights[code]),
                    "rank": result.score_ranks[code].to_numpy(),
                    "rank_median": summary["median_rank"].to_numpy() if is_index else np.nan,
                    "rank_low": summary["rank_low"].to_numpy() if is_index else np.nan,
                    "rank_high": summary["rank_high"].to_numpy() if is_index else np.nan,
                    "place_count": count,
                    "peer_group": peer.to_numpy(),
                    "peer_rank": result.score_peer_ranks[code].to_numpy(),
                    "peer_count": peer_count.to_numpy(),
                }
            )
        )
    # Indicator rows for every place of the level, ranked or screened out: the standards
    # apply to every value, the index only to the places that passed screening.
    long = values.rename_axis(index="place", columns="indicator").stack(future_stack=True)
    long = long.rename("value").reset_index().join(scored, on=["place", "indicator"])
    key = pd.MultiIndex.from_frame(long[["place", "indicator"]])
    normalised = result.normalised.rename_axis(index="place", columns="indicator")
    indicator_ranks = normalised.rank(ascending=False, method="min")
    imputed = result.imputations.set_index(["place", "indicator"])["value"]
    frames.append(
        pd.DataFrame(
            {
                "place": long["place"],
                "level": "indicator",
                "code": long["indicator"],
                "name_zh": long["indicator"].map(inputs.indicators["name_zh"]),
                "dimension_code": long["indicator"].map(inputs.indicators["dimension"]),
                "value": long["value"],
                "score": normalised.stack(future_stack=True).reindex(key).to_numpy(),
                "weight": long["indicator"].map(result.effective_weights),
                "rank": indicator_ranks.stack(future_stack=True).reindex(key).to_numpy(),
                "place_count": count,
                "peer_group": long["place"].map(groups).fillna(""),
                "meets_standard": long["meets_standard"],
                "warning": long["warning"],
                "bottom_line_failed": long["bottom_line_failed"],
                "standard": long["standard"],
                "distance_to_target": long["distance_to_target"],
                "obstacle_degree": result.obstacle_degrees.rename_axis(
                    index="place", columns="indicator"
                )
                .stack(future_stack=True)
                .reindex(key)
                .to_numpy(),
                "note": _notes(long, result, imputed, key),
            }
        )
    )
    return pd.concat(frames, ignore_index=True)


def _notes(long, result: IndexResult, imputed: pd.Series, key) -> list[str]:
    """Why an indicator row has no score, or that its value was imputed."""
    screened_out = set(result.screened_out.index)
    notes = []
    for (place, code), value in zip(key, imputed.reindex(key).to_numpy(), strict=True):
        if place in screened_out:
            notes.append(_("数据可得性不足，未参与指数排名"))
        elif code in result.left_out.index:
            notes.append(str(LEAVING_NOTES[result.left_out[code]]))
        elif not math.isnan(value):
            notes.append(_("缺失值已插补为 %(value)s") % {"value": f"{value:.6g}"})
        else:
            notes.append("")
    return notes


def _details(places: pd.DataFrame, result: IndexResult) -> dict:
    """What a level's run decided, for the release page, the manifest and the report."""
    treatment = result.treatment
    uncertainty = result.uncertainty
    dimensions_table, indicators_table = result.coherence
    return {
        "places": len(places),
        "ranked": len(result.index),
        "screened_out": list(result.screened_out.index),
        "availability": result.screened_out.round(4).to_dict(),
        "imputations": result.imputations.to_dict("records"),
        "left_out": result.left_out.to_dict(),
        "indicators": list(result.normalised.columns),
        "weights": {
            "indicators": result.effective_weights.to_dict(),
            "dimensions": result.weights.reindex(
                [c for c in result.scores.columns if c != ROOT]
            ).to_dict(),
        },
        "consistency": result.consistency.round(6).to_dict(),
        "treatment": {
            "winsorised": {code: int(n) for code, n in treatment["n_winsorised"].items() if n},
            "log_transformed": list(treatment.index[treatment["log_transformed"]]),
            "kept_untreated": list(treatment.index[treatment["kept_untreated"]]),
        },
        "uncertainty": None
        if uncertainty is None
        else {
            "draws": len(uncertainty.draws),
            "sensitivity": uncertainty.sensitivity.round(6).to_dict(),
            "widened": list(uncertainty.summary.index[uncertainty.summary["widened"]]),
        },
        "coherence": {
            "dimensions": dimensions_table.round(6).to_dict("index"),
            "indicators": indicators_table.round(6).to_dict("index"),
        },
        "log": result.log,
    }


def plain(value):
    """``value`` with numpy scalars made plain Python and NaN or infinities made None,
    in nested dicts and lists: what may be stored as JSON."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
