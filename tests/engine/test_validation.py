"""Validation rules of the engine: each check finds what it should and nothing else."""

import numpy as np
import pandas as pd
import pytest

from citycheck.engine import validation as v
from citycheck.engine._validation import ParameterError


@pytest.fixture
def values():
    return pd.DataFrame(
        {
            "green_share": [35.0, 0.36, 38.0, 120.0],
            "park": [5.0, 9.0, 3.0, 4.0],
            "green": [8.0, 7.0, 6.0, 5.0],
            "share_a": [60.0, 50.0, 70.0, None],
            "share_b": [40.0, 30.0, 30.0, 20.0],
        },
        index=["p1", "p2", "p3", "p4"],
    )


def test_every_check_returns_the_issue_columns_and_leaves_input_unchanged(values):
    before = values.copy()
    frames = [
        v.check_required(values, ["green_share"]),
        v.check_range(values, low=0, high=100),
        v.check_integer(values, ["park"]),
        v.check_part_of_total(values, "park", "green"),
        v.check_shares_sum(values, ["share_a", "share_b"]),
        v.check_year_on_year(values, values * 2),
        v.peer_outliers(values),
        v.check_unit_scale(values, values),
    ]
    for frame in frames:
        assert list(frame.columns) == v.ISSUE_COLUMNS
    pd.testing.assert_frame_equal(values, before)


def test_range_reports_the_crossed_limit(values):
    issues = v.check_range(values, low={"green_share": 0}, high={"green_share": 100})
    assert issues[["place", "indicator", "value", "reference"]].values.tolist() == [
        ["p4", "green_share", 120.0, 100.0]
    ]


def test_part_of_total_and_shares(values):
    assert v.check_part_of_total(values, "park", "green")["place"].tolist() == ["p2"]
    shares = v.check_shares_sum(values, ["share_a", "share_b"], tolerance=0.5)
    # p4 has a missing share: left to the required check, not reported twice.
    assert shares[["place", "value"]].values.tolist() == [["p2", 80.0]]


def test_missing_column_in_a_consistency_rule_is_not_an_error(values):
    assert v.check_part_of_total(values, "park", "absent").empty
    assert v.check_shares_sum(values, ["share_a", "absent"]).empty


def test_year_on_year_threshold_per_indicator():
    now = pd.DataFrame({"a": [15.0, 10.0], "b": [15.0, 0.0]}, index=["p1", "p2"])
    before = pd.DataFrame({"a": [10.0, 10.0], "b": [10.0, 0.0]}, index=["p1", "p2"])
    issues = v.check_year_on_year(now, before, threshold={"a": 0.3, "b": 0.6})
    assert issues[["place", "indicator", "score"]].values.tolist() == [["p1", "a", 0.5]]
    assert set(issues["severity"]) == {"warning"}


def test_modified_z_score_matches_the_textbook_formula():
    x = np.array([2.1, 2.3, 2.2, 2.4, 2.2, 9.0])
    median = np.median(x)
    mad = np.median(np.abs(x - median))
    expected = 0.6745 * (x - median) / mad
    got = v.modified_z_scores(pd.DataFrame({"a": x}))["a"].to_numpy()
    np.testing.assert_allclose(got, expected)


def test_peer_outliers_use_threshold_and_skip_constant_columns():
    peers = pd.DataFrame({"a": [10, 11, 9, 10, 10.5, 9.5], "c": [5.0] * 6}, index=list("uvwxyz"))
    mine = pd.DataFrame({"a": [14.0], "c": [50.0]}, index=["p1"])
    strict = v.peer_outliers(mine, peers=peers, threshold=3.5)
    assert strict["indicator"].tolist() == ["a"]  # c has no spread (MAD 0): not judged
    assert v.peer_outliers(mine, peers=peers, threshold=100).empty


def test_peer_outliers_need_enough_peers():
    mine = pd.DataFrame({"a": [100.0]}, index=["p1"])
    peers = pd.DataFrame({"a": [1.0, 2.0]}, index=["x", "y"])
    assert v.peer_outliers(mine, peers=peers).empty


def test_history_outliers_need_min_years():
    index = pd.MultiIndex.from_product([["p1", "p2"], [2020, 2021, 2022]])
    history = pd.DataFrame({"a": [10, 11, 10.5, 10, 11, np.nan]}, index=index)
    now = pd.DataFrame({"a": [30.0, 30.0]}, index=["p1", "p2"])
    issues = v.history_outliers(now, history, min_years=3)
    assert issues["place"].tolist() == ["p1"]


@pytest.mark.parametrize(
    ("entered", "last_year", "flagged"),
    [
        (0.35, 34.0, True),
        (35.0, 34.0, False),
        (520_000.0, 51.0, True),
        (51.0, 520_000.0, True),
        (80.0, 51.0, False),
    ],
)
def test_unit_scale(entered, last_year, flagged):
    now = pd.DataFrame({"a": [entered]}, index=["p1"])
    before = pd.DataFrame({"a": [last_year]}, index=["p1"])
    assert (not v.check_unit_scale(now, before).empty) is flagged


def test_bad_parameter_names_itself(values):
    with pytest.raises(ParameterError, match="`low`"):
        v.check_range(values, low=[1, 2])


def test_history_outliers_with_a_spread_floor_ignore_a_small_step():
    """A series that barely moved, then 4 % up: the plain score is beyond 6; with the MAD
    floored at 10 % of the median the value is ordinary, and a real jump still shows."""
    index = pd.MultiIndex.from_product([["p1"], [2020, 2021, 2022, 2023]])
    history = pd.DataFrame({"a": [80.0, 80.5, 81.0, 81.2]}, index=index)
    now = pd.DataFrame({"a": [84.0]}, index=["p1"])
    assert not v.history_outliers(now, history).empty
    assert v.history_outliers(now, history, min_spread=0.1).empty
    jump = v.history_outliers(now * 2, history, min_spread=0.1)
    assert jump[["place", "indicator"]].values.tolist() == [["p1", "a"]]


def test_peer_outliers_with_a_spread_floor_tolerate_a_ceiling():
    """Most places at 100 %: a place at 90 % is not an outlier with the floor; 30 % is."""
    peers = pd.DataFrame({"a": [100.0, 99.5, 100.0, 99.0, 100.0, 98.0]}, index=list("uvwxyz"))
    assert not v.peer_outliers(pd.DataFrame({"a": [90.0]}, index=["p1"]), peers=peers).empty
    mild = v.peer_outliers(pd.DataFrame({"a": [90.0]}, index=["p1"]), peers=peers, min_spread=0.1)
    assert mild.empty
    far = v.peer_outliers(pd.DataFrame({"a": [30.0]}, index=["p1"]), peers=peers, min_spread=0.1)
    assert far["place"].tolist() == ["p1"]


@pytest.mark.parametrize("check", [v.history_outliers, v.peer_outliers])
def test_a_negative_spread_floor_names_the_parameter(check):
    values = pd.DataFrame({"a": [1.0]}, index=["p1"])
    history = pd.DataFrame({"a": [1.0]}, index=pd.MultiIndex.from_tuples([("p1", 2020)]))
    args = (values, history) if check is v.history_outliers else (values,)
    with pytest.raises(ParameterError, match="min_spread"):
        check(*args, min_spread=-0.1)
