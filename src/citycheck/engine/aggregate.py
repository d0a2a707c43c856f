"""Aggregation (OECD/JRC handbook step 7), obstacle degree and ranking.

* :func:`arithmetic` and :func:`geometric`: weighted means across indicators, skipping a
  place's missing values and re-scaling its remaining weights (COINr ``a_amean``,
  ``a_gmean``);
* :func:`topsis`: closeness to the ideal place, with ``normalisation="vector"`` (Hwang &
  Yoon's original, as scikit-criteria's ``VectorScaler`` + ``TOPSIS`` and pymcdm's
  ``TOPSIS(vector_normalization)``) or ``"minmax"`` (pymcdm's default);
* :func:`obstacle_degree`: how much each indicator pulls a place down;
* :func:`rank_places`: overall and peer-group ranks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import (
    DataError,
    ParameterError,
    check_choice,
    check_directions,
    check_groups,
    check_min_rows,
    check_no_missing,
    check_values,
    check_weights,
)

__all__ = ["METHODS", "arithmetic", "geometric", "obstacle_degree", "rank_places", "topsis"]


def _by_place(checked, scores: np.ndarray):
    return scores if checked.is_array else pd.Series(scores, index=checked.frame.index)


def _present_weights(frame: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """Each place's weights over its non-missing values, scaled to sum to 1."""
    present = frame.notna().to_numpy()
    per_place = np.where(present, weights, 0.0)
    totals = per_place.sum(axis=1, keepdims=True)
    if (totals[:, 0] <= 0).any():
        place = frame.index[np.argmax(totals[:, 0] <= 0)]
        raise DataError("no weighted indicator has a value to aggregate", place=place)
    return per_place / totals


def arithmetic(values, weights):
    """Weighted arithmetic mean of each place's values.

    ``y_i = sum_j w_j x_ij / sum_j w_j`` over the indicators the place has values for.

    Parameters
    ----------
    values : DataFrame or ndarray of shape (n_places, n_indicators)
    weights : mapping, Series or sequence of non-negative numbers (relative)

    Returns
    -------
    Series (by place) or ndarray of shape (n_places,)

    Examples
    --------
    >>> values = pd.DataFrame({"a": [10.0, 20.0], "b": [30.0, None]}, index=["p", "q"])
    >>> arithmetic(values, {"a": 1, "b": 3}).tolist()
    [25.0, 20.0]
    """
    checked = check_values(values)
    frame = checked.frame
    shares = _present_weights(frame, check_weights(weights, frame.columns))
    return _by_place(checked, np.nansum(shares * frame.to_numpy(), axis=1))


def geometric(values, weights):
    """Weighted geometric mean of each place's values, which must be positive.

    ``y_i = exp(sum_j w_j ln x_ij / sum_j w_j)`` over the indicators the place has values for.

    Raises
    ------
    DataError
        At the first zero or negative value, naming the place and the indicator (normalise
        to a range such as [1, 100] first).

    Examples
    --------
    >>> values = pd.DataFrame({"a": [1.0, 4.0], "b": [100.0, 4.0]})
    >>> geometric(values, [1, 1]).round(6).tolist()
    [10.0, 4.0]
    """
    checked = check_values(values)
    frame = checked.frame
    array = frame.to_numpy()
    bad = ~np.isnan(array) & (array <= 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"the geometric mean needs positive values; got {array[row, col]:g}",
            place=frame.index[row],
            indicator=frame.columns[col],
        )
    shares = _present_weights(frame, check_weights(weights, frame.columns))
    logs = np.log(np.where(np.isnan(array), 1.0, array))
    return _by_place(checked, np.exp((shares * logs).sum(axis=1)))


def topsis(X, weights, directions, *, normalisation: str = "vector"):
    """TOPSIS relative closeness to the ideal place, in [0, 1] (higher is better).

    ``r`` = normalised values; ``v = w r``; the ideal takes the best ``v`` of each indicator
    (highest for +1, lowest for -1), the anti-ideal the worst; closeness
    ``C_i = D_i^- / (D_i^+ + D_i^-)`` with Euclidean distances.

    Parameters
    ----------
    X : DataFrame or ndarray of shape (n_places, n_indicators)
        No missing values; at least 2 places.
    weights : mapping, Series or sequence (relative)
    directions : mapping, Series or sequence of +1/-1
    normalisation : {"vector", "minmax"}
        ``"vector"``: ``r_ij = x_ij / sqrt(sum_i x_ij^2)``; ``"minmax"``: direction-aware
        min-max to [0, 1] (then every indicator is "higher is better").

    Returns
    -------
    Series (by place) or ndarray of shape (n_places,)

    Examples
    --------
    >>> X = np.array([[250.0, 16, 12], [200, 16, 8], [300, 32, 16], [275, 32, 8]])
    >>> topsis(X, [0.4, 0.3, 0.3], [-1, 1, 1]).round(3).tolist()
    [0.361, 0.354, 0.646, 0.448]
    """
    checked = check_values(X, name="X", copy=False)  # read only
    check_choice("normalisation", normalisation, ("vector", "minmax"))
    frame = checked.frame
    check_no_missing(frame, name="X", method="TOPSIS")
    check_min_rows(frame, 2, method="TOPSIS")
    shares = check_weights(weights, frame.columns)
    signs = check_directions(directions, frame.columns)
    array = frame.to_numpy()
    if normalisation == "vector":
        norms = np.sqrt((array**2).sum(axis=0))
        if (norms == 0).any():
            code = frame.columns[np.argmax(norms == 0)]
            raise DataError("vector normalisation needs a non-zero indicator", indicator=code)
        weighted = np.divide(array, norms)
        np.multiply(weighted, shares, out=weighted)  # (in place: array / norms * shares)
        best = np.where(signs > 0, weighted.max(axis=0), weighted.min(axis=0))
        worst = np.where(signs > 0, weighted.min(axis=0), weighted.max(axis=0))
    else:
        oriented = array * signs
        low, high = oriented.min(axis=0), oriented.max(axis=0)
        span = np.where(high > low, high - low, 1.0)  # a constant indicator scores 0 everywhere
        weighted = np.subtract(oriented, low, out=oriented)  # (oriented - low) / span * shares
        np.multiply(np.divide(weighted, span, out=weighted), shares, out=weighted)
        best, worst = weighted.max(axis=0), weighted.min(axis=0)
    gap = np.empty_like(weighted)  # one scratch array for both distances
    to_best = np.sqrt(np.square(np.subtract(weighted, best, out=gap), out=gap).sum(axis=1))
    to_worst = np.sqrt(np.square(np.subtract(weighted, worst, out=gap), out=gap).sum(axis=1))
    total = to_best + to_worst
    if (total == 0).any():
        raise DataError("TOPSIS is undefined: every weighted indicator is constant")
    return _by_place(checked, to_worst / total)


METHODS = {"arithmetic": arithmetic, "geometric": geometric}


def obstacle_degree(normalised, weights):
    """Obstacle degree of each indicator for each place (Chinese literature convention).

    ``O_ij = w_j (1 - x_ij) / sum_k w_k (1 - x_ik)`` on values normalised to [0, 1] with
    1 = best: the share of the place's total shortfall that indicator j causes. Each row
    sums to 1; a place at the best value on every indicator has no obstacle (all 0).

    Parameters
    ----------
    normalised : DataFrame or ndarray of shape (n_places, n_indicators), values in [0, 1]
    weights : mapping, Series or sequence (relative): the indicators' weights in the index

    Returns
    -------
    DataFrame or ndarray, same shape

    Examples
    --------
    >>> normalised = pd.DataFrame({"a": [0.0, 1.0], "b": [0.5, 1.0]})
    >>> obstacle_degree(normalised, [0.5, 0.5]).round(3).to_dict("list")
    {'a': [0.667, 0.0], 'b': [0.333, 0.0]}
    """
    checked = check_values(normalised, name="normalised")
    frame = checked.frame
    check_no_missing(frame, name="normalised", method="obstacle degree")
    array = frame.to_numpy()
    outside = (array < -1e-12) | (array > 1 + 1e-12)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        raise DataError(
            f"obstacle degree needs values normalised to [0, 1]; got {array[row, col]:g}",
            place=frame.index[row],
            indicator=frame.columns[col],
        )
    # One array, computed in place: w (1 - clip(x)), then each row over its total (0 in a
    # row without shortfall).
    degrees = np.clip(array, 0.0, 1.0)
    np.subtract(1.0, degrees, out=degrees)
    degrees *= check_weights(weights, frame.columns)
    totals = degrees.sum(axis=1, keepdims=True)
    has_shortfall = totals > 0
    np.divide(degrees, totals, out=degrees, where=has_shortfall)
    degrees[~has_shortfall[:, 0]] = 0.0
    return checked.wrap(pd.DataFrame(degrees, index=frame.index, columns=frame.columns, copy=False))


def rank_places(scores, *, groups=None):
    """Rank places by score, 1 = best, ties share the best rank; within groups if given.

    Parameters
    ----------
    scores : Series (by place) or 1-D array
    groups : Series (by place), mapping or sequence, optional
        Peer group of each place (e.g. city class); ranks are then within each group.

    Returns
    -------
    Series or ndarray of int ranks

    Examples
    --------
    >>> scores = pd.Series([70.0, 90.0, 80.0, 60.0], index=list("abcd"))
    >>> rank_places(scores).tolist()
    [3, 1, 2, 4]
    >>> rank_places(scores, groups=["x", "x", "y", "y"]).tolist()
    [2, 1, 1, 2]
    """
    is_array = not isinstance(scores, pd.Series)
    series = pd.Series(np.asarray(scores, dtype=float)) if is_array else scores.astype(float)
    if series.ndim != 1:
        raise ParameterError("scores", "a Series or 1-D array", f"{np.ndim(scores)}-D")
    if series.isna().any():
        raise DataError("a score is missing", place=series.index[series.isna()][0])
    codes = None
    if groups is not None:
        codes = pd.factorize(check_groups(groups, series.index).to_numpy())[0]
    ranks = _best_ranks(series.to_numpy(), codes)
    return ranks if is_array else pd.Series(ranks, index=series.index, name=series.name)


def _best_ranks(scores: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """Ranks (int64) of ``scores``, 1 = highest, ties sharing the best rank, within each
    group code if given: one sort (by code, then score) instead of a groupby."""
    descending = -scores
    order = np.lexsort((descending, codes)) if codes is not None else np.argsort(descending)
    ordered = descending[order]
    positions = np.arange(len(scores))
    first = np.ones(len(scores), dtype=bool)  # where a run of equal scores starts
    first[1:] = ordered[1:] != ordered[:-1]
    group_start = 0
    if codes is not None:
        opens = np.ones(len(scores), dtype=bool)
        opens[1:] = codes[order][1:] != codes[order][:-1]
        first |= opens
        group_start = np.maximum.accumulate(np.where(opens, positions, 0))
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.maximum.accumulate(np.where(first, positions, 0)) - group_start + 1
    return ranks
