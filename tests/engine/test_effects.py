"""Effect of projects: the regression DiD recovers a planted effect and matches a hand
computation; no variation or too few places is inconclusive, said plainly; what-if."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from citycheck.engine._validation import ParameterError
from citycheck.engine.effects import before_after, difference_in_differences, what_if

YEARS = [2020, 2021, 2022, 2023, 2024]


def synthetic(
    rng, *, n_places=40, n_treated=15, effect=3.0, start=2022, end=2022, group_trend=0.0, noise=1.0
):
    """A panel with place levels, a common trend (steeper in group 'b' when
    ``group_trend``), noise, and ``effect`` added after the project ends."""
    places = [f"p{i:02d}" for i in range(n_places)]
    groups = {p: ("b" if i % 2 else "a") for i, p in enumerate(places)}
    treated = places[:n_treated]
    rows = []
    level = rng.normal(50, 8, n_places)
    for i, place in enumerate(places):
        for year in YEARS:
            trend = (0.8 + (group_trend if groups[place] == "b" else 0.0)) * (year - YEARS[0])
            value = level[i] + trend + rng.normal(0, noise)
            if place in treated and year > end:
                value += effect
            rows.append((place, year, value))
    values = pd.DataFrame(rows, columns=["place", "year", "park"]).set_index(["place", "year"])
    projects = pd.DataFrame(
        {
            "project": range(n_treated),
            "place": treated,
            "project_type": "parks_and_greenways",
            "targets": [[{"indicator": "park", "expected_change": 2.0}]] * n_treated,
            "start_year": start,
            "end_year": end,
            "status": "finished",
        }
    )
    return values, projects, groups


def test_did_recovers_a_planted_effect_and_its_interval_covers_it():
    values, projects, groups = synthetic(np.random.default_rng(1))
    row = difference_in_differences(values, projects, peer_groups=groups).iloc[0]
    assert row["conclusive"]
    assert row["estimate"] == pytest.approx(3.0, abs=1.0)
    assert row["ci_low"] < 3.0 < row["ci_high"]
    assert (row["n_treated"], row["n_control"]) == (15, 25)
    assert row["treated_change"] - row["control_change"] == pytest.approx(row["estimate"])
    assert "place-clustered" in row["method"]


def one_cohort(rng, *, n_places=14, n_treated=5):
    """Projects started and ended in 2022: one cohort, pre 2021, post 2023."""
    values, projects, _ = synthetic(rng, n_places=n_places, n_treated=n_treated, noise=1.5)
    return values, projects


def test_one_cohort_is_the_2x2_mean_difference_with_a_hand_clustered_se():
    values, projects = one_cohort(np.random.default_rng(11))
    row = difference_in_differences(values, projects).iloc[0]
    wide = values["park"].unstack("year")
    treated = wide.index.isin(projects["place"])
    change = wide[2023] - wide[2021]
    assert row["estimate"] == pytest.approx(change[treated].mean() - change[~treated].mean())
    assert row["treated_change"] == pytest.approx(change[treated].mean())
    assert row["control_change"] == pytest.approx(change[~treated].mean())

    # The same estimate from the regression in levels: place dummies, a post-year dummy
    # and the treatment dummy, over the two years of the window (numpy only).
    places = list(wide.index)
    n = len(places)
    y = np.concatenate([wide[2021].to_numpy(), wide[2023].to_numpy()])
    place_dummies = np.vstack([np.eye(n), np.eye(n)])
    post = np.repeat([0.0, 1.0], n)
    did = post * np.tile(treated.astype(float), 2)
    x = np.column_stack([place_dummies, post, did])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    assert beta[-1] == pytest.approx(row["estimate"])
    u = y - x @ beta
    bread = np.linalg.inv(x.T @ x)
    cluster = np.tile(np.arange(n), 2)
    meat = sum(
        np.outer(x[cluster == g].T @ u[cluster == g], x[cluster == g].T @ u[cluster == g])
        for g in range(n)
    )
    # CR1 as documented: G/(G-1) * (N-1)/(N-K) with N = n changes, K = cohort + treatment
    # (the place effects are nested in the place clusters and not counted).
    g_count, n_changes, k_params = n, n, 2
    correction = g_count / (g_count - 1) * (n_changes - 1) / (n_changes - k_params)
    se = np.sqrt(correction * (bread @ meat @ bread)[-1, -1])
    assert row["se"] == pytest.approx(se, rel=1e-9)
    assert row["df"] == g_count - 1
    half = stats.t.ppf(0.975, g_count - 1) * se
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (row["estimate"] - half, row["estimate"] + half)
    )


def test_cohorts_are_weighted_by_their_sizes_and_a_shared_control_is_one_cluster():
    rng = np.random.default_rng(13)
    values, _, _ = synthetic(rng, n_places=12, n_treated=0, noise=1.0)
    early, late = ["p00", "p01", "p02"], ["p03", "p04", "p05", "p06"]
    projects = pd.DataFrame(
        {
            "project": range(7),
            "place": early + late,
            "project_type": "parks_and_greenways",
            "targets": [["park"]] * 7,
            "start_year": [2021] * 3 + [2023] * 4,
            "end_year": [2021] * 3 + [2023] * 4,
            "status": "finished",
        }
    )
    row = difference_in_differences(values, projects).iloc[0]
    wide = values["park"].unstack("year")
    controls = [p for p in wide.index if p not in early + late]
    differences, weights = [], []
    for members, pre, post in ((early, 2020, 2022), (late, 2022, 2024)):
        change = wide[post] - wide[pre]
        differences.append(change[members].mean() - change[controls].mean())
        weights.append(len(members) * len(controls) / (len(members) + len(controls)))
    assert row["estimate"] == pytest.approx(np.average(differences, weights=weights))
    assert (row["n_treated"], row["n_control"]) == (7, 5)
    assert row["df"] == 7 + 5 - 1  # clusters are places, not the 17 stacked changes


def test_an_indicator_that_does_not_vary_is_inconclusive():
    values, projects, groups = synthetic(np.random.default_rng(1))
    values["park"] = 0.0  # e.g. townscape damage events: none anywhere, ever
    row = difference_in_differences(values, projects, peer_groups=groups).iloc[0]
    assert not row["conclusive"]
    assert np.isnan(row["estimate"]) and np.isnan(row["se"]) and np.isnan(row["ci_low"])
    assert "没有可比的差异" in row["message"] and "无法得出结论" in row["message"]


def test_changes_without_spread_are_inconclusive():
    # Without noise every treated place rose by exactly 4.6 (trend 1.6 + effect 3) and
    # every other place by exactly 1.6: the difference is 3, but nothing says how
    # uncertain it is.
    values, projects, _ = synthetic(np.random.default_rng(1), noise=0.0)
    row = difference_in_differences(values, projects).iloc[0]
    assert not row["conclusive"] and np.isnan(row["estimate"])
    assert "无法估计结果的不确定性" in row["message"]


def test_did_interval_has_about_the_nominal_coverage():
    rng = np.random.default_rng(2024)
    covered = []
    for _ in range(60):
        values, projects, groups = synthetic(rng, n_places=24, n_treated=8)
        row = difference_in_differences(values, projects, peer_groups=groups).iloc[0]
        covered.append(row["ci_low"] < 3.0 < row["ci_high"])
    assert np.mean(covered) >= 0.85  # nominal 0.95; 3.5 standard errors of 60 draws below


def test_same_group_controls_remove_a_group_specific_trend():
    # Only group-b places are treated and group b rises faster: a comparison with every
    # untreated place would be biased upward; comparing within the peer group is not.
    rng = np.random.default_rng(5)
    values, projects, groups = synthetic(rng, n_places=40, n_treated=0, group_trend=2.0, noise=0.3)
    treated = [p for p, g in groups.items() if g == "b"][:8]
    values.loc[(treated, [2023, 2024]), "park"] += 3.0
    projects = pd.DataFrame(
        {
            "project": range(8),
            "place": treated,
            "project_type": "parks_and_greenways",
            "targets": [["park"]] * 8,
            "start_year": 2022,
            "end_year": 2022,
            "status": "finished",
        }
    )
    within = difference_in_differences(values, projects, peer_groups=groups).iloc[0]
    pooled = difference_in_differences(values, projects).iloc[0]
    assert within["ci_low"] < 3.0 < within["ci_high"]
    assert pooled["estimate"] > 3.0 + 2.0  # absorbs the faster trend of group b


def test_staggered_projects_use_each_place_own_window():
    rng = np.random.default_rng(9)
    values, projects, groups = synthetic(rng, n_places=40, n_treated=0, noise=0.3)
    early, late = ["p00", "p01", "p02", "p03"], ["p04", "p05", "p06", "p07"]
    values.loc[(early, [2022, 2023, 2024]), "park"] += 3.0
    values.loc[(late, [2024]), "park"] += 3.0
    projects = pd.DataFrame(
        {
            "project": range(8),
            "place": early + late,
            "project_type": "parks_and_greenways",
            "targets": [["park"]] * 8,
            "start_year": [2021] * 4 + [2023] * 4,
            "end_year": [2021] * 4 + [2023] * 4,
            "status": "finished",
        }
    )
    row = difference_in_differences(values, projects, peer_groups=groups).iloc[0]
    assert row["ci_low"] < 3.0 < row["ci_high"] and row["n_treated"] == 8


def test_too_few_places_is_said_plainly():
    values, projects, groups = synthetic(np.random.default_rng(3))
    row = difference_in_differences(values, projects.iloc[:2], peer_groups=groups).iloc[0]
    assert not row["conclusive"]
    assert np.isnan(row["estimate"]) and np.isnan(row["ci_low"])
    assert row["n_treated"] == 2
    assert "地区太少，无法得出结论" in row["message"] and "各至少需要 3 个" in row["message"]


def test_unfinished_projects_neither_treat_nor_control():
    values, projects, groups = synthetic(np.random.default_rng(4))
    projects.loc[projects.index[:5], "status"] = "in_progress"
    row = difference_in_differences(values, projects, peer_groups=groups).iloc[0]
    assert row["n_treated"] == 10 and row["n_control"] == 25


def test_message_says_better_for_a_higher_is_better_indicator():
    values, projects, groups = synthetic(np.random.default_rng(1))
    indicators = pd.DataFrame(
        {"code": ["park"], "direction": ["higher"], "name_zh": ["人均公园绿地面积"]}
    )
    row = difference_in_differences(
        values, projects, peer_groups=groups, indicators=indicators
    ).iloc[0]
    assert row["message"].startswith("人均公园绿地面积：有项目的地区比可比地区多变化")
    assert "改善" in row["message"]


def test_did_rejects_bad_parameters():
    values, projects, _ = synthetic(np.random.default_rng(1))
    with pytest.raises(ParameterError, match="`min_places` must be an integer >= 2; got 1"):
        difference_in_differences(values, projects, min_places=1)
    with pytest.raises(ParameterError, match="`projects` must be a DataFrame with columns"):
        difference_in_differences(values, projects.drop(columns="status"))


def test_before_after_of_a_single_project():
    values, projects, groups = synthetic(np.random.default_rng(6), noise=0.0)
    result = before_after(values, projects.iloc[[0]], peer_groups=groups).iloc[0]
    assert (result["pre_year"], result["post_year"]) == (2021, 2023)
    assert result["change"] == pytest.approx(0.8 * 2 + 3.0)
    assert result["net_change"] == pytest.approx(3.0, abs=0.5)


def test_what_if_projects_values_warnings_and_index_without_touching_inputs():
    index = pd.MultiIndex.from_product([["A", "B"], [2023, 2024]], names=["place", "year"])
    values = pd.DataFrame(
        {"park": [10, 11.0, 13, 13.0], "cover": [80, 98.0, 90, 90.0]}, index=index
    )
    planned = pd.DataFrame(
        {
            "place": ["A", "A"],
            "targets": [
                [
                    {"indicator": "park", "expected_change": 0.6},
                    {"indicator": "cover", "expected_change": 4},
                ],
                [{"indicator": "park", "expected_change": 0.6}],
            ],
        }
    )
    indicators = pd.DataFrame(
        {"code": ["park", "cover"], "direction": ["higher"] * 2, "unit": ["平方米/人", "%"]}
    )
    standards = pd.DataFrame(
        {
            "indicator": ["park"],
            "city_class": [""],
            "comparison": [">="],
            "value": [12.0],
            "warning_band": [0.5],
        }
    )
    before = values.copy()
    result = what_if(
        values,
        planned,
        indicators=indicators,
        standards=standards,
        index_function=lambda frame: frame.mean(axis=1),
    )
    projected = result.values.set_index("indicator")
    assert projected.at["park", "projected"] == pytest.approx(12.2)  # two projects add up
    assert projected.at["cover", "projected"] == 100.0  # a percentage stays <= 100
    assert result.warnings[["indicator", "colour_current", "colour_projected"]].values.tolist() == [
        ["park", "red", "green"]
    ]
    index_rows = result.index.set_index("place")
    assert index_rows.at["A", "change"] == pytest.approx((12.2 + 100) / 2 - (11 + 98) / 2)
    assert index_rows.at["B", "change"] == 0
    pd.testing.assert_frame_equal(values, before)
    with pytest.raises(ParameterError, match="`index_function` must be a callable"):
        what_if(values, planned, indicators=indicators, index_function=3)
