"""The validation checks against their definitions, cell by cell, on generated frames.

The checks compute on numpy arrays for speed; each test here restates a check's rule for
one cell (or one column) in plain Python and compares every issue the check returns —
place, indicator, value, reference and score — with what the rule finds, in the order of
the rows and then the columns.
"""

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycheck.engine import validation as v

# Values that cross the interesting lines: zero, negatives, shares as fractions and
# percentages, unit slips of ×100 and ×10,000, and missing cells.
CELL = st.sampled_from([0.0, 1.0, -2.0, 0.35, 35.0, 36.0, 50.0, 99.0, 3500.0, 520_000.0, np.nan])
LIMIT = st.one_of(st.none(), st.sampled_from([0.0, 10.0, 40.0, 100.0]))
SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def frames(draw, max_rows=4, max_columns=4, rows=None, columns=None):
    n_rows = len(rows) if rows is not None else draw(st.integers(0, max_rows))
    n_columns = len(columns) if columns is not None else draw(st.integers(1, max_columns))
    cells = draw(
        st.lists(
            st.lists(CELL, min_size=n_columns, max_size=n_columns),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    return pd.DataFrame(
        np.array(cells, dtype=float).reshape(n_rows, n_columns),
        index=rows if rows is not None else [f"p{n}" for n in range(n_rows)],
        columns=columns if columns is not None else [f"c{n}" for n in range(n_columns)],
    )


def found(issues: pd.DataFrame) -> list:
    return [
        (r.place, r.indicator, r.value, r.reference, r.score)
        for r in issues.itertuples(index=False)
    ]


def assert_same(issues: pd.DataFrame, expected: list, *, rule: str, severity: str):
    assert list(issues.columns) == v.ISSUE_COLUMNS
    assert set(issues["rule"]) <= {rule} and set(issues["severity"]) <= {severity}
    got = found(issues)
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    for g, e in zip(got, expected, strict=True):
        for a, b in zip(g[2:], e[2:], strict=True):
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12)


def cells(values: pd.DataFrame):
    """(place, indicator, value) of every cell, row by row."""
    for place, row in values.iterrows():
        for code, value in row.items():
            yield place, code, float(value)


@SETTINGS
@given(frames(), st.data())
def test_range(values, data):
    low = {c: data.draw(LIMIT) for c in values.columns}
    high = {c: data.draw(LIMIT) for c in values.columns}
    expected = []
    for place, code, value in cells(values):
        if low[code] is not None and value < low[code]:
            expected.append((place, code, value, low[code], math.nan))
        elif high[code] is not None and value > high[code]:
            expected.append((place, code, value, high[code], math.nan))
    assert_same(v.check_range(values, low=low, high=high), expected, rule="range", severity="error")


@SETTINGS
@given(frames(), st.data())
def test_required_and_integer(values, data):
    named = data.draw(st.lists(st.sampled_from([*values.columns, "absent"]), unique=True))
    required = [
        (place, code, math.nan, math.nan, math.nan)
        for place in values.index
        for code in named
        if code not in values.columns or math.isnan(values.at[place, code])
    ]
    assert_same(v.check_required(values, named), required, rule="required", severity="error")
    whole = [
        (place, code, values.at[place, code], math.nan, math.nan)
        for place in values.index
        for code in named
        if code in values.columns
        and not math.isnan(values.at[place, code])
        and values.at[place, code] != round(values.at[place, code])
    ]
    assert_same(v.check_integer(values, named), whole, rule="integer", severity="error")


@SETTINGS
@given(frames(max_columns=4), st.floats(0, 1))
def test_part_of_total_and_shares_sum(values, tolerance):
    columns = list(values.columns)
    part, total = columns[0], columns[-1]
    over = [
        (place, part, row[part], row[total], math.nan)
        for place, row in values.iterrows()
        if row[part] > row[total] * (1 + tolerance)
    ]
    assert_same(
        v.check_part_of_total(values, part, total, tolerance=tolerance),
        over,
        rule="part_of_total",
        severity="error",
    )
    off = []
    for place, row in values.iterrows():
        shares = [row[c] for c in columns]
        if not any(math.isnan(s) for s in shares) and abs(sum(shares) - 100) > tolerance:
            off.append((place, columns[0], sum(shares), 100.0, math.nan))
    issues = v.check_shares_sum(values, columns, total=100, tolerance=tolerance)
    assert_same(issues, off, rule="shares_sum", severity="error")


@SETTINGS
@given(st.data())
def test_year_on_year_and_unit_scale(data):
    values = data.draw(frames())
    previous = data.draw(frames(rows=list(values.index)[::-1], columns=list(values.columns)))
    threshold = {c: data.draw(st.sampled_from([0.3, 0.5, 1.2])) for c in values.columns}
    changes, slips = [], []
    for place, code, value in cells(values):
        before = previous.at[place, code]
        if math.isnan(value) or math.isnan(before):
            continue
        if before == 0:
            change = 0.0 if value == 0 else math.copysign(math.inf, value)
        else:
            change = (value - before) / abs(before)
        if abs(change) > threshold[code]:
            changes.append((place, code, value, before, change))
        if before != 0 and value != 0:
            ratio = value / before
            if any(abs(abs(math.log10(abs(ratio))) - math.log10(f)) <= 0.3 for f in (100, 1e4)):
                slips.append((place, code, value, before, ratio))
    issues = v.check_year_on_year(values, previous, threshold=threshold)
    assert_same(issues, changes, rule="year_on_year", severity="warning")
    assert_same(v.check_unit_scale(values, previous), slips, rule="unit_scale", severity="error")


@SETTINGS
@given(frames(), st.data())
def test_unit_scale_by_range(values, data):
    low = {c: data.draw(st.sampled_from([5.0, 10.0, 30.0])) for c in values.columns}
    high = {c: low[c] * data.draw(st.sampled_from([2, 6])) for c in values.columns}
    expected = []
    for place, code, value in cells(values):
        if math.isnan(value) or low[code] <= value <= high[code]:
            continue
        scales = [s for f in (100, 10_000) for s in (f, 1 / f)]
        fits = [s for s in scales if low[code] <= value * s <= high[code]]
        if fits:
            expected.append((place, code, value, math.nan, fits[0]))
    issues = v.check_unit_scale_by_range(values, low=low, high=high)
    assert_same(issues, expected, rule="unit_scale", severity="error")


def modified_z(value, pool, min_spread):
    """The modified z-score of ``value`` in ``pool`` (None: no spread to judge by)."""
    median = statistics.median(pool)
    spread = max(statistics.median(abs(x - median) for x in pool), min_spread * abs(median))
    return (None if spread <= 0 else v.MODIFIED_Z_FACTOR * (value - median) / spread), median


@SETTINGS
@given(st.data(), st.sampled_from([0.0, 0.1]), st.sampled_from([1.0, 3.5]))
def test_peer_outliers(data, min_spread, threshold):
    values = data.draw(frames(max_rows=2))
    peers = data.draw(frames(max_rows=8, columns=list(values.columns)))
    peers.index = [f"q{n}" for n in range(len(peers))]
    expected = []
    for place, code, value in cells(values):
        pool = [x for x in [*peers[code], *values[code]] if not math.isnan(x)]
        if math.isnan(value) or len(pool) < 5:
            continue
        score, median = modified_z(value, pool, min_spread)
        if score is not None and abs(score) > threshold:
            expected.append((place, code, value, median, score))
    issues = v.peer_outliers(values, peers=peers, threshold=threshold, min_spread=min_spread)
    assert_same(issues, expected, rule="peer_outlier", severity="warning")


@SETTINGS
@given(st.data(), st.sampled_from([0.0, 0.1]), st.integers(1, 3))
def test_history_outliers(data, min_spread, min_years):
    values = data.draw(frames(max_rows=3))
    years = [2020, 2021, 2022, 2023]
    history = data.draw(
        frames(rows=list(range(len(values) * len(years))), columns=list(values.columns))
    )
    history.index = pd.MultiIndex.from_product([list(values.index), years])
    history = history.sample(frac=1, random_state=data.draw(st.integers(0, 99)))
    expected = []
    for place, code, value in cells(values):
        past = [x for x in history.loc[place, code] if not math.isnan(x)]
        if math.isnan(value) or len(past) < max(min_years, 1):
            continue
        score, median = modified_z(value, past, min_spread)
        if score is not None and abs(score) > 3.5:
            expected.append((place, code, value, median, score))
    issues = v.history_outliers(values, history, min_years=min_years, min_spread=min_spread)
    assert_same(issues, expected, rule="history_outlier", severity="warning")
