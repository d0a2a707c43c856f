"""COINr's ASEM example through our pipeline, stage by stage (reference: COINr 1.1.14).

Reads the reference CSVs from ../shared/data/coinr_asem (never copied into the project).
"""

import pandas as pd
import pytest

from citycheck.engine.index import compute_index
from citycheck.engine.outliers import treatment_details
from citycheck.engine.testing import assert_scores_equal, load_coinr_asem

# COINr's build_example_coin(): Denominate -> Impute(i_mean_grp by EurAsia_group) ->
# Screen(Imputed, byNA, dat_thresh 0.9) -> Treat(winmax 5) -> Normalise(minmax 0-100) -> amean
COINR_EXAMPLE_STEPS = {
    "impute": {"method": "group_mean"},
    "screen": {"min_availability": 0.9, "basis": "imputed"},
    "treat": {"method": "winsorise_then_log", "winmax": 5},
    "normalise": {"method": "minmax", "low": 0, "high": 100},
    "weights": {"indicators": {"method": "expert"}, "dimensions": {"method": "expert"}},
    "aggregate": {"dimension": "arithmetic", "index": "arithmetic"},
}


@pytest.fixture(scope="module")
def asem(shared_data):
    folder = shared_data / "coinr_asem"
    if not (folder / "ASEM_iData.csv").exists():
        pytest.skip(f"COINr ASEM reference data not found in {folder}")
    return load_coinr_asem(folder)


@pytest.fixture(scope="module")
def example(asem):
    return compute_index(
        asem.denominate(),
        steps=COINR_EXAMPLE_STEPS,
        tree=asem.tree,
        directions=asem.directions,
        groups=asem.groups,
    )


def test_denominated_matches_coinr(asem):
    assert_scores_equal(asem.denominate(), asem.stages["Denominated"], label="Denominated")


@pytest.mark.parametrize(
    ("stage", "attribute"),
    [
        ("Imputed", "imputed"),
        ("Screened", "screened"),
        ("Treated", "treated"),
        ("Normalised", "normalised"),
    ],
)
def test_each_stage_matches_coinr(asem, example, stage, attribute):
    expected = asem.stages[stage]
    actual = getattr(example, attribute)
    assert sorted(actual.index) == sorted(expected.index)
    assert_scores_equal(actual, expected, label=stage)


def test_treatment_details_match_coinr(asem, shared_data):
    expected = pd.read_csv(shared_data / "coinr_asem" / "ASEM_treat_details.csv").set_index("iCode")
    details = treatment_details(asem.stages["Screened"])
    assert (details["passed_before"] == expected["check_SkewKurt0.Pass"]).all()
    assert (details["n_winsorised"] == expected["winsorise.nwin"].fillna(0)).all()
    pd.testing.assert_series_equal(
        details["skew_before"], expected["check_SkewKurt0.Skew"], check_names=False, atol=1e-9
    )
    pd.testing.assert_series_equal(
        details["kurtosis_before"], expected["check_SkewKurt0.Kurt"], check_names=False, atol=1e-9
    )
    treated = expected["check_SkewKurt1.Skew"].dropna()
    pd.testing.assert_series_equal(
        details.loc[treated.index, "skew_after"], treated, check_names=False, atol=1e-9
    )


def test_every_aggregate_the_index_and_ranks_match_coinr(asem, example):
    aggregated = asem.stages["Aggregated"]
    assert_scores_equal(example.scores, aggregated[example.scores.columns], label="Aggregated")
    assert_scores_equal(example.index, asem.results["Index"].rename("index"), label="Index")
    assert (example.ranks == asem.results["Rank"].loc[example.ranks.index]).all()
    assert example.index.idxmax() == "CHE"
    assert example.index.max() == pytest.approx(68.383724238342, abs=1e-9)


def test_variant_b_raw_minmax_arithmetic_skips_missing_values(asem, shared_data):
    folder = shared_data / "coinr_asem"
    result = compute_index(asem.raw, tree=asem.tree, directions=asem.directions)
    normalised = pd.read_csv(folder / "ASEM_variantB_Normalised.csv").set_index("uCode")
    expected = pd.read_csv(folder / "ASEM_variantB_raw_minmax_amean_results.csv").set_index("uCode")
    assert_scores_equal(result.normalised, normalised, label="variant B normalised")
    assert_scores_equal(result.index, expected["Index"].rename("index"), label="variant B index")
    assert (result.ranks == expected["Rank"].loc[result.ranks.index]).all()


def test_variant_c_treated_minmax_1_100_geometric(asem, shared_data):
    steps = {
        **COINR_EXAMPLE_STEPS,
        "normalise": {"method": "minmax", "low": 1, "high": 100},
        "aggregate": {"dimension": "geometric", "index": "geometric"},
    }
    result = compute_index(
        asem.denominate(),
        steps=steps,
        tree=asem.tree,
        directions=asem.directions,
        groups=asem.groups,
    )
    expected = pd.read_csv(
        shared_data / "coinr_asem" / "ASEM_variantC_treated_minmax1-100_gmean_results.csv"
    ).set_index("uCode")
    assert_scores_equal(
        result.scores, expected[result.scores.columns], label="variant C aggregates"
    )
    assert (result.ranks == expected["Rank"].loc[result.ranks.index]).all()


def test_variant_d_percentile_ranks(asem, shared_data):
    steps = {**COINR_EXAMPLE_STEPS, "normalise": {"method": "percentile_rank", "low": 0, "high": 1}}
    result = compute_index(
        asem.denominate(),
        steps=steps,
        tree=asem.tree,
        directions=asem.directions,
        groups=asem.groups,
    )
    expected = pd.read_csv(
        shared_data / "coinr_asem" / "ASEM_variantD_prank_results.csv"
    ).set_index("uCode")
    difference = (result.normalised - expected[result.normalised.columns]).abs()
    # Every indicator matches except TolMin, whose tied values (5.1 for GRC, CZE, BGR; 3.4
    # for JPN, NOR) are equal in the CSV (15 significant digits) but not inside R, so COINr
    # splits those ties: three places differ by exactly one rank step.
    assert difference.drop(columns="TolMin").to_numpy().max() < 1e-9
    assert difference["TolMin"].max() == pytest.approx(1 / 50)
    assert (difference["TolMin"] > 0).sum() == 3
    assert_scores_equal(
        result.index, expected["Index"].rename("index"), atol=1e-3, label="variant D"
    )


def test_monte_carlo_draw_zero_is_coinrs_index(asem):
    result = compute_index(
        asem.denominate(),
        steps={**COINR_EXAMPLE_STEPS, "uncertainty": {"draws": 20, "random_state": 1}},
        tree=asem.tree,
        directions=asem.directions,
        groups=asem.groups,
    )
    draw_zero = pd.Series(result.uncertainty.scores[:, 0], index=result.index.index, name="index")
    assert_scores_equal(draw_zero, asem.results["Index"].rename("index"), label="draw 0")
    summary = result.uncertainty.summary
    assert ((summary["rank_low"] <= result.ranks) & (result.ranks <= summary["rank_high"])).all()
