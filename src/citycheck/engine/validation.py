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
    "column_medians",
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
    return _EMPTY_ISSUES.copy()


_EMPTY_ISSUES = pd.DataFrame({column: pd.Series(dtype=object) for column in ISSUE_COLUMNS})


# The checks run on every save of the entry form over one place's row, where pandas'
# per-operation overhead (not the arithmetic) is the cost: they compute on numpy arrays
# aligned with ``values`` and build the issue frame once.


def _array(frame: pd.DataFrame, index: pd.Index, columns: pd.Index) -> np.ndarray:
    """``frame`` as floats aligned with ``index`` × ``columns`` (NaN where it has no cell)."""
    if not (frame.index.equals(index) and frame.columns.equals(columns)):
        frame = frame.reindex(index=index, columns=columns)
    return frame.to_numpy(dtype=float, na_value=np.nan)


def _take(values: pd.DataFrame, columns) -> tuple[pd.Index, np.ndarray]:
    """The labels ``columns`` and their cells in ``values`` (NaN for an absent column)."""
    columns = pd.Index(list(columns))
    positions = values.columns.get_indexer(columns)
    found = positions >= 0
    cells = np.full((len(values), len(columns)), np.nan)
    cells[:, found] = values.to_numpy(dtype=float, na_value=np.nan)[:, positions[found]]
    return columns, cells


def _cells(
    mask: np.ndarray,
    index: pd.Index,
    columns: pd.Index,
    values,
    reference=None,
    score=None,
    *,
    rule: str,
    severity: str,
) -> pd.DataFrame:
    """An issue frame of the True cells of ``mask`` (row by row, as ``DataFrame.stack``).

    ``values``, ``reference`` and ``score`` are arrays of the mask's shape, a number
    (the same for every issue) or None (NaN).
    """
    check_choice("severity", severity, SEVERITIES)
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return empty_issues()

    def pick(cells):
        if cells is None:
            return np.full(len(rows), np.nan)
        if np.isscalar(cells):
            return np.full(len(rows), cells, dtype=float)
        return cells[rows, cols]

    return pd.DataFrame(
        {
            "place": index.take(rows),
            "indicator": columns.take(cols),
            "rule": rule,
            "severity": severity,
            "value": pick(values),
            "reference": pick(reference),
            "score": pick(score),
        }
    )


def _per_column(values: pd.DataFrame, limits, name: str) -> np.ndarray:
    """A scalar or a mapping by indicator code, as floats over ``values.columns``."""
    if limits is None:
        return np.full(len(values.columns), np.nan)
    if np.isscalar(limits):
        return np.full(len(values.columns), float(limits))
    if isinstance(limits, pd.Series):
        return limits.astype(float).reindex(values.columns).to_numpy()
    if not isinstance(limits, Mapping):
        raise ParameterError(name, "a number or a mapping by indicator code", limits)
    return np.array(
        [np.nan if limits.get(c) is None else float(limits[c]) for c in values.columns],
        dtype=float,
    )


def column_medians(cells: np.ndarray) -> np.ndarray:
    """The median of each column, skipping NaN (NaN for a column without values): one sort,
    as ``np.nanmedian`` but without its per-column work on small arrays.

    >>> column_medians(np.array([[1.0, np.nan, 4.0], [3.0, np.nan, np.nan]]))
    array([ 2., nan,  4.])
    """
    count = (~np.isnan(cells)).sum(axis=0)
    if not len(cells):
        return np.full(cells.shape[1], np.nan)
    ordered = np.sort(cells, axis=0)  # NaN sort last
    columns = np.arange(cells.shape[1])
    low = ordered[(np.maximum(count, 1) - 1) // 2, columns]
    high = ordered[count // 2, columns]
    return np.where(count > 0, (low + high) / 2, np.nan)


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
    columns, cells = _take(values, required)
    return _cells(np.isnan(cells), values.index, columns, None, rule="required", severity="error")


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
    cells = values.to_numpy(dtype=float, na_value=np.nan)
    below = cells < low_limit
    reference = np.where(below, low_limit, high_limit)
    return _cells(
        below | (cells > high_limit),
        values.index,
        values.columns,
        cells,
        reference,
        rule="range",
        severity=severity,
    )


def check_integer(values: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Non-whole values of count indicators.

    Examples
    --------
    >>> values = pd.DataFrame({"schools": [3.0, 2.5]}, index=["p1", "p2"])
    >>> check_integer(values, ["schools"])["place"].tolist()
    ['p2']
    """
    labels, cells = _take(values, [c for c in columns if c in values.columns])
    mask = ~np.isnan(cells) & (cells != np.round(cells))
    return _cells(mask, values.index, labels, cells, rule="integer", severity="error")


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
    part_cells = values[part].to_numpy(dtype=float, na_value=np.nan)[:, None]
    total_cells = values[total].to_numpy(dtype=float, na_value=np.nan)[:, None]
    return _cells(
        part_cells > total_cells * (1 + tolerance),
        values.index,
        pd.Index([part]),
        part_cells,
        total_cells,
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
    if not all(part in values.columns for part in parts):
        return empty_issues()
    _, cells = _take(values, parts)
    sums = np.zeros(len(cells))
    for share in cells.T:  # left to right, as pandas adds a row
        sums = sums + share
    off = ~np.isnan(cells).any(axis=1) & (np.abs(sums - total) > tolerance)
    return _cells(
        off[:, None],
        values.index,
        pd.Index([parts[0]]),
        sums[:, None],
        total,
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
    cells = values.to_numpy(dtype=float, na_value=np.nan)
    before = _array(previous, values.index, values.columns)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (cells - before) / np.abs(before)
    change = np.where((before == 0) & (cells == 0), 0.0, change)
    limit = _per_column(values, threshold, "threshold")
    mask = (np.abs(change) > limit) & ~np.isnan(cells) & ~np.isnan(before)
    return _cells(
        mask,
        values.index,
        values.columns,
        cells,
        before,
        change,
        rule="year_on_year",
        severity=severity,
    )


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
    if min_spread < 0:
        raise ParameterError("min_spread", "a share of at least 0", min_spread)
    cells = values.to_numpy(dtype=float, na_value=np.nan)
    pool = cells
    if peers is not None:
        others = _array(peers, peers.index, values.columns)[~peers.index.isin(values.index)]
        pool = np.vstack([others, cells])
    enough = (~np.isnan(pool)).sum(axis=0) >= min_peers
    median = column_medians(pool)
    spread = np.maximum(column_medians(np.abs(pool - median)), min_spread * np.abs(median))
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = (
            MODIFIED_Z_FACTOR * (cells - median) / np.where((spread > 0) & enough, spread, np.nan)
        )
    return _cells(
        np.abs(scores) > threshold,
        values.index,
        values.columns,
        cells,
        np.broadcast_to(median, cells.shape),
        scores,
        rule="peer_outlier",
        severity="warning",
    )


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
    if min_spread < 0:
        raise ParameterError("min_spread", "a share of at least 0", min_spread)
    cells = values.to_numpy(dtype=float, na_value=np.nan)
    past = _array(history, history.index, values.columns)
    group_of_row, groups = pd.factorize(history.index.get_level_values(0))
    median = np.full(cells.shape, np.nan)
    mad = np.full(cells.shape, np.nan)
    count = np.zeros(cells.shape)
    for row, group in enumerate(pd.Index(groups).get_indexer(values.index)):
        if group >= 0:
            years = past[group_of_row == group]
            median[row] = column_medians(years)
            mad[row] = column_medians(np.abs(years - median[row]))
            count[row] = (~np.isnan(years)).sum(axis=0)
    spread = np.maximum(mad, min_spread * np.abs(median))
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = MODIFIED_Z_FACTOR * (cells - median) / np.where(spread > 0, spread, np.nan)
    return _cells(
        (np.abs(scores) > threshold) & (count >= min_years),
        values.index,
        values.columns,
        cells,
        median,
        scores,
        rule="history_outlier",
        severity="warning",
    )


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
    cells = values.to_numpy(dtype=float, na_value=np.nan)
    base = _array(reference, values.index, values.columns)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = cells / base
        log_ratio = np.log10(np.abs(np.where(ratio != 0, ratio, np.nan)))
    mask = np.zeros(cells.shape, dtype=bool)
    for factor in factors:
        mask |= np.abs(np.abs(log_ratio) - np.log10(factor)) <= tolerance
    return _cells(
        mask,
        values.index,
        values.columns,
        cells,
        base,
        ratio,
        rule="unit_scale",
        severity="error",
    )


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
    cells = values.to_numpy(dtype=float, na_value=np.nan)
    outside = (cells < low_limit) | (cells > high_limit)
    mask = np.zeros(cells.shape, dtype=bool)
    score = np.full(cells.shape, np.nan)
    for factor in factors:
        for scale in (factor, 1 / factor):
            scaled = cells * scale
            inside = (scaled >= low_limit) & (scaled <= high_limit) & outside
            score = np.where(inside & ~mask, scale, score)
            mask |= inside
    return _cells(
        mask, values.index, values.columns, cells, None, score, rule="unit_scale", severity="error"
    )
