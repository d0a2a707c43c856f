"""From :class:`~citycheck.assessment.inputs.AssessmentInputs` and a method specification to
the rows of a release, by calling the engine step by step.

The platform part of the evaluation is here: which places are ranked together (each place
level separately), how a range indicator enters the index (its distance outside the
standard's band, lower is better), which peer groups apply, and turning the engine's
frames into one long table of results. The numbers themselves all come from
:mod:`citycheck.engine`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from citycheck.engine import (
    aggregate,
    coherence,
    impute,
    normalise,
    outliers,
    screening,
    standards,
    uncertainty,
    weights,
)
from citycheck.engine._validation import EngineError
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


# Fewer places make ranks, intervals and peer groups meaningless.
MIN_PLACES = 3


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
    standards = score_standards(inputs)
    frames, details = [], {"levels": {}}
    for number, level in enumerate(levels):
        start, span = 10 + 80 * number / len(levels), 80 / len(levels)
        label = PlaceLevel(level).label

        def level_report(progress, message, start=start, span=span, label=label):
            report(start + span * progress / 100, f"{label}：{message}")

        try:
            rows, level_details = _compute_level(inputs, spec, level, standards, level_report)
        except EngineError as exc:
            raise AssessmentError(
                _("%(level)s层级无法计算：%(error)s") % {"level": label, "error": exc}
            ) from exc
        frames.append(rows)
        details["levels"][level] = level_details
    results = pd.concat(frames, ignore_index=True).reindex(columns=RESULT_COLUMNS)
    text = ["name_zh", "dimension_code", "peer_group", "warning", "standard", "note"]
    results[text] = results[text].astype(object).fillna("")
    results["bottom_line_failed"] = results["bottom_line_failed"].fillna(False).astype(bool)
    return Computation(results=results, details=details)


def score_standards(inputs: AssessmentInputs) -> pd.DataFrame:
    """达标, warning colour, shortfall and standard text of every place × indicator value,
    by (place, indicator); values without a standard are left out."""
    table = inputs.standards.reset_index()[list(standards.STANDARD_COLUMNS)]
    if table.empty:
        return pd.DataFrame(
            columns=SCORED_COLUMNS,
            index=pd.MultiIndex.from_tuples([], names=["place", "indicator"]),
        )
    scored = standards.assess_standards(inputs.values, table, inputs.places["city_class"])
    present = scored["colour"] != "missing"
    high = scored["target_high"].map(lambda v: f"–{v:g}" if v == v else "")
    text = np.where(
        scored["comparison"] == "between",
        scored["target"].map("{:g}".format) + high,
        scored["comparison"].map(standards.COMPARISON_SIGNS).fillna("")
        + " "
        + scored["target"].map("{:g}".format),
    )
    return pd.DataFrame(
        {
            "place": scored["place"],
            "indicator": scored["indicator"],
            "meets_standard": scored["meets"].astype(object).where(present, None),
            "warning": scored["colour"].where(present, ""),
            "bottom_line_failed": scored["bottom_line_failed"].astype(bool),
            "standard": text,
            "distance_to_target": scored["shortfall"],
        }
    ).set_index(["place", "indicator"])


SCORED_COLUMNS = [
    "meets_standard",
    "warning",
    "bottom_line_failed",
    "standard",
    "distance_to_target",
]


def _compute_level(inputs, spec, level, standards, report):
    steps = spec.steps
    places = inputs.places[inputs.places["level"] == level]
    excluded = set(spec.content["indicators"]["exclude"])
    indicators = inputs.indicators[~inputs.indicators.index.isin(excluded)]
    raw = inputs.values.loc[places.index, indicators.index]
    peer = (
        places["city_class"].replace("", "—")
        if spec.content["peer_groups"] == "city_class"
        else pd.Series("all", index=places.index)
    )

    report(0, _("区间指标转换"))
    index_values, directions = _oriented_for_index(raw, indicators, inputs, places)
    report(10, _("缺失值插补"))
    imputed = _impute(index_values, steps["impute"], peer, inputs, indicators, places)
    report(20, _("数据可得性筛选"))
    screened = screening.screen(imputed, min_availability=steps["screen"]["min_availability"])
    dropped = sorted(set(places.index) - set(screened.index))
    if len(screened) < MIN_PLACES:
        raise AssessmentError(
            _("%(level)s层级参与排名的地区不足 %(minimum)d 个（实有 %(count)d 个）")
            % {"level": PlaceLevel(level).label, "minimum": MIN_PLACES, "count": len(screened)}
        )
    report(30, _("异常值处理"))
    treat = steps["treat"]
    treated = outliers.treat(
        screened,
        method=treat["method"],
        winmax=treat["winmax"],
        skew_threshold=treat["skew_threshold"],
        kurtosis_threshold=treat["kurtosis_threshold"],
    )
    # An indicator on which every place of this level is equal (after treatment) cannot
    # tell them apart: it stays in the standards scorecard, leaves the index of this
    # level, and the release says so.
    constant = sorted(c for c in treated.columns if treated[c].nunique(dropna=True) <= 1)
    if constant:
        treated = treated.drop(columns=constant)
        directions = directions.drop(index=constant)
    report(40, _("标准化"))
    normalised = _normalise(treated, directions, steps["normalise"], inputs)
    report(50, _("赋权与聚合"))
    tree = indicators["dimension"].drop(index=constant)
    indicator_weights, dimension_weights, weight_notes = _weights(
        normalised, tree, inputs.dimensions, steps["weights"]
    )
    dimension_scores = _aggregate_tree(
        normalised, tree, indicator_weights, steps["aggregate"], "dimension"
    )
    dimension_scores = dimension_scores[
        [d for d in inputs.dimensions.index if d in dimension_scores.columns]
    ]
    index = _aggregate(
        dimension_scores,
        dimension_weights[dimension_scores.columns],
        steps["aggregate"]["index"],
        steps["aggregate"],
    )
    peer = peer.loc[screened.index]
    effective_weights = (
        indicator_weights * dimension_weights.reindex(tree.loc[indicator_weights.index]).to_numpy()
    )
    obstacles = _obstacle_degrees(treated, directions, effective_weights)

    report(60, _("蒙特卡洛不确定性分析"))
    intervals, sensitivity = _rank_intervals(
        treated, directions, tree, indicator_weights, dimension_weights, spec
    )
    report(95, _("整理结果"))
    rows = _rows(
        places,
        raw,
        standards,
        indicators,
        normalised,
        effective_weights,
        obstacles,
        dimension_scores,
        dimension_weights,
        index,
        intervals,
        peer,
        inputs.dimensions,
        dropped,
        constant,
    )
    details = {
        "places": len(places),
        "ranked": len(screened),
        "screened_out": dropped,
        "indicators": list(indicators.index),
        "excluded_indicators": sorted(excluded),
        "constant_indicators": constant,
        "weights": {
            "indicators": _plain(effective_weights),
            "dimensions": _plain(dimension_weights),
        },
        "weight_notes": weight_notes,
        "sensitivity": sensitivity,
        "coherence": _coherence(normalised, dimension_scores, tree, spec.content["coherence"]),
        "treatment": _treatment_summary(screened, treat),
    }
    return rows, details


def _oriented_for_index(raw, indicators, inputs, places):
    """Values entering the index and their directions: a range indicator becomes its
    distance outside the standard's [low, high] band (0 inside), lower is better."""
    values, directions = raw.copy(), indicators["direction"].copy()
    for code in indicators.index[indicators["direction"] == 0]:
        bands = (
            inputs.standards.xs(code, level="indicator", drop_level=True)
            if code in inputs.standards.index.get_level_values("indicator")
            else pd.DataFrame()
        )
        bands = bands[bands["comparison"] == "between"] if len(bands) else bands
        if bands.empty:
            raise AssessmentError(
                _(
                    "区间最优指标 %(code)s 没有“介于”标准值，无法计入指数；请补充标准值或在方法说明"
                    " indicators.exclude 中排除它"
                )
                % {"code": code}
            )
        band = places["city_class"].map(
            lambda c, b=bands: (
                b.loc[c] if c in b.index else (b.loc[""] if "" in b.index else b.iloc[0])
            )
        )
        low = band.map(lambda row: row["value"]).astype(float)
        high = band.map(lambda row: row["value_high"]).astype(float)
        column = raw[code]
        values[code] = np.maximum(np.maximum(low - column, column - high), 0.0).where(
            column.notna()
        )
        directions[code] = -1
    return values, directions


def _impute(values, settings, peer, inputs, indicators, places):
    method = settings["method"]
    if method != "previous_year":
        return impute.impute(values, method=method, groups=peer if method == "group_mean" else None)
    earlier = inputs.history["value"].unstack("indicator").reindex(columns=indicators.index)
    earlier = earlier[earlier.index.get_level_values("place").isin(places.index)]
    current = values.copy()
    current.index = pd.MultiIndex.from_arrays(
        [values.index, np.full(len(values), inputs.round_year)], names=["place", "year"]
    )
    panel = pd.concat([earlier, current])
    filled = impute.impute(panel, method="previous_year", year_level="year")
    return filled.xs(inputs.round_year, level="year").loc[values.index]


def _normalise(treated, directions, settings, inputs):
    method = settings["method"]
    options = {"low": settings["low"], "high": settings["high"]} if method == "minmax" else {}
    if method == "distance_to_target":
        targets = inputs.standards.groupby(level="indicator")["value"].first()
        options = {"targets": targets.reindex(treated.columns), "scale": settings["high"]}
    return normalise.normalise(treated, directions, method=method, **options)


def _weights(normalised, tree, dimensions, settings):
    """Indicator weights (summing to 1 within each dimension) and dimension weights."""
    notes = {}
    indicator_weights = []
    for dimension, codes in tree.groupby(tree, sort=False).groups.items():
        block = normalised[list(codes)]
        w, note = _weight_set(block, settings["indicators"], f"indicators/{dimension}")
        indicator_weights.append(w)
        notes.update(note)
    dimension_codes = [d for d in dimensions.index if d in set(tree)]
    proxy = pd.DataFrame(
        {d: normalised[tree.index[tree == d]].mean(axis=1) for d in dimension_codes}
    )
    dimension_weights, note = _weight_set(proxy, settings["dimensions"], "dimensions")
    notes.update(note)
    return pd.concat(indicator_weights), dimension_weights, notes


def _weight_set(block: pd.DataFrame, settings: dict, where: str) -> tuple[pd.Series, dict]:
    """The weights ``settings`` give the columns of ``block``, scaled to sum to 1."""
    codes = block.columns
    method = settings["method"]
    parts = settings["of"] if method in ("product", "linear") else [method]
    notes, sets = {}, []
    for part in parts:
        if len(codes) == 1:
            sets.append(pd.Series(1.0, index=codes))
        elif part == "equal":
            sets.append(weights.equal(block))
        elif part == "expert":
            given = settings["expert"]
            sets.append(weights.expert({c: given.get(c, 1.0) for c in codes}))
        elif part in ("entropy", "critic"):
            complete = block.dropna()
            sets.append(getattr(weights, part)(complete, np.ones(len(codes))))
        else:  # AHP over every listed code (the CR judges all judgements), then this block
            order = settings["order"]
            pairwise = pd.DataFrame(settings["pairwise"], index=order, columns=order)
            missing = [c for c in codes if c not in order]
            if missing:
                raise AssessmentError(
                    _("层次分析法的 order 未列出 %(code)s（%(where)s）")
                    % {"code": missing[0], "where": where}
                )
            ahp_weights, cr = weights.ahp(pairwise, method=settings["ahp_variant"])
            block_weights = ahp_weights[list(codes)]
            sets.append(block_weights / block_weights.sum())
            notes["AHP CR " + where.split("/")[0]] = round(float(cr), 6)
    if len(sets) == 1:
        return sets[0].reindex(codes).astype(float), notes
    combined = weights.combine(
        *[s.reindex(codes) for s in sets], method=method, coefficients=settings["coefficients"]
    )
    return combined.reindex(codes).astype(float), notes


def _aggregate(values: pd.DataFrame, w: pd.Series, method: str, settings: dict) -> pd.Series:
    if method == "topsis":
        return (
            aggregate.topsis(
                values, w, np.ones(values.shape[1]), normalisation=settings["topsis_normalisation"]
            )
            * 100
        )
    return aggregate.METHODS[method](values, w)


def _aggregate_tree(normalised, tree, indicator_weights, settings, level) -> pd.DataFrame:
    return pd.DataFrame(
        {
            dimension: _aggregate(
                normalised[list(codes)], indicator_weights[list(codes)], settings[level], settings
            )
            for dimension, codes in tree.groupby(tree, sort=False).groups.items()
        }
    )


def _obstacle_degrees(treated, directions, effective_weights) -> pd.DataFrame:
    """Obstacle degrees of the places with a value of every indicator (others: none)."""
    unit = normalise.minmax(treated, directions, low=0.0, high=1.0).dropna()
    if unit.empty:
        return unit
    return aggregate.obstacle_degree(unit, effective_weights[unit.columns])


def _tree(tree: pd.Series, dimensions) -> dict:
    """The engine's tree: indicator → dimension → index."""
    return {**tree.to_dict(), **{d: "index" for d in dimensions}}


def _rank_intervals(treated, directions, tree, indicator_weights, dimension_weights, spec):
    """Median rank and 5–95 % rank interval of each place from the engine's Monte Carlo,
    and the first-order sensitivity of the ranks to each uncertain choice."""
    settings, normalise_settings = spec.content["uncertainty"], spec.steps["normalise"]
    result = uncertainty.monte_carlo(
        treated,
        tree=_tree(tree, dimension_weights.index),
        directions=directions,
        weights=pd.concat([indicator_weights, dimension_weights]),
        draws=settings["draws"],
        weight_spread=settings["weight_spread"],
        normalisation=settings["normalisation"],
        aggregation=settings["aggregation"],
        low=normalise_settings["low"],
        high=normalise_settings["high"],
        random_state=settings["random_state"],
    )
    summary = result.summary
    intervals = pd.DataFrame(
        {
            "rank_median": summary["median_rank"],
            "rank_low": np.floor(summary["rank_q05"]).astype(int),
            "rank_high": np.ceil(summary["rank_q95"]).astype(int),
        }
    )
    return intervals, _plain(result.sensitivity.round(6))


def _coherence(normalised, dimension_scores, tree, settings) -> dict:
    """Cronbach's alpha per dimension and each indicator's correlation with its dimension,
    flagged when weak."""
    dimension_table, indicator_table = coherence.coherence(
        normalised,
        dimension_scores,
        tree=_tree(tree, dimension_scores.columns),
        min_alpha=settings["min_alpha"],
        min_correlation=settings["min_correlation"],
    )
    return {
        "dimensions": {
            str(code): {k: _plain_value(v) for k, v in row.items()}
            for code, row in dimension_table.round(6).iterrows()
        },
        "indicators": {
            str(code): {k: _plain_value(v) for k, v in row.items()}
            for code, row in indicator_table.round(6).iterrows()
        },
    }


def _treatment_summary(screened, settings) -> dict:
    details = outliers.treatment_details(
        screened,
        method=settings["method"],
        winmax=settings["winmax"],
        skew_threshold=settings["skew_threshold"],
        kurtosis_threshold=settings["kurtosis_threshold"],
    )
    return {
        "winsorised": {code: int(n) for code, n in details["n_winsorised"].items() if n},
        "log_transformed": [code for code, log in details["log_transformed"].items() if log],
    }


def _rows(
    places,
    raw,
    standards,
    indicators,
    normalised,
    effective_weights,
    obstacles,
    dimension_scores,
    dimension_weights,
    index,
    intervals,
    peer,
    dimensions,
    dropped,
    constant,
) -> pd.DataFrame:
    ranked = index.index
    count = len(ranked)
    peer_count = peer.map(peer.value_counts())
    index_rows = pd.DataFrame(
        {
            "place": ranked,
            "level": "index",
            "code": "index",
            "name_zh": _("城市健康指数"),
            "dimension_code": "",
            "value": index.to_numpy(),
            "score": index.to_numpy(),
            "weight": 1.0,
            "rank": aggregate.rank_places(index).to_numpy(),
            "place_count": count,
            "peer_group": peer.to_numpy(),
            "peer_rank": aggregate.rank_places(index, groups=peer).to_numpy(),
            "peer_count": peer_count.to_numpy(),
        }
    )
    index_rows = index_rows.join(intervals, on="place")
    frames = [index_rows]
    for code in dimension_scores.columns:
        scores = dimension_scores[code]
        frames.append(
            pd.DataFrame(
                {
                    "place": ranked,
                    "level": "dimension",
                    "code": code,
                    "name_zh": dimensions.loc[code, "name_zh"],
                    "dimension_code": code,
                    "value": scores.to_numpy(),
                    "score": scores.to_numpy(),
                    "weight": float(dimension_weights[code]),
                    "rank": aggregate.rank_places(scores).to_numpy(),
                    "place_count": count,
                    "peer_group": peer.to_numpy(),
                    "peer_rank": aggregate.rank_places(scores, groups=peer).to_numpy(),
                    "peer_count": peer_count.to_numpy(),
                }
            )
        )
    # Indicator rows for every place of the level, ranked or screened out: the standards
    # apply to every value, the index only to the places that passed screening.
    long = raw.stack(future_stack=True).rename("value").reset_index()
    normalised, obstacles = (
        normalised.reindex(columns=raw.columns),
        obstacles.reindex(columns=raw.columns),
    )
    long = long.join(standards, on=["place", "indicator"])
    long["score"] = [
        normalised.at[p, c] if p in normalised.index else np.nan
        for p, c in zip(long["place"], long["indicator"], strict=True)
    ]
    long["obstacle_degree"] = [
        obstacles.at[p, c] if p in obstacles.index else np.nan
        for p, c in zip(long["place"], long["indicator"], strict=True)
    ]
    indicator_ranks = normalised.rank(ascending=False, method="min")
    long["rank"] = [
        indicator_ranks.at[p, c] if p in indicator_ranks.index else np.nan
        for p, c in zip(long["place"], long["indicator"], strict=True)
    ]
    long["note"] = np.select(
        [long["place"].isin(dropped), long["indicator"].isin(constant)],
        [_("数据可得性不足，未参与指数排名"), _("本层级各地区取值相同，未参与指数计算")],
        "",
    )
    frames.append(
        pd.DataFrame(
            {
                "place": long["place"],
                "level": "indicator",
                "code": long["indicator"],
                "name_zh": long["indicator"].map(indicators["name_zh"]),
                "dimension_code": long["indicator"].map(indicators["dimension"]),
                "value": long["value"],
                "score": long["score"],
                "weight": long["indicator"].map(effective_weights),
                "rank": long["rank"],
                "place_count": count,
                "peer_group": long["place"].map(peer).fillna(""),
                "meets_standard": long["meets_standard"],
                "warning": long["warning"],
                "bottom_line_failed": long["bottom_line_failed"],
                "standard": long["standard"],
                "distance_to_target": long["distance_to_target"],
                "obstacle_degree": long["obstacle_degree"],
                "note": long["note"],
            }
        )
    )
    return pd.concat(frames, ignore_index=True)


def _plain(series: pd.Series) -> dict:
    return {str(k): _plain_value(v) for k, v in series.items()}


def _plain_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
