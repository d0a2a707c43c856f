"""Uncertainty and sensitivity of the index ranks (OECD/JRC handbook step 8).

:func:`monte_carlo` recomputes the **published** index many times, each draw perturbing
it, all draws at once:

* **weights**: every local weight (indicator in dimension, dimension in index, ...) is
  multiplied by a factor uniform in ``[1 - weight_spread, 1 + weight_spread]`` and the
  weights of each parent re-scaled to sum to 1;
* **normalisation**: one of ``normalisation`` (the first is the published one), on the
  published scale ``[low, high]``;
* **aggregation**: at each level (``dimension``: indicators into their parents;
  ``index``: every higher node) one of the published choice of that level and the
  ``aggregation`` alternatives.

**Draw 0 is exactly the published model**: unperturbed weights, the published
normalisation and the published aggregation of each level (e.g. arithmetic for
dimensions and geometric for the index). A place's missing values are skipped and its
remaining weights re-scaled, as in the published aggregation.

**Draw order** (what ``random_state`` feeds, in this order, from
``numpy.random.default_rng(random_state)``): the weight factors
``uniform(1 - s, 1 + s, size=(n_nodes, draws))`` with nodes in the order of the tree
(``Tree.parent.index``); the normalisation of each draw ``integers(n_normalisations,
size=draws)``; then, for the dimension level and then the index level, the aggregation of
each draw ``integers(n_choices, size=draws)``, a level's choices being its published
method followed by the other alternatives in the order given. Draw 0 is then set to the
published model (factors 1, choice 0 everywhere).

**Rank intervals**: ranks are 1 = best with ties sharing the best rank; ``rank_q05`` and
``rank_q95`` are the 5 % and 95 % quantiles over the draws (numpy's default linear
interpolation, R's type 7); the published interval is ``rank_low = min(floor(q05),
nominal)`` and ``rank_high = max(ceil(q95), nominal)``, so the published rank always lies
inside its interval (``widened`` says where that changed an end).

For each uncertain input, the first-order sensitivity index ``S = Var(E[Y | input]) /
Var(Y)`` of ``Y`` = the draw's mean absolute rank shift from the nominal ranks says which
choice moves ranks most (the weight perturbation is summarised by its mean absolute
change and binned into deciles).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from . import aggregate as aggregate_module
from . import normalise as normalise_module
from ._tree import Tree
from ._validation import (
    DataError,
    ParameterError,
    check_choice,
    check_directions,
    check_fraction,
    check_random_state,
    check_values,
)

__all__ = ["AGGREGATIONS", "LEVELS", "NORMALISATIONS", "UncertaintyResult", "monte_carlo"]

NORMALISATIONS = normalise_module.SCALES
AGGREGATIONS = ("arithmetic", "geometric", "topsis")
LEVELS = ("dimension", "index")
QUANTILES = (0.05, 0.5, 0.95)
# Draws computed together: bounds the memory of (places x children x draws) arrays.
CHUNK = 250


@dataclass(frozen=True)
class UncertaintyResult:
    """Ranks under uncertainty.

    Attributes
    ----------
    summary : DataFrame
        By place: ``nominal_rank, median_rank, mean_rank, rank_q05, rank_q95, rank_low,
        rank_high, widened`` (see the module docstring for the interval rule).
    draws : DataFrame
        By draw: ``normalisation, dimension_aggregation, index_aggregation,
        weight_change, mean_rank_shift``.
    sensitivity : Series
        First-order sensitivity index of the mean rank shift to ``weights``,
        ``normalisation`` and ``aggregation`` (0..1; larger moves ranks more).
    ranks : ndarray of shape (n_places, draws)
        The rank of each place in each draw.
    scores : ndarray of shape (n_places, draws)
        The index score of each place in each draw (column 0 = the published model).
    """

    summary: pd.DataFrame
    draws: pd.DataFrame
    sensitivity: pd.Series
    ranks: np.ndarray
    scores: np.ndarray


def monte_carlo(
    values,
    *,
    tree,
    directions,
    weights=None,
    draws: int = 1000,
    weight_spread: float = 0.25,
    normalisation=("minmax",),
    aggregation=("arithmetic",),
    nominal_aggregation=None,
    low: float = 1.0,
    high: float = 100.0,
    targets=None,
    topsis_normalisation: str = "vector",
    nominal_ranks=None,
    random_state=None,
) -> UncertaintyResult:
    """Monte Carlo around a published index; rank intervals per place.

    Parameters
    ----------
    values : DataFrame of shape (n_places, n_indicators)
        The treated indicator values the published index normalised (``IndexResult.treated``),
        columns = the tree's indicators; a missing value is skipped in aggregation.
    tree : mapping child -> parent or frame (see :class:`citycheck.engine.index.Tree`)
    directions : mapping, Series or sequence of +1/-1
    weights : Series, optional
        Published weight of every node within its parent (``IndexResult.weights``);
        default equal.
    draws : int
        Number of draws (>= 10), draw 0 included.
    weight_spread : float in [0, 1)
        Half-width of the multiplicative uniform perturbation of each weight.
    normalisation : sequence of str
        The published normalisation first, then the alternatives drawn with it.
    aggregation : sequence of str
        Alternatives drawn, with each level's published choice, at every level.
    nominal_aggregation : mapping, optional
        The published choice per level, ``{"dimension": ..., "index": ...}``; default the
        first of ``aggregation`` at both levels.
    low, high : float
        The published scale (``normalise.low``/``high``; positive for the geometric mean).
    targets : mapping, optional
        Targets, when a normalisation is ``distance_to_target``.
    topsis_normalisation : {"vector", "minmax"}
        As in the published ``aggregate`` step.
    nominal_ranks : Series by place, optional
        The published ranks (default: the ranks of draw 0); the intervals include them.
    random_state : int, numpy Generator or None

    Returns
    -------
    UncertaintyResult

    Examples
    --------
    >>> values = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [4.0, 1.0, 3.0, 2.0]},
    ...                       index=list("pqrs"))
    >>> result = monte_carlo(values, tree={"a": "index", "b": "index"}, directions=[1, 1],
    ...                      draws=200, random_state=0)
    >>> result.summary["nominal_rank"].tolist()
    [3, 4, 1, 1]
    >>> bool((result.summary["rank_low"] <= result.summary["nominal_rank"]).all())
    True
    """
    frame = check_values(values).frame
    structure = Tree.from_any(tree)
    unknown = [c for c in frame.columns if c not in structure.indicators]
    if unknown or len(frame.columns) != len(structure.indicators):
        missing = unknown or [c for c in structure.indicators if c not in frame.columns]
        raise DataError("`values` and `tree` disagree on an indicator", indicator=missing[0])
    frame = frame[list(structure.indicators)]
    signs = check_directions(directions, frame.columns)
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 10:
        raise ParameterError("draws", "an integer >= 10", draws)
    spread = check_fraction("weight_spread", weight_spread, high=0.99)
    normalisations = _options("normalisation", normalisation, NORMALISATIONS)
    alternatives = _options("aggregation", aggregation, AGGREGATIONS)
    choices = _level_choices(nominal_aggregation, alternatives)
    _check_positive_scale(normalisations, choices, low, high)
    check_choice("topsis_normalisation", topsis_normalisation, ("vector", "minmax"))
    rng = check_random_state(random_state)

    nodes = structure.parent.index
    nominal_local = _nominal_weights(structure, weights)
    noise = rng.uniform(1 - spread, 1 + spread, size=(len(nodes), draws))
    chosen_normalisation = rng.integers(len(normalisations), size=draws)
    chosen_aggregation = np.vstack(
        [rng.integers(len(choices[level]), size=draws) for level in LEVELS]
    )
    noise[:, 0] = 1.0
    chosen_normalisation[0] = 0
    chosen_aggregation[:, 0] = 0
    local = _rescaled(nominal_local[:, None] * noise, structure)

    model = _Model(structure, choices, low, high, topsis_normalisation)
    scores = np.empty((len(frame), draws))
    for k, method in enumerate(normalisations):
        normalised = normalise_module.on_scale(
            frame, signs, method=method, low=low, high=high, targets=targets
        ).to_numpy()
        selected = np.flatnonzero(chosen_normalisation == k)
        for start in range(0, len(selected), CHUNK):
            columns = selected[start : start + CHUNK]
            scores[:, columns] = model.index_scores(
                normalised, local[:, columns], chosen_aggregation[:, columns]
            )
    if np.isnan(scores).any():
        place = frame.index[np.isnan(scores).any(axis=1)][0]
        raise DataError("a draw gives no index score (no value to aggregate)", place=place)

    ranks = rankdata(-scores, axis=0, method="min").astype(np.int32)
    nominal = (
        ranks[:, 0]
        if nominal_ranks is None
        else pd.Series(nominal_ranks).reindex(frame.index).to_numpy(dtype=np.int64)
    )
    summary = _summary(ranks, nominal, frame.index)
    shift = np.abs(ranks - nominal[:, None]).mean(axis=0)
    weight_change = np.abs(noise - 1.0).mean(axis=0)
    draw_table = pd.DataFrame(
        {
            "normalisation": np.asarray(normalisations)[chosen_normalisation],
            **{
                f"{level}_aggregation": np.asarray(choices[level])[chosen_aggregation[row]]
                for row, level in enumerate(LEVELS)
            },
            "weight_change": weight_change,
            "mean_rank_shift": shift,
        }
    )
    weight_bins = (
        pd.qcut(weight_change, 10, labels=False, duplicates="drop") if spread > 0 else None
    )
    aggregation_labels = chosen_aggregation[0] * len(choices["index"]) + chosen_aggregation[1]
    sensitivity = pd.Series(
        {
            "weights": _first_order(shift, weight_bins),
            "normalisation": _first_order(shift, chosen_normalisation),
            "aggregation": _first_order(shift, aggregation_labels),
        }
    )
    return UncertaintyResult(summary, draw_table, sensitivity, ranks, scores)


def _summary(ranks: np.ndarray, nominal: np.ndarray, places: pd.Index) -> pd.DataFrame:
    """Quantiles of each place's ranks and the interval widened to hold the nominal rank."""
    q05, median, q95 = np.quantile(ranks, QUANTILES, axis=1)
    low, high = np.floor(q05).astype(int), np.ceil(q95).astype(int)
    rank_low, rank_high = np.minimum(low, nominal), np.maximum(high, nominal)
    return pd.DataFrame(
        {
            "nominal_rank": nominal,
            "median_rank": median,
            "mean_rank": ranks.mean(axis=1),
            "rank_q05": q05,
            "rank_q95": q95,
            "rank_low": rank_low,
            "rank_high": rank_high,
            "widened": (rank_low != low) | (rank_high != high),
        },
        index=places,
    )


class _Model:
    """The index tree aggregated for many draws at once (places x draws arrays)."""

    def __init__(self, tree: Tree, choices: dict, low: float, high: float, topsis_norm: str):
        self.tree, self.choices = tree, choices
        self.low, self.high, self.topsis_normalisation = low, high, topsis_norm
        self.position = {code: i for i, code in enumerate(tree.parent.index)}
        self.column = {code: i for i, code in enumerate(tree.indicators)}

    def index_scores(self, normalised, local, chosen) -> np.ndarray:
        """Root scores (places x draws) for the draws' weights and per-level choices."""
        node_scores: dict = {}
        for node in self.tree.aggregates:
            children = list(self.tree.children(node))
            child_weights = local[[self.position[c] for c in children]]
            level = self.tree.aggregation_level(node)
            result = np.full((len(normalised), local.shape[1]), np.nan)
            for option, how in enumerate(self.choices[level]):
                draws = np.flatnonzero(chosen[LEVELS.index(level)] == option)
                if not len(draws):
                    continue
                if level == "dimension":
                    values = normalised[:, [self.column[c] for c in children]]
                    columns = values
                else:
                    columns = [node_scores[c][:, draws] for c in children]
                result[:, draws] = self._mean(columns, child_weights[:, draws], how)
            node_scores[node] = result
        return node_scores[self.tree.root]

    def _mean(self, children, weights, how) -> np.ndarray:
        """Weighted means (places x draws) skipping missing values: ``children`` is one
        places x children array shared by every draw, or a list of places x draws arrays
        (one per child)."""
        if how == "topsis":
            stacked = np.stack(children, axis=1) if isinstance(children, list) else children
            return np.column_stack(
                [
                    self.low
                    + (self.high - self.low)
                    * aggregate_module.topsis(
                        stacked[:, :, d] if stacked.ndim == 3 else stacked,
                        weights[:, d],
                        np.ones(weights.shape[0]),
                        normalisation=self.topsis_normalisation,
                    )
                    for d in range(weights.shape[1])
                ]
            )
        transform = np.log if how == "geometric" else (lambda x: x)
        with np.errstate(invalid="ignore", divide="ignore"):
            if isinstance(children, np.ndarray):  # the same values in every draw
                present = ~np.isnan(children)
                totals = present @ weights
                summed = np.where(present, transform(np.where(present, children, 1.0)), 0.0)
                means = (summed @ weights) / totals
            else:
                totals = np.zeros_like(children[0])
                summed = np.zeros_like(children[0])
                for child, weight in zip(children, weights, strict=True):
                    present = ~np.isnan(child)
                    share = np.where(present, weight[None, :], 0.0)
                    totals += share
                    summed += (
                        np.where(present, transform(np.where(present, child, 1.0)), 0.0) * share
                    )
                means = summed / totals
        return np.exp(means) if how == "geometric" else means


def _options(name, given, allowed) -> tuple:
    options = (given,) if isinstance(given, str) else tuple(given)
    if not options:
        raise ParameterError(name, "at least one of " + ", ".join(allowed), given)
    for option in options:
        check_choice(name, option, allowed)
    return tuple(dict.fromkeys(options))


def _level_choices(nominal, alternatives: tuple) -> dict:
    """Each level's choices: its published method first, then the other alternatives."""
    if nominal is None:
        nominal = dict.fromkeys(LEVELS, alternatives[0])
    if not isinstance(nominal, Mapping) or set(nominal) != set(LEVELS):
        raise ParameterError("nominal_aggregation", "a mapping with dimension and index", nominal)
    choices = {}
    for level in LEVELS:
        check_choice(f"nominal_aggregation.{level}", nominal[level], AGGREGATIONS)
        choices[level] = tuple(dict.fromkeys([nominal[level], *alternatives]))
    return choices


def _check_positive_scale(normalisations, choices, low, high) -> None:
    geometric = any("geometric" in options for options in choices.values())
    if not geometric:
        return
    if {"zscore"} & set(normalisations):
        raise ParameterError(
            "normalisation",
            "options giving positive values when aggregation includes 'geometric'",
            "zscore",
        )
    if not 0 < low < high:
        raise ParameterError("low, high", "0 < low < high for the geometric mean", (low, high))


def _nominal_weights(tree: Tree, weights) -> np.ndarray:
    nodes = tree.parent.index
    if weights is None:
        sizes = tree.parent.map(tree.parent.value_counts())
        return (1.0 / sizes).to_numpy()
    given = pd.Series(weights, dtype=float).reindex(nodes)
    if given.isna().any() or (given < 0).any():
        raise DataError(
            "`weights` has no non-negative weight", indicator=given.index[~(given >= 0)][0]
        )
    sums = given.groupby(tree.parent).transform("sum")
    return (given / sums).to_numpy()


def _rescaled(local: np.ndarray, tree: Tree) -> np.ndarray:
    """Local weights (nodes x draws) re-scaled to sum to 1 within each parent."""
    parent_position = pd.Index(pd.unique(tree.parent.to_numpy())).get_indexer(tree.parent)
    sums = np.zeros((parent_position.max() + 1, local.shape[1]))
    np.add.at(sums, parent_position, local)
    return local / sums[parent_position]


def _first_order(outcome: np.ndarray, labels) -> float:
    """Var(E[Y | label]) / Var(Y), from the draws grouped by label."""
    total = outcome.var()
    if labels is None or total == 0:
        return 0.0
    means = pd.Series(outcome).groupby(np.asarray(labels)).transform("mean").to_numpy()
    return float(means.var() / total)
