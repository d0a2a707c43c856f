"""Uncertainty and sensitivity of the index ranks (OECD/JRC handbook step 8).

:func:`monte_carlo` recomputes the index many times with the uncertain choices drawn at
random, all draws at once:

* **weights**: every local weight (indicator in dimension, dimension in index, ...) is
  multiplied by a factor uniform in ``[1 - weight_spread, 1 + weight_spread]`` and the
  weights of each parent re-scaled to sum to 1;
* **normalisation**: one of ``normalisation`` (``minmax``, ``percentile_rank`` on
  ``[low, high]``, ``zscore``, ``rank``);
* **aggregation**: one of ``aggregation`` (``arithmetic``, ``geometric``) at every level.

With the weights of each parent summing to 1, an arithmetic (or geometric) mean of means
is a single arithmetic (geometric) mean with the product of the weights down the tree,
so each draw is one matrix product: 1,000 draws on 3,000 places x 70 indicators take well
under a second.

Each place gets its nominal rank (first option of each choice, unperturbed weights),
median rank and 5-95 % rank interval. For each uncertain input, the first-order
sensitivity index ``S = Var(E[Y | input]) / Var(Y)`` of ``Y`` = the draw's mean absolute
rank shift from the nominal ranks says which choice moves ranks most (the weight
perturbation is summarised by its mean absolute change and binned into deciles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from . import normalise as normalise_module
from ._validation import (
    DataError,
    ParameterError,
    check_choice,
    check_directions,
    check_fraction,
    check_no_missing,
    check_random_state,
    check_values,
)
from .index import Tree

__all__ = ["AGGREGATIONS", "NORMALISATIONS", "UncertaintyResult", "monte_carlo"]

NORMALISATIONS = ("minmax", "percentile_rank", "zscore", "rank")
AGGREGATIONS = ("arithmetic", "geometric")


@dataclass(frozen=True)
class UncertaintyResult:
    """Ranks under uncertainty.

    Attributes
    ----------
    summary : DataFrame
        By place: ``nominal_rank, median_rank, mean_rank, rank_q05, rank_q95``.
    draws : DataFrame
        By draw: ``normalisation, aggregation, weight_change, mean_rank_shift``.
    sensitivity : Series
        First-order sensitivity index of the mean rank shift to ``weights``,
        ``normalisation`` and ``aggregation`` (0..1; larger moves ranks more).
    ranks : ndarray of shape (n_places, draws)
        The rank of each place in each draw.
    """

    summary: pd.DataFrame
    draws: pd.DataFrame
    sensitivity: pd.Series
    ranks: np.ndarray


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
    low: float = 1.0,
    high: float = 100.0,
    random_state=None,
) -> UncertaintyResult:
    """Monte Carlo over weights, normalisation and aggregation; rank intervals per place.

    Parameters
    ----------
    values : DataFrame of shape (n_places, n_indicators)
        Imputed and treated indicator values (no missing values), columns = the tree's
        indicators.
    tree : mapping child -> parent or frame (see :class:`citycheck.engine.index.Tree`)
    directions : mapping, Series or sequence of +1/-1
    weights : Series, optional
        Nominal weight of every node within its parent (``IndexResult.weights``); default
        equal.
    draws : int
        Number of draws (>= 10).
    weight_spread : float in [0, 1)
        Half-width of the multiplicative uniform perturbation of each weight.
    normalisation, aggregation : sequence of str
        The alternatives drawn with equal probability; the first is the nominal choice.
    low, high : float
        Range of ``minmax`` and ``percentile_rank`` (positive for the geometric mean).
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
    """
    checked = check_values(values)
    frame = checked.frame
    check_no_missing(frame, method="Monte Carlo uncertainty analysis")
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
    aggregations = _options("aggregation", aggregation, AGGREGATIONS)
    if "geometric" in aggregations and {"zscore"} & set(normalisations):
        raise ParameterError(
            "normalisation",
            "options giving positive values when aggregation includes 'geometric'",
            "zscore",
        )
    if not 0 < low < high and "geometric" in aggregations:
        raise ParameterError("low, high", "0 < low < high for the geometric mean", (low, high))
    rng = check_random_state(random_state)

    nodes = structure.parent.index
    parent_position = pd.Index(pd.unique(structure.parent.to_numpy())).get_indexer(structure.parent)
    nominal_local = _nominal_weights(structure, weights)
    ancestors = _ancestor_positions(structure)

    noise = rng.uniform(1 - spread, 1 + spread, size=(len(nodes), draws))
    noise[:, 0] = 1.0  # draw 0 is the nominal method
    chosen_normalisation = rng.integers(len(normalisations), size=draws)
    chosen_aggregation = rng.integers(len(aggregations), size=draws)
    chosen_normalisation[0] = chosen_aggregation[0] = 0
    effective = _effective_weights(nominal_local[:, None] * noise, parent_position, ancestors)

    # draws in rows: each draw's ranking is a sort of one contiguous row
    scores = np.empty((draws, len(frame)))
    for k, method in enumerate(normalisations):
        normalised = _normalised(frame, signs, method, low, high)
        for a, how in enumerate(aggregations):
            rows = np.flatnonzero((chosen_normalisation == k) & (chosen_aggregation == a))
            if len(rows) == 0:
                continue
            if how == "arithmetic":
                scores[rows] = effective[:, rows].T @ normalised.T
            else:
                scores[rows] = np.exp(effective[:, rows].T @ np.log(normalised).T)
    ranks = rankdata(-scores, axis=1, method="min").astype(np.int32)
    nominal = ranks[0]
    shift = np.abs(ranks - nominal).mean(axis=1)
    weight_change = np.abs(noise - 1.0).mean(axis=0)
    quantiles = np.quantile(ranks, [0.05, 0.5, 0.95], axis=0)

    summary = pd.DataFrame(
        {
            "nominal_rank": nominal,
            "median_rank": quantiles[1],
            "mean_rank": ranks.mean(axis=0),
            "rank_q05": quantiles[0],
            "rank_q95": quantiles[2],
        },
        index=frame.index,
    )
    draw_table = pd.DataFrame(
        {
            "normalisation": np.asarray(normalisations)[chosen_normalisation],
            "aggregation": np.asarray(aggregations)[chosen_aggregation],
            "weight_change": weight_change,
            "mean_rank_shift": shift,
        }
    )
    weight_bins = (
        pd.qcut(weight_change, 10, labels=False, duplicates="drop") if spread > 0 else None
    )
    sensitivity = pd.Series(
        {
            "weights": _first_order(shift, weight_bins),
            "normalisation": _first_order(shift, chosen_normalisation),
            "aggregation": _first_order(shift, chosen_aggregation),
        }
    )
    return UncertaintyResult(summary, draw_table, sensitivity, ranks.T)


def _options(name, given, allowed) -> tuple:
    options = (given,) if isinstance(given, str) else tuple(given)
    if not options:
        raise ParameterError(name, "at least one of " + ", ".join(allowed), given)
    for option in options:
        check_choice(name, option, allowed)
    return options


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


def _ancestor_positions(tree: Tree) -> list[list[int]]:
    """For each indicator, the positions (in ``tree.parent``) of itself and its ancestors."""
    position = {code: i for i, code in enumerate(tree.parent.index)}
    chains = []
    for code in tree.indicators:
        chain, node = [], code
        while node != tree.root:
            chain.append(position[node])
            node = tree.parent[node]
        chains.append(chain)
    return chains


def _effective_weights(local: np.ndarray, parent_position: np.ndarray, ancestors) -> np.ndarray:
    """Re-scale local weights within each parent, then multiply them down each chain."""
    sums = np.zeros((parent_position.max() + 1, local.shape[1]))
    np.add.at(sums, parent_position, local)
    local = local / sums[parent_position]
    effective = np.ones((len(ancestors), local.shape[1]))
    for i, chain in enumerate(ancestors):
        for position in chain:
            effective[i] *= local[position]
    return effective


def _normalised(frame: pd.DataFrame, signs, method: str, low: float, high: float) -> np.ndarray:
    if method == "minmax":
        return normalise_module.minmax(frame, signs, low=low, high=high).to_numpy()
    unit = normalise_module.METHODS[method](frame, signs).to_numpy()
    return unit * (high - low) + low if method == "percentile_rank" else unit


def _first_order(outcome: np.ndarray, labels) -> float:
    """Var(E[Y | label]) / Var(Y), from the draws grouped by label."""
    total = outcome.var()
    if labels is None or total == 0:
        return 0.0
    means = pd.Series(outcome).groupby(np.asarray(labels)).transform("mean").to_numpy()
    return float(means.var() / total)
