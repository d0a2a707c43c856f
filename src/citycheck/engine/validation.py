"""Validation rules for collected values: pure checks over wide frames.

``values`` is a wide frame, one row per place (the index) and one column per indicator
code. Every check returns an *issue frame* with the columns of :data:`ISSUE_COLUMNS`,
one row per problem found, so checks can be concatenated and filtered:

``place``, ``indicator``
    where the problem is (row label, column label);
``rule``
    which check found it (``required``, ``range``, ``integer``, ``part_of_total``,
    ``shares_sum``, ``year_on_year``, ``history_outlier``, ``peer_outlier``,
    ``unit_scale``);
``severity``
    ``"error"`` (blocks submission) or ``"warning"`` (needs a written explanation);
``value``, ``reference``
    the value checked and what it was compared with (a limit, the total, the previous
    year's value, the median, the sum of shares …);
``score``
    a number saying how far off (the modified z-score, the relative change, the ratio).

Outliers follow DHIS2: the modified z-score ``0.6745 (x - median) / MAD`` with the median
absolute deviation, flagged beyond 3.5 (Iglewicz and Hoaglin, 1993).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ._validation import ParameterError, check_choice

__all__ = [
    "ISSUE_COLUMNS",
    "MODIFIED_Z_FACTOR",
    "MODIFIED_Z_THRESHOLD",
    "check_integer",
    "check_part_of_total",
    "check_range",
    "check_required",
    "check_shares_sum",
    "check_unit_scale",
    "check_unit_scale_by_range",
    "check_year_on_year",
    "empty_issues",
    "history_outliers",
    "modified_z_scores",
    "peer_outliers",
]

ISSUE_COLUMNS = ["place", "indicator", "rule", "severity", "value", "reference", "score"]
MODIFIED_Z_FACTOR = 0.6745
MODIFIED_Z_THRESHOLD = 3.5
SEVERITIES = ("error", "warning")


def empty_issues() -> pd.DataFrame:
    """An issue frame with no rows.

    Examples
    --------
    >>> list(empty_issues().columns) == ISSUE_COLUMNS
    True
    """
    return pd.DataFrame({column: pd.Series(dtype=object) for column in ISSUE_COLUMNS})


def _issues(mask: pd.DataFrame, values, reference, score, *, rule: str, severity: str):
    """Stack the True cells of ``mask`` into an issue frame."""
    check_choice("severity", severity, SEVERITIES)
    if not mask.to_numpy().any():
        return empty_issues()
    stacked = mask.stack()
    stacked = stacked[stacked]
    index = stacked.index

    def pick(frame):
        if frame is None:
            return np.full(len(index), np.nan)
        if np.isscalar(frame):
            return np.full(len(index), frame, dtype=float)
        return frame.reindex_like(mask).stack(future_stack=True).reindex(index).to_numpy()

    return pd.DataFrame(
        {
            "place": index.get_level_values(0),
            "indicator": index.get_level_values(1),
            "rule": rule,
            "severity": severity,
            "value": pick(values),
            "reference": pick(reference),
            "score": pick(score),
        }
    )


def _per_column(values: pd.DataFrame, limits, name: str) -> pd.Series:
    """A scalar or a mapping by indicator code, as a Series over ``values.columns``."""
    if limits is None:
        return pd.Series(np.nan, index=values.columns)
    if np.isscalar(limits):
        return pd.Series(float(limits), index=values.columns)
    if not isinstance(limits, Mapping | pd.Series):
        raise ParameterError(name, "a number or a mapping by indicator code", limits)
    return pd.Series(limits, dtype=float).reindex(values.columns)


def check_required(values: pd.DataFrame, required: Sequence[str]) -> pd.DataFrame:
    """Missing values of required indicators (an absent column counts as missing).

    Parameters
    ----------
    values : DataFrame
        One row per place, one column per indicator code.
    required : sequence of str
        Indicator codes that must have a value.

    Returns
    -------
    DataFrame
        Issues with ``rule == "required"`` and ``severity == "error"``.

    Examples
    --------
    >>> values = pd.DataFrame({"a": [1.0, None], "b": [None, 2.0]}, index=["p1", "p2"])
    >>> check_required(values, ["a", "c"])[["place", "indicator"]].values.tolist()
    [['p1', 'c'], ['p2', 'a'], ['p2', 'c']]
    """
    frame = values.reindex(columns=list(required))
    return _issues(frame.isna(), None, None, None, rule="required", severity="error")


def check_range(values: pd.DataFrame, *, low=None, high=None, severity="error") -> pd.DataFrame:
    """Values below ``low`` or above ``high`` (either a number or a mapping by code).

    ``reference`` holds the limit that was crossed. A low limit of 0 is how counts and
    areas refuse negative numbers.

    Examples
    --------
    >>> values = pd.DataFrame({"share": [35.0, 135.0], "count": [-1.0, 4.0]}, index=["p1", "p2"])
    >>> issues = check_range(values, low={"share": 0, "count": 0}, high={"share": 100})
    >>> issues[["place", "indicator", "reference"]].values.tolist()
    [['p1', 'count', 0.0], ['p2', 'share', 100.0]]
    """
    low_limit = _per_column(values, low, "low")
    high_limit = _per_column(values, high, "high")
    below = values.lt(low_limit, axis=1)
    above = values.gt(high_limit, axis=1)
    reference = pd.DataFrame(
        np.where(below, low_limit.to_numpy(), high_limit.to_numpy()),
        index=values.index,
        columns=values.columns,
    )
    return _issues(below | above, values, reference, None, rule="range", severity=severity)


def check_integer(values: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Non-whole values of count indicators.

    Examples
    --------
    >>> values = pd.DataFrame({"schools": [3.0, 2.5]}, index=["p1", "p2"])
    >>> check_integer(values, ["schools"])["place"].tolist()
    ['p2']
    """
    frame = values.reindex(columns=[c for c in columns if c in values.columns])
    mask = frame.notna() & (frame != np.round(frame))
    return _issues(mask, frame, None, None, rule="integer", severity="error")


def check_part_of_total(
    values: pd.DataFrame, part: str, total: str, *, tolerance: float = 1e-9
) -> pd.DataFrame:
    """Places where the ``part`` indicator exceeds its ``total`` (e.g. park green area
    within all green space), beyond a relative ``tolerance``.

    Examples
    --------
    >>> values = pd.DataFrame({"park": [5.0, 9.0], "green": [8.0, 7.0]}, index=["p1", "p2"])
    >>> check_part_of_total(values, "park", "green")[["place", "reference"]].values.tolist()
    [['p2', 7.0]]
    """
    if part not in values.columns or total not in values.columns:
        return empty_issues()
    exceeds = values[part] > values[total] * (1 + tolerance)
    mask = pd.DataFrame({part: exceeds})
    return _issues(
        mask,
        values[[part]],
        values[[total]].set_axis([part], axis=1),
        None,
        rule="part_of_total",
        severity="error",
    )


def check_shares_sum(
    values: pd.DataFrame, parts: Sequence[str], *, total: float = 100.0, tolerance: float = 0.5
) -> pd.DataFrame:
    """Places whose shares ``parts`` do not add up to ``total`` (± ``tolerance``).

    Rows with any share missing are not checked (``required`` reports those). The issue
    sits on the first share; ``value`` holds the sum, ``reference`` the expected total.

    Examples
    --------
    >>> values = pd.DataFrame({"a": [60.0, 60.0], "b": [40.0, 30.0]}, index=["p1", "p2"])
    >>> check_shares_sum(values, ["a", "b"])[["place", "value"]].values.tolist()
    [['p2', 90.0]]
    """
    if not set(parts) <= set(values.columns):
        return empty_issues()
    frame = values[list(parts)]
    sums = frame.sum(axis=1, min_count=len(parts))
    off = frame.notna().all(axis=1) & ((sums - total).abs() > tolerance)
    first = parts[0]
    return _issues(
        pd.DataFrame({first: off}),
        pd.DataFrame({first: sums}),
        total,
        None,
        rule="shares_sum",
        severity="error",
    )


def check_year_on_year(
    values: pd.DataFrame, previous: pd.DataFrame, *, threshold=0.5, severity="warning"
) -> pd.DataFrame:
    """Relative changes from the previous year beyond ``threshold`` (0.5 = ±50 %).

    ``threshold`` is a number or a mapping by indicator code. A previous value of zero
    counts any non-zero value as a change beyond every threshold.

    Examples
    --------
    >>> now = pd.DataFrame({"a": [10.0, 30.0]}, index=["p1", "p2"])
    >>> before = pd.DataFrame({"a": [9.0, 10.0]}, index=["p1", "p2"])
    >>> check_year_on_year(now, before, threshold=0.3)[["place", "score"]].values.tolist()
    [['p2', 2.0]]
    """
    before = previous.reindex(index=values.index, columns=values.columns)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (values - before) / before.abs()
    change = change.where(~((before == 0) & (values == 0)), 0.0)
    limit = _per_column(values, threshold, "threshold")
    mask = change.abs().gt(limit, axis=1) & values.notna() & before.notna()
    return _issues(mask, values, before, change, rule="year_on_year", severity=severity)


def modified_z_scores(values: pd.DataFrame) -> pd.DataFrame:
    """Modified z-score of every cell within its column: ``0.6745 (x - median) / MAD``.

    Columns whose median absolute deviation is zero give NaN (no spread to judge by).

    Examples
    --------
    >>> values = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 100.0]})
    >>> modified_z_scores(values)["a"].round(2).tolist()
    [-1.35, -0.67, 0.0, 0.67, 65.43]
    """
    median = values.median()
    mad = (values - median).abs().median()
    with np.errstate(divide="ignore", invalid="ignore"):
        return MODIFIED_Z_FACTOR * (values - median) / mad.where(mad > 0)


def peer_outliers(
    values: pd.DataFrame,
    *,
    peers: pd.DataFrame | None = None,
    threshold: float = MODIFIED_Z_THRESHOLD,
    min_peers: int = 5,
    min_spread: float = 0.0,
) -> pd.DataFrame:
    """Values far from those of peer places (modified z-score beyond ``threshold``).

    The median and MAD are computed over ``values`` together with ``peers`` (other places
    of the same level in the same round); only rows of ``values`` are reported. Columns
    with fewer than ``min_peers`` values are not judged. ``min_spread`` floors the MAD at
    that share of the median's magnitude, as in :func:`history_outliers` (most places at
    a ceiling of 100 % leave almost no spread).

    Examples
    --------
    >>> peers = pd.DataFrame({"a": [10.0, 11.0, 9.0, 10.5, 9.5]}, index=list("vwxyz"))
    >>> mine = pd.DataFrame({"a": [30.0]}, index=["p1"])
    >>> peer_outliers(mine, peers=peers)[["place", "indicator", "reference"]].values.tolist()
    [['p1', 'a', 10.25]]
    """
    pool = (
        values if peers is None else pd.concat([peers.drop(values.index, errors="ignore"), values])
    )
    pool = pool.reindex(columns=values.columns)
    if min_spread < 0:
        raise ParameterError("min_spread", "a share of at least 0", min_spread)
    enough = pool.notna().sum() >= min_peers
    median = pool.median()
    spread = np.maximum((pool - median).abs().median(), min_spread * median.abs())
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = MODIFIED_Z_FACTOR * (values - median) / spread.where((spread > 0) & enough)
    mask = scores.abs() > threshold
    reference = pd.DataFrame(
        np.broadcast_to(median.to_numpy(), values.shape), index=values.index, columns=values.columns
    )
    return _issues(mask, values, reference, scores, rule="peer_outlier", severity="warning")


def history_outliers(
    values: pd.DataFrame,
    history: pd.DataFrame,
    *,
    threshold: float = MODIFIED_Z_THRESHOLD,
    min_years: int = 3,
    min_spread: float = 0.0,
) -> pd.DataFrame:
    """Values far from the same place's own history (modified z-score).

    A series that moves little from year to year has a tiny MAD, and then an ordinary
    step (81.0 → 80.1 after 69 → 81 in four years) scores in the dozens. ``min_spread``
    floors the MAD at that share of the median's magnitude, so a value is flagged only
    when it is also far from the median in relative terms: with 0.1 and the threshold
    3.5, beyond about 52 % of the median.

    Parameters
    ----------
    values : DataFrame
        This year's values, one row per place.
    history : DataFrame
        Earlier years' values indexed by (place, year), one column per indicator.
    threshold : float
        Flag beyond this absolute modified z-score (3.5 as in DHIS2).
    min_years : int
        Places with fewer earlier values of an indicator are not judged.
    min_spread : float
        Floor of the MAD as a share of ``|median|`` (0: the plain DHIS2 score).

    Examples
    --------
    >>> index = pd.MultiIndex.from_product([["p1"], [2019, 2020, 2021, 2022]])
    >>> history = pd.DataFrame({"a": [10.0, 11.0, 10.5, 9.5]}, index=index)
    >>> now = pd.DataFrame({"a": [25.0]}, index=["p1"])
    >>> history_outliers(now, history)[["place", "reference"]].values.tolist()
    [['p1', 10.25]]
    >>> history_outliers(now, history, min_spread=0.1)[["place", "reference"]].values.tolist()
    [['p1', 10.25]]
    >>> history_outliers(now * 0.6, history, min_spread=0.1).empty
    True
    """
    grouped = history.reindex(columns=values.columns).groupby(level=0)
    median = grouped.median().reindex(values.index)
    mad = (
        (
            history.reindex(columns=values.columns)
            - median.reindex(history.index.get_level_values(0)).to_numpy()
        )
        .abs()
        .groupby(level=0)
        .median()
        .reindex(values.index)
    )
    count = grouped.count().reindex(values.index).fillna(0)
    if min_spread < 0:
        raise ParameterError("min_spread", "a share of at least 0", min_spread)
    spread = np.maximum(mad, min_spread * median.abs())
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = MODIFIED_Z_FACTOR * (values - median) / spread.where(spread > 0)
    mask = (scores.abs() > threshold) & (count >= min_years)
    return _issues(mask, values, median, scores, rule="history_outlier", severity="warning")


def check_unit_scale(
    values: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    factors: Sequence[float] = (100.0, 10_000.0),
    tolerance: float = 0.3,
) -> pd.DataFrame:
    """Values that look entered in the wrong unit scale.

    A value whose ratio to ``reference`` (last year's value, or the middle of the
    plausible range) lies within ``tolerance`` (in powers of ten) of a factor or its
    inverse was likely typed in another unit: a share as 0.35 where the unit is % (factor
    100), or people where the unit is 10,000 people (万人, factor 10,000). ``score`` holds
    the ratio.

    Examples
    --------
    >>> values = pd.DataFrame({"share": [0.35, 36.0], "pop": [520000.0, 51.0]}, index=["p1", "p2"])
    >>> reference = pd.DataFrame({"share": [34.0, 34.0], "pop": [50.0, 50.0]}, index=["p1", "p2"])
    >>> check_unit_scale(values, reference)[["place", "indicator"]].values.tolist()
    [['p1', 'share'], ['p1', 'pop']]
    """
    base = reference.reindex(index=values.index, columns=values.columns)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values / base
        log_ratio = np.log10(ratio.abs().where(ratio != 0))
    mask = pd.DataFrame(False, index=values.index, columns=values.columns)
    for factor in factors:
        distance = (log_ratio.abs() - np.log10(factor)).abs()
        mask |= distance <= tolerance
    return _issues(mask, values, base, ratio, rule="unit_scale", severity="error")


def check_unit_scale_by_range(
    values: pd.DataFrame,
    *,
    low,
    high,
    factors: Sequence[float] = (100.0, 10_000.0),
) -> pd.DataFrame:
    """Values outside their plausible range that fall inside it once scaled by a factor.

    Used where there is no previous value to compare with: a share typed as 0.35 when the
    plausible range of the % value is 10–60 lies inside it times 100. ``score`` holds the
    factor that brings the value into range (below 1 for a value too large).

    Examples
    --------
    >>> values = pd.DataFrame({"share": [0.35, 35.0, 0.05]}, index=["p1", "p2", "p3"])
    >>> check_unit_scale_by_range(values, low={"share": 10}, high={"share": 60})["place"].tolist()
    ['p1']
    """
    low_limit = _per_column(values, low, "low")
    high_limit = _per_column(values, high, "high")
    outside = values.lt(low_limit, axis=1) | values.gt(high_limit, axis=1)
    mask = pd.DataFrame(False, index=values.index, columns=values.columns)
    score = pd.DataFrame(np.nan, index=values.index, columns=values.columns)
    for factor in factors:
        for scale in (factor, 1 / factor):
            scaled = values * scale
            inside = scaled.ge(low_limit, axis=1) & scaled.le(high_limit, axis=1) & outside
            score = score.mask(inside & ~mask, scale)
            mask |= inside
    return _issues(mask, values, None, score, rule="unit_scale", severity="error")
