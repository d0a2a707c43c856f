"""Stand-ins for engine modules that had not landed when the platform part was written.

``citycheck.engine.standards``, ``citycheck.engine.coherence`` and
``citycheck.engine.uncertainty`` belong to the engine; until they exist the platform uses
these small versions with the same conventions (docs/assessment.md, "Engine bridge").
Replace each call with the engine function and delete this module when they land.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from citycheck.engine import aggregate, normalise

from .methods import MethodSpec


def score_standards(
    values: pd.DataFrame, standards: pd.DataFrame, city_classes: pd.Series
) -> pd.DataFrame:
    """达标, warning colour, shortfall and standard text of every place × indicator value.

    ``values`` is wide (place × indicator); ``standards`` is indexed by (indicator,
    city_class) with '' meaning every class; a place's own class wins over ''. Returns a
    frame indexed by (place, indicator) with ``meets_standard`` (True/False/None),
    ``warning`` (green/yellow/red or ''), ``bottom_line_failed``, ``standard`` (text) and
    ``distance_to_target`` (0 when met, else how far the value misses the standard).
    """
    long = values.stack(future_stack=True).rename("value").reset_index()
    long.columns = ["place", "indicator", "value"]
    long["city_class"] = long["place"].map(city_classes).fillna("")
    table = standards.reset_index()
    own = long.merge(table, on=["indicator", "city_class"], how="left", suffixes=("", "_std"))
    default = long.merge(
        table[table["city_class"] == ""], on="indicator", how="left", suffixes=("", "_std")
    )
    has_own = own["comparison"].notna()
    for column in ("comparison", "value_std", "value_high", "warning_band", "type"):
        own[column] = own[column].where(has_own, default[column])
    x, s, high = own["value"], own["value_std"], own["value_high"]
    comparison = own["comparison"]
    shortfall = np.select(
        [comparison == ">=", comparison == "<=", comparison == "between"],
        [s - x, x - s, np.maximum(s - x, x - high)],
        default=np.nan,
    )
    shortfall = pd.Series(np.maximum(shortfall, 0.0), index=own.index).where(
        x.notna() & comparison.notna()
    )
    meets = (shortfall <= 0).where(shortfall.notna())
    warning = np.select(
        [meets == True, shortfall <= own["warning_band"]],  # noqa: E712
        ["green", "yellow"],
        default="red",
    )
    text = np.where(
        comparison == "between",
        s.map("{:g}".format) + "–" + high.map(lambda v: f"{v:g}" if v == v else ""),
        comparison.fillna("") + " " + s.map(lambda v: f"{v:g}" if v == v else ""),
    )
    return pd.DataFrame(
        {
            "place": own["place"],
            "indicator": own["indicator"],
            "meets_standard": meets.astype(object).where(meets.notna(), None),
            "warning": np.where(shortfall.notna(), warning, ""),
            "bottom_line_failed": (own["type"] == "bottom_line") & (meets == False),  # noqa: E712
            "standard": np.where(comparison.notna(), text, ""),
            "distance_to_target": shortfall,
        }
    ).set_index(["place", "indicator"])


def coherence(
    normalised: pd.DataFrame, tree: pd.Series, *, min_alpha: float, min_correlation: float
) -> dict:
    """Cronbach's alpha and the weakest Pearson correlation inside each dimension.

    A dimension with one indicator has neither; ``weak`` flags a dimension whose alpha is
    below ``min_alpha`` or whose weakest correlation is below ``min_correlation``.
    """
    report = {}
    for dimension, codes in tree.groupby(tree, sort=False).groups.items():
        block = normalised[list(codes)].dropna()
        k = block.shape[1]
        if k < 2 or len(block) < 3:
            report[str(dimension)] = {
                "indicators": k,
                "alpha": None,
                "min_correlation": None,
                "weak": False,
            }
            continue
        item_variance = block.var(ddof=1).sum()
        total_variance = block.sum(axis=1).var(ddof=1)
        alpha = k / (k - 1) * (1 - item_variance / total_variance) if total_variance > 0 else None
        correlations = block.corr().to_numpy()[np.triu_indices(k, 1)]
        weakest = float(np.nanmin(correlations)) if np.isfinite(correlations).any() else None
        report[str(dimension)] = {
            "indicators": k,
            "alpha": None if alpha is None else round(float(alpha), 6),
            "min_correlation": None if weakest is None else round(weakest, 6),
            "weak": bool(
                (alpha is not None and alpha < min_alpha)
                or (weakest is not None and weakest < min_correlation)
            ),
        }
    return report


def rank_intervals(
    treated: pd.DataFrame,
    directions: pd.Series,
    tree: pd.Series,
    spec: MethodSpec,
    *,
    base_weights: tuple[pd.Series, pd.Series],
    base_ranks: pd.Series,
    report: Callable[[float, str], None],
) -> tuple[pd.DataFrame, dict]:
    """Monte Carlo over the index choices: median rank and 5–95 % interval of each place.

    Each draw picks a normalisation and an aggregation from the specification's
    ``uncertainty`` lists and multiplies every weight by U(1 − s, 1 + s). Returns the
    intervals (by place: ``rank_median``, ``rank_low``, ``rank_high``) and, per uncertain
    choice, the mean absolute rank shift from ``base_ranks`` in the draws that took it.
    """
    settings = spec.content["uncertainty"]
    steps = spec.steps
    draws = settings["draws"]
    places = treated.index
    if draws == 0:
        empty = pd.DataFrame(index=places, columns=["rank_median", "rank_low", "rank_high"])
        return empty, {}
    rng = np.random.default_rng(settings["random_state"])
    low, high = steps["normalise"]["low"], steps["normalise"]["high"]
    normalised = {
        method: _rescaled(normalise.normalise(treated, directions, method=method), low, high)
        for method in settings["normalisation"]
    }
    indicator_weights, dimension_weights = base_weights
    groups = {d: list(codes) for d, codes in tree.groupby(tree, sort=False).groups.items()}
    dims = list(dimension_weights.index)
    spread = settings["weight_spread"]
    ranks = np.empty((draws, len(places)))
    choices = []
    for draw in range(draws):
        method = settings["normalisation"][rng.integers(len(settings["normalisation"]))]
        how = settings["aggregation"][rng.integers(len(settings["aggregation"]))]
        w = indicator_weights * rng.uniform(1 - spread, 1 + spread, len(indicator_weights))
        wd = dimension_weights * rng.uniform(1 - spread, 1 + spread, len(dimension_weights))
        values = normalised[method]
        scores = pd.DataFrame({d: _aggregate(values[groups[d]], w[groups[d]], how) for d in dims})
        index = _aggregate(scores, wd, how)
        ranks[draw] = aggregate.rank_places(index).to_numpy()
        choices.append((method, how))
        if draw % max(1, draws // 20) == 0:
            report(100 * draw / draws, f"{draw}/{draws}")
    intervals = pd.DataFrame(
        {
            "rank_median": np.median(ranks, axis=0),
            "rank_low": np.floor(np.quantile(ranks, 0.05, axis=0)).astype(int),
            "rank_high": np.ceil(np.quantile(ranks, 0.95, axis=0)).astype(int),
        },
        index=places,
    )
    shifts = np.abs(ranks - base_ranks.reindex(places).to_numpy()).mean(axis=1)
    chosen = pd.DataFrame(choices, columns=["normalisation", "aggregation"])
    sensitivity = {
        name: {
            str(option): round(float(shifts[(chosen[name] == option).to_numpy()].mean()), 6)
            for option in chosen[name].unique()
        }
        for name in chosen.columns
    }
    return intervals, sensitivity


def _rescaled(frame: pd.DataFrame, low: float, high: float) -> pd.DataFrame:
    """Bring any normalisation onto [low, high] so that every aggregation applies."""
    span = (frame.max() - frame.min()).replace(0, np.nan)
    return (frame - frame.min()) / span * (high - low) + low


def _aggregate(values: pd.DataFrame, weights: pd.Series, how: str) -> pd.Series:
    if how == "topsis":
        return (
            aggregate.topsis(values.fillna(values.mean()), weights, np.ones(values.shape[1])) * 100
        )
    return aggregate.METHODS[how](values, weights)
