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
# Draws computed together: at most this many places x draws cells (250 draws of 3,000
# places), bounding the memory of the (places x draws) arrays of every node.
CHUNK_CELLS = 750_000


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
    # Draws sorted by normalisation, then by the choice of each level: each normalisation
    # is computed once, and within a chunk the draws sharing a level's choice are one
    # contiguous slice (views, one matrix product per dimension and choice).
    order = np.lexsort((*chosen_aggregation[::-1], chosen_normalisation))
    scores = np.empty((len(frame), draws))
    chunk = max(1, CHUNK_CELLS // len(frame))
    for k, method in enumerate(normalisations):
        normalised = normalise_module.on_scale(
            frame, signs, method=method, low=low, high=high, targets=targets
        ).to_numpy()
        prepared = model.prepare(normalised)
        selected = order[chosen_normalisation[order] == k]
        for start in range(0, len(selected), chunk):
            columns = selected[start : start + chunk]
            scores[:, columns] = model.index_scores(
                prepared, local[:, columns], chosen_aggregation[:, columns]
            )
    ranks = np.empty(scores.shape, dtype=np.int32)
    for start in range(0, draws, chunk):  # (bounds the sort's temporaries)
        ranks[:, start : start + chunk] = _ranks(scores[:, start : start + chunk])
    nominal = (
        ranks[:, 0]
        if nominal_ranks is None
        else pd.Series(nominal_ranks).reindex(frame.index).to_numpy(dtype=np.int64)
    )
    summary = _summary(ranks, nominal, frame.index)
    # By chunks of draws: no (places x draws) int64 temporaries (exact integer sums).
    shift = np.concatenate(
        [
            np.abs(ranks[:, start : start + chunk] - nominal[:, None]).mean(axis=0)
            for start in range(0, draws, chunk)
        ]
    )
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
    """Quantiles of each place's ranks and the interval widened to hold the nominal rank
    (by chunks of places: the quantiles sort a copy of the ranks they are given)."""
    rows = max(1, CHUNK_CELLS // ranks.shape[1])
    q05, median, q95 = np.concatenate(
        [
            np.quantile(ranks[start : start + rows], QUANTILES, axis=1)
            for start in range(0, len(ranks), rows)
        ],
        axis=1,
    )
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
        position = {code: i for i, code in enumerate(tree.parent.index)}
        column = {code: i for i, code in enumerate(tree.indicators)}
        # (node, level, rows of its children's weights, its children: indicator columns
        # for the dimension level, else child nodes), children-first.
        self.steps = []
        for node in tree.aggregates:
            children = list(tree.children(node))
            level = tree.aggregation_level(node)
            members = [column[c] for c in children] if level == "dimension" else children
            self.steps.append((node, level, [position[c] for c in children], members))

    def prepare(self, normalised: np.ndarray) -> dict:
        """What every draw of one normalisation shares: each dimension's values, which
        are present, and (filled lazily) their zero-filled and logged forms."""
        prepared = {}
        for node, level, _, members in self.steps:
            if level == "dimension":
                values = normalised[:, members]
                prepared[node] = {"values": values, "present": ~np.isnan(values)}
        return prepared

    def index_scores(self, prepared: dict, local, chosen) -> np.ndarray:
        """Root scores (places x draws) for the draws' weights and per-level choices;
        the draws are sorted by each level's choice (contiguous runs)."""
        n_places = len(next(iter(prepared.values()))["values"])
        node_scores: dict = {}
        gaps = set()  # the nodes with a missing score in some draw
        for node, level, rows, members in self.steps:
            child_weights = local[rows]
            result = np.empty((n_places, local.shape[1]))
            for option, draws in _runs(chosen[LEVELS.index(level)]):
                how = self.choices[level][option]
                if level == "dimension":
                    result[:, draws] = self._dimension_mean(
                        prepared[node], child_weights[:, draws], how
                    )
                else:
                    columns = [node_scores[c][:, draws] for c in members]
                    complete = gaps.isdisjoint(members)
                    result[:, draws] = self._mean(columns, child_weights[:, draws], how, complete)
            node_scores[node] = result
            if np.isnan(result.sum()):  # NaN, or infinities of both signs: the careful path
                gaps.add(node)
        return node_scores[self.tree.root]

    def _dimension_mean(self, children: dict, weights, how) -> np.ndarray:
        """Weighted means (places x draws) of one places x children array shared by every
        draw, skipping missing values: two matrix products over all the draws."""
        if how == "topsis":
            return self._topsis(lambda d: children["values"], weights)
        if how not in children:
            present, values = children["present"], children["values"]
            with np.errstate(invalid="ignore", divide="ignore"):
                kept = np.where(present, values, 1.0)
                children[how] = np.where(present, np.log(kept) if how == "geometric" else kept, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (children[how] @ weights) / (children["present"] @ weights)
        return np.exp(means) if how == "geometric" else means

    def _mean(self, children: list, weights, how, complete: bool) -> np.ndarray:
        """Weighted means (places x draws) of a list of places x draws arrays (one per
        child), skipping missing values (``complete``: the children have none)."""
        if how == "topsis":
            stacked = np.stack(children, axis=1)
            return self._topsis(lambda d: stacked[:, :, d], weights)
        transform = np.log if how == "geometric" else (lambda x: x)
        with np.errstate(invalid="ignore", divide="ignore"):
            if complete:
                # Every child present: the shares are the weights themselves (the same
                # sums in the same order as below, without the masks).
                totals = np.zeros(weights.shape[1])
                summed = np.zeros_like(children[0])
                for child, weight in zip(children, weights, strict=True):
                    totals += weight
                    summed += transform(child) * weight
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

    def _topsis(self, values_of_draw, weights) -> np.ndarray:
        """TOPSIS closeness of each draw on the published scale (one draw at a time)."""
        return np.column_stack(
            [
                self.low
                + (self.high - self.low)
                * aggregate_module.topsis(
                    values_of_draw(d),
                    weights[:, d],
                    np.ones(weights.shape[0]),
                    normalisation=self.topsis_normalisation,
                )
                for d in range(weights.shape[1])
            ]
        )


def _runs(labels: np.ndarray):
    """``(label, slice)`` of each run of equal labels, in order."""
    edges = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts, stops = np.r_[0, edges], np.r_[edges, len(labels)]
    return [(labels[a], slice(a, b)) for a, b in zip(starts, stops, strict=True)]


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks (places x draws, int32) of each draw's scores: 1 = highest, ties sharing the
    best rank (``rankdata(-scores, axis=0, method="min")``), each draw sorted as one
    contiguous row."""
    by_draw = np.ascontiguousarray(-scores.T)  # a contiguous row per draw
    order = np.argsort(by_draw, axis=1)
    ordered = np.take_along_axis(by_draw, order, axis=1)
    first = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    best = np.where(first, np.arange(1, ordered.shape[1] + 1, dtype=np.int32), 0)
    np.maximum.accumulate(best, axis=1, out=best)
    ranks = np.empty_like(best)
    np.put_along_axis(ranks, order, best, axis=1)
    return ranks.T


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
