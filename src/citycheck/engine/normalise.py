"""Normalisation (OECD/JRC handbook step 5): bring indicators onto a common scale.

Every method is direction-aware: ``directions`` holds +1 where higher is better and -1
where lower is better, and after normalisation higher is always better. As in COINr,
a -1 indicator is normalised as ``-x``. Missing values stay missing.

Methods: :func:`minmax`, :func:`zscore`, :func:`distance_to_target`, :func:`goalposts`,
:func:`rank`, :func:`percentile_rank`, :func:`normalise` choosing one by name, and
:func:`on_scale` putting the chosen one on the index's scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import (
    DataError,
    ParameterError,
    check_choice,
    check_directions,
    check_not_constant,
    check_values,
)

__all__ = [
    "METHODS",
    "distance_to_target",
    "goalposts",
    "minmax",
    "normalise",
    "on_scale",
    "percentile_rank",
    "rank",
    "zscore",
]


def minmax(values, directions, *, low: float = 0.0, high: float = 100.0):
    """Scale each indicator linearly onto [low, high] (COINr ``n_minmax``).

    ``y = (d x - min(d x)) / (max(d x) - min(d x)) * (high - low) + low``.

    Parameters
    ----------
    values : DataFrame or ndarray of shape (n_places, n_indicators)
    directions : mapping, Series or sequence of +1/-1
    low, high : float
        The range; ``low < high``.

    Returns
    -------
    DataFrame or ndarray

    Examples
    --------
    >>> values = pd.DataFrame({"park": [1.0, 2.0, 3.0], "noise": [50.0, 60.0, 70.0]})
    >>> minmax(values, [1, -1]).to_dict("list")
    {'park': [0.0, 50.0, 100.0], 'noise': [100.0, 50.0, 0.0]}
    """
    checked = check_values(values)
    frame = checked.frame
    # On the array (the frame's own column-major layout), with the same operations as
    # on the frame: the same numbers, without pandas aligning every intermediate.
    oriented = frame.to_numpy() * check_directions(directions, frame.columns)
    if not low < high:
        raise ParameterError("low, high", "two numbers with low < high", (low, high))
    check_not_constant(
        pd.DataFrame(oriented, columns=frame.columns, copy=False), method="min-max normalisation"
    )
    lowest, highest = np.fmin.reduce(oriented, axis=0), np.fmax.reduce(oriented, axis=0)
    # In place on ``oriented`` (its own array): the same operations in the same order as
    # ``(oriented - lowest) / (highest - lowest) * (high - low) + low``, one array alive.
    scaled = np.subtract(oriented, lowest, out=oriented)
    scaled /= highest - lowest
    scaled *= high - low
    scaled += low
    return checked.wrap(pd.DataFrame(scaled, index=frame.index, columns=frame.columns, copy=False))


def zscore(values, directions, *, mean: float = 0.0, sd: float = 1.0):
    """Standardise each indicator to the given mean and standard deviation (COINr ``n_zscore``).

    Uses the sample standard deviation (``ddof=1``), as R's ``sd``.

    Examples
    --------
    >>> zscore(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), [-1])["a"].tolist()
    [1.0, 0.0, -1.0]
    """
    checked, oriented = _oriented(values, directions)
    if not sd > 0:
        raise ParameterError("sd", "a positive number", sd)
    check_not_constant(oriented, method="z-score normalisation")
    return checked.wrap((oriented - oriented.mean()) / oriented.std(ddof=1) * sd + mean)


def distance_to_target(values, directions, *, targets, scale: float = 100.0, cap: bool = True):
    """Progress from the worst observed value to a target, times ``scale``.

    ``y = (x - min x) / (target - min x)`` for +1 indicators and
    ``y = (max x - x) / (max x - target)`` for -1 indicators; with ``cap`` values past the
    target score ``scale``.

    Parameters
    ----------
    targets : mapping, Series or sequence
        The target of each indicator, by code or in column order.

    Examples
    --------
    >>> values = pd.DataFrame({"park": [2.0, 6.0, 12.0]})
    >>> distance_to_target(values, [1], targets={"park": 10.0})["park"].tolist()
    [0.0, 50.0, 100.0]
    """
    checked, oriented = _oriented(values, directions)
    oriented_targets = _per_indicator(targets, checked.frame, "targets") * _signs(
        checked, directions
    )
    worst = oriented.min()
    span = oriented_targets - worst
    if not (span > 0).all():
        code = span.index[~(span > 0)][0]
        raise DataError("the target is not better than the worst value", indicator=code)
    result = (oriented - worst) / span
    if cap:
        result = result.clip(upper=1.0)
    return checked.wrap(result * scale)


def goalposts(values, directions, *, lower, upper, scale: float = 100.0, truncate: bool = True):
    """Position between fixed goalposts: 0 at the worst post, ``scale`` at the best.

    For a +1 indicator ``y = (x - lower) / (upper - lower)``; for -1 the posts swap roles.
    With ``truncate`` values beyond the posts are clipped (COINr ``n_goalposts``).

    Parameters
    ----------
    lower, upper : mapping, Series or sequence
        Posts per indicator with ``lower < upper``.

    Examples
    --------
    >>> values = pd.DataFrame({"pm25": [15.0, 35.0, 80.0]})
    >>> goalposts(values, [-1], lower={"pm25": 15.0}, upper={"pm25": 75.0})["pm25"].round(2).tolist()
    [100.0, 66.67, 0.0]
    """
    checked = check_values(values)
    frame = checked.frame
    signs = _signs(checked, directions)
    low = _per_indicator(lower, frame, "lower")
    high = _per_indicator(upper, frame, "upper")
    if not (high > low).all():
        code = high.index[~(high > low)][0]
        raise DataError("goalposts need lower < upper", indicator=code)
    position = (frame - low) / (high - low)
    result = position.where(np.broadcast_to(signs.to_numpy() > 0, position.shape), 1 - position)
    if truncate:
        result = result.clip(0.0, 1.0)
    return checked.wrap(result * scale)


def rank(values, directions):
    """Rank of each place on each indicator, 1 = worst (COINr ``n_rank``, ties take the minimum).

    Examples
    --------
    >>> rank(pd.DataFrame({"a": [3.0, 1.0, 3.0]}), [1])["a"].tolist()
    [2.0, 1.0, 2.0]
    """
    checked, oriented = _oriented(values, directions)
    return checked.wrap(oriented.rank(method="min", na_option="keep"))


def percentile_rank(values, directions):
    """Percentile rank in [0, 1]: ``(rank - 1) / (n - 1)`` with minimum ties (COINr ``n_prank``).

    Examples
    --------
    >>> percentile_rank(pd.DataFrame({"a": [3.0, 1.0, 2.0]}), [-1])["a"].tolist()
    [0.0, 1.0, 0.5]
    """
    checked, oriented = _oriented(values, directions)
    ranks = oriented.rank(method="min", na_option="keep")
    counts = oriented.notna().sum()
    if (counts < 2).any():
        code = counts.index[counts < 2][0]
        raise DataError("percentile ranks need at least 2 values", indicator=code)
    return checked.wrap((ranks - 1) / (counts - 1))


METHODS = {
    "minmax": minmax,
    "zscore": zscore,
    "distance_to_target": distance_to_target,
    "goalposts": goalposts,
    "rank": rank,
    "percentile_rank": percentile_rank,
}


def normalise(values, directions, *, method: str = "minmax", **options):
    """Normalise with the method named by ``method``; ``options`` go to that method.

    Examples
    --------
    >>> values = pd.DataFrame({"a": [1.0, 3.0]})
    >>> normalise(values, [1], method="minmax", low=1, high=100)["a"].tolist()
    [1.0, 100.0]
    """
    check_choice("method", method, METHODS)
    return METHODS[method](values, directions, **options)


def _signs(checked, directions) -> pd.Series:
    return pd.Series(check_directions(directions, checked.frame.columns), checked.frame.columns)


def _oriented(values, directions):
    """The checked input and its values times the directions (so higher is better)."""
    checked = check_values(values)
    return checked, checked.frame * _signs(checked, directions)


def _per_indicator(setting, frame: pd.DataFrame, name: str) -> pd.Series:
    if isinstance(setting, dict | pd.Series):
        result = pd.Series(setting, dtype=float).reindex(frame.columns)
    else:
        array = np.asarray(setting, dtype=float).ravel()
        if len(array) != frame.shape[1]:
            raise ParameterError(name, f"{frame.shape[1]} values (one per indicator)", len(array))
        result = pd.Series(array, frame.columns)
    if result.isna().any():
        raise DataError(f"`{name}` has no value", indicator=result.index[result.isna()][0])
    return result


RANGED = ("minmax", "percentile_rank", "distance_to_target")
SCALES = ("minmax", "zscore", "distance_to_target", "rank", "percentile_rank")


def on_scale(values, directions, *, method: str = "minmax", low=0.0, high=100.0, targets=None):
    """Normalise with ``method`` onto the index's scale ``[low, high]``.

    ``minmax``, ``percentile_rank`` and ``distance_to_target`` (which needs ``targets``)
    map onto ``[low, high]``; ``zscore`` (mean 0, sd 1) and ``rank`` (1 = worst) keep
    their own scale. The one normalisation step of :class:`~citycheck.engine.index.CompositeIndex`
    and of every Monte Carlo draw.

    Examples
    --------
    >>> values = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    >>> on_scale(values, [1], method="percentile_rank", low=1, high=100)["a"].tolist()
    [1.0, 50.5, 100.0]
    """
    check_choice("normalise.method", method, SCALES)
    if not low < high:
        raise ParameterError("normalise.low, normalise.high", "low < high", (low, high))
    if method == "minmax":
        return minmax(values, directions, low=low, high=high)
    if method == "distance_to_target":
        if targets is None:
            raise ParameterError("targets", "a target per indicator for distance_to_target", None)
        unit = distance_to_target(values, directions, targets=targets, scale=1.0)
    else:
        unit = METHODS[method](values, directions)
        if method not in RANGED:
            return unit
    return unit * (high - low) + low
