"""engine.appraisal: the target-status rule against an independent trend (scipy's
linregress) and the assessment scores by hand."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from citycheck.engine.appraisal import score_appraisal, target_status


def observations(series):
    return pd.DataFrame(
        [
            {"place": place, "indicator": "park", "year": year, "value": value}
            for place, values in series.items()
            for year, value in values.items()
        ]
    )


def test_each_status_by_the_documented_rule():
    obs = observations(
        {
            "met": {2021: 80, 2022: 91},
            "on": {2021: 70, 2022: 75, 2023: 80},  # +5 a year reaches 90 in 2025
            "risk": {2021: 70, 2022: 72, 2023: 74},  # +2 a year: 78 in 2025
            "off": {2021: 80, 2022: 78, 2023: 76},  # going the wrong way
            "one": {2023: 85},
        }
    )
    targets = pd.DataFrame(
        {
            "place": ["met", "on", "risk", "off", "one", "none"],
            "indicator": "park",
            "year": 2025,
            "target": [90, 90, 79, 90, 90, 90],
            "comparison": ">=",
        }
    )
    out = target_status(obs, targets).set_index("place")
    assert out.loc["met", "status"] == "met"
    assert out.loc["on", "status"] == "on_track"
    # 74 → 78 projected against 79 needed: 4/5 of the change covered, at risk
    assert out.loc["risk", "status"] == "at_risk"
    assert out.loc["off", "status"] == "off_track"
    assert out.loc["one", "status"] == "off_track"  # one year: no trend, 85 < 90
    assert out.loc["none", "status"] == "no_data"


def test_projection_matches_scipy_linregress():
    rng = np.random.default_rng(3)
    years = np.arange(2019, 2025)
    values = 50 + 2.5 * (years - 2019) + rng.normal(0, 1.5, len(years))
    obs = observations({"a": dict(zip(years, values, strict=True))})
    targets = pd.DataFrame(
        {"place": ["a"], "indicator": "park", "year": [2027], "target": [70.0], "comparison": ">="}
    )
    out = target_status(obs, targets).iloc[0]
    fit = stats.linregress(years, values)
    assert out["slope"] == pytest.approx(fit.slope)
    assert out["projection"] == pytest.approx(fit.intercept + fit.slope * 2027)


def test_ceiling_targets_and_as_of():
    obs = observations({"a": {2021: 40, 2022: 36, 2023: 32, 2024: 45}})
    targets = pd.DataFrame(
        {
            "place": ["a", "a"],
            "indicator": "park",
            "year": 2025,
            "target": 30.0,
            "comparison": "<=",
            "as_of": [2023, 2024],
        }
    )
    out = target_status(obs, targets)
    assert list(out["status"]) == ["on_track", "off_track"]
    assert list(out["latest"]) == [32, 45]


def test_bad_comparison_refused():
    with pytest.raises(ValueError, match="comparison"):
        target_status(
            observations({"a": {2021: 1}}),
            pd.DataFrame(
                {
                    "place": ["a"],
                    "indicator": "park",
                    "year": [2025],
                    "target": [1],
                    "comparison": "=",
                }
            ),
        )


def test_scores_totals_ranks_and_outcomes():
    criteria = pd.DataFrame(
        {
            "criterion": ["complete", "timely", "mechanism", "bonus", "penalty"],
            "kind": ["computed", "computed", "manual", "bonus", "penalty"],
            "weight": [60.0, 30.0, 10.0, 5.0, 10.0],
        }
    )
    measures = pd.DataFrame(
        [
            {"place": "A", "criterion": "complete", "measure": 1.0},
            {"place": "A", "criterion": "timely", "measure": 1.2},  # clipped to 1
            {"place": "A", "criterion": "mechanism", "points": 8},
            {"place": "A", "criterion": "bonus", "points": 9},  # capped at 5
            {"place": "B", "criterion": "complete", "measure": 0.5},
            {"place": "B", "criterion": "penalty", "points": 4},
            {"place": "C", "criterion": "complete", "measure": 0.9},
            {"place": "C", "criterion": "timely", "measure": 0.9},
            {"place": "C", "criterion": "mechanism", "points": 10},
        ]
    )
    points, totals = score_appraisal(measures, criteria, commend_at=95, summon_below=60)
    assert totals.loc["A", "total"] == pytest.approx(60 + 30 + 8 + 5)
    assert totals.loc["B", "total"] == pytest.approx(30 - 4)
    assert totals.loc["C", "total"] == pytest.approx(54 + 27 + 10)
    assert list(totals.index) == ["A", "C", "B"]
    assert list(totals["rank"]) == [1, 2, 3]
    assert list(totals["outcome"]) == ["commend", "", "summon"]
    b_penalty = points[(points["place"] == "B") & (points["criterion"] == "penalty")]
    assert b_penalty["points"].iloc[0] == -4
    assert len(points) == 15


def test_ties_share_a_rank_and_top_limits_commendation():
    criteria = pd.DataFrame({"criterion": ["c"], "kind": ["computed"], "weight": [100.0]})
    measures = pd.DataFrame(
        {"place": ["A", "B", "C"], "criterion": "c", "measure": [0.9, 0.9, 0.7]}
    )
    _, totals = score_appraisal(measures, criteria, commend_at=85, commend_top=1)
    assert list(totals["rank"]) == [1, 1, 2]
    assert list(totals["outcome"]) == ["commend", "", ""]


def test_many_targets_match_a_per_target_linregress():
    rng = np.random.default_rng(7)
    rows = []
    for place in range(40):
        for indicator in ("a", "b"):
            years = sorted(
                rng.choice(np.arange(2015, 2025), size=int(rng.integers(2, 8)), replace=False)
            )
            rows += [
                {
                    "place": place,
                    "indicator": indicator,
                    "year": int(y),
                    "value": float(rng.normal(50, 10)),
                }
                for y in years
            ]
    obs = pd.DataFrame(rows)
    targets = (
        obs[["place", "indicator"]]
        .drop_duplicates()
        .assign(year=2027, target=55.0, comparison=">=", as_of=2022)
    )
    out = target_status(obs, targets)
    for row in out.to_dict("records"):
        mine = obs[(obs["place"] == row["place"]) & (obs["indicator"] == row["indicator"])]
        mine = mine[mine["year"] <= 2022]
        if mine.empty:
            assert row["status"] == "no_data"
        elif len(mine) == 1:
            assert row["projection"] == pytest.approx(mine["value"].iloc[0])
        else:
            fit = stats.linregress(mine["year"], mine["value"])
            assert row["projection"] == pytest.approx(fit.intercept + fit.slope * 2027)
