"""engine.survey: raking cross-checked with ipfn and samplics on census margins, the Taylor
interval with samplics' estimator, trimming, design effect, bootstrap and roll-up."""

import warnings

import numpy as np
import pandas as pd
import pytest

from citycheck.engine._validation import ParameterError
from citycheck.engine.survey import (
    RakingError,
    design_effect,
    likert_to_score,
    rake,
    roll_up,
    scores,
    trim,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # samplics announces its archival on import
    from ipfn import ipfn
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam
    from samplics.weighting import SampleWeight

# Nanchang's 2020 census margins (data/survey/census_2020.csv, city 360100, rounded to
# hundreds): sex and the five age bands of the questionnaire; a third margin of districts.
SEX = {"male": 3_176_000.0, "female": 3_080_000.0}
AGE = {
    "18-29": 1_082_000.0,
    "30-39": 1_283_000.0,
    "40-49": 1_170_000.0,
    "50-59": 1_161_000.0,
    "60+": 1_560_000.0,
}
DISTRICT = {"a": 2_500_000.0, "b": 2_256_000.0, "c": 1_500_000.0}


def census_sample(n=3000, seed=7):
    """A skewed sample: women, the young and district a are over-represented."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(list(SEX), n, p=[0.4, 0.6])
    age = rng.choice(list(AGE), n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    district = rng.choice(list(DISTRICT), n, p=[0.5, 0.3, 0.2])
    base = rng.uniform(0.5, 2.0, n)
    return base, {"sex": sex, "age": age, "district": district}


pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")

CONTROLS = {"sex": SEX, "age": AGE, "district": DISTRICT}


def test_rake_meets_every_control_and_leaves_input_alone():
    base, margins = census_sample()
    kept = base.copy()
    raked = rake(base, margins, CONTROLS)
    np.testing.assert_array_equal(base, kept)
    for variable, totals in CONTROLS.items():
        for category, total in totals.items():
            assert raked[margins[variable] == category].sum() == pytest.approx(total, rel=1e-9)


def test_rake_agrees_with_ipfn_on_the_census_margins():
    base, margins = census_sample()
    raked = rake(base, margins, CONTROLS)
    cells = (
        pd.DataFrame({**margins, "total": base})
        .groupby(["sex", "age", "district"], as_index=False)["total"]
        .sum()
    )
    aggregates = [pd.Series(CONTROLS[v]).rename_axis(v) for v in ("sex", "age", "district")]
    fitted = ipfn.ipfn(
        cells,
        aggregates,
        [["sex"], ["age"], ["district"]],
        weight_col="total",
        convergence_rate=1e-12,
        max_iteration=2000,
    ).iteration()
    ours = pd.DataFrame({**margins, "w": raked}).groupby(["sex", "age", "district"])["w"].sum()
    theirs = fitted.set_index(["sex", "age", "district"])["total"]
    np.testing.assert_allclose(ours.loc[theirs.index], theirs, rtol=1e-7)


def test_rake_agrees_with_samplics_per_respondent():
    base, margins = census_sample(n=1500, seed=3)
    raked = rake(base, margins, CONTROLS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = SampleWeight().rake(
            samp_weight=base,
            margins=margins,
            control=CONTROLS,
            tol=1e-12,
            ctrl_tol=1e-12,
            max_iter=2000,
        )
    np.testing.assert_allclose(raked, theirs, rtol=1e-7)


def test_rake_refuses_an_empty_control_category_naming_it():
    base, margins = census_sample(n=300)
    margins["age"] = np.where(margins["age"] == "60+", "50-59", margins["age"])
    with pytest.raises(RakingError, match="'60\\+' of 'age' has no respondent") as caught:
        rake(base, margins, CONTROLS)
    assert (caught.value.variable, caught.value.category) == ("age", "60+")


def test_rake_refuses_a_category_without_control_and_unequal_populations():
    base, margins = census_sample(n=300)
    margins["sex"] = margins["sex"].copy()
    margins["sex"][0] = "other"
    with pytest.raises(RakingError, match="'other' of 'sex' has no control total"):
        rake(base, margins, CONTROLS)
    base, margins = census_sample(n=300)
    with pytest.raises(RakingError, match="do not add up to the same population"):
        rake(base, margins, {**CONTROLS, "sex": {"male": 1.0, "female": 1.0}})


def test_rake_says_when_it_does_not_converge():
    base, margins = census_sample(n=300)
    with pytest.raises(RakingError, match="did not converge in 2 iterations"):
        rake(base, margins, CONTROLS, max_iter=2)


@pytest.mark.parametrize(
    "kwargs, parameter",
    [({"tol": 0}, "tol"), ({"max_iter": 0}, "max_iter")],
)
def test_rake_checks_its_parameters(kwargs, parameter):
    base, margins = census_sample(n=100)
    with pytest.raises(ParameterError, match=f"^`{parameter}` must be"):
        rake(base, margins, CONTROLS, **kwargs)
    with pytest.raises(ParameterError, match=r"^`weights` must be"):
        rake(-base, margins, CONTROLS)


def test_trim_caps_and_still_meets_the_controls():
    rng = np.random.default_rng(0)
    n = 4000
    region = rng.choice(["r1", "r2"], n)
    sex = rng.choice(["m", "f"], n)
    base = np.where(rng.uniform(size=n) < 0.02, 30.0, 1.0)  # a few huge base weights
    margins = {"region": region, "sex": sex}
    controls = {"region": {"r1": 5e5, "r2": 5e5}, "sex": {"m": 4.9e5, "f": 5.1e5}}
    raked = rake(base, margins, controls)
    assert raked.max() / np.median(raked) > 20
    trimmed = trim(base, margins, controls, cap=4.0)
    assert trimmed.max() / np.median(trimmed) <= 4.0 * 1.001
    for variable, totals in controls.items():
        for category, total in totals.items():
            assert trimmed[margins[variable] == category].sum() == pytest.approx(total)
    assert design_effect(trimmed)["deff"].iloc[0] < design_effect(raked)["deff"].iloc[0]


def test_design_effect_is_kish_per_group():
    w = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 9.0])
    result = design_effect(w, ["a", "a", "a", "a", "b", "b"]).set_index("group")
    assert result.loc["a", "deff"] == pytest.approx(4 * 10 / 36)
    assert result.loc["b", "effective_n"] == pytest.approx(144 / 90)
    assert result.loc["b", "n"] == 2


def test_likert_maps_linearly_and_refuses_out_of_scale():
    assert likert_to_score([1, 2, 5]).tolist() == [0.0, 25.0, 100.0]
    with pytest.raises(ValueError, match="from 1 to 5"):
        likert_to_score([0, 3])


def sample_scores(n=2000, seed=11):
    rng = np.random.default_rng(seed)
    group = rng.choice(["360102", "360103", "360121"], n, p=[0.5, 0.3, 0.2])
    answers = pd.DataFrame(
        {
            "parks": rng.integers(1, 6, n).astype(float),
            "noise": rng.choice([1, 2, 3, 4, 5, np.nan], n, p=[0.1, 0.2, 0.3, 0.2, 0.1, 0.1]),
        }
    )
    weights = rng.uniform(0.3, 4.0, n)
    return answers.apply(likert_to_score), weights, group


def test_taylor_interval_agrees_with_samplics():
    values, weights, group = sample_scores()
    ours = scores(values, weights, group).set_index(["group", "item"])
    for item in values.columns:
        answered = values[item].notna().to_numpy()
        estimator = TaylorEstimator(PopParam.mean)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.estimate(
                y=values[item].to_numpy()[answered],
                samp_weight=weights[answered],
                by=group[answered],
            )
        for place, point in estimator.point_est.items():
            row = ours.loc[(place, item)]
            assert row["score"] == pytest.approx(point, rel=1e-10)
            assert row["se"] == pytest.approx(estimator.stderror[place], rel=1e-10)
            assert row["high"] - row["low"] == pytest.approx(2 * 1.959964 * row["se"], rel=1e-5)
            assert row["n"] == answered[group == place].sum()


def test_bootstrap_interval_is_close_to_taylor():
    values, weights, group = sample_scores(n=3000)
    taylor = scores(values, weights, group)
    boot = scores(values, weights, group, method="bootstrap", replicates=300, random_state=1)
    np.testing.assert_allclose(boot["score"], taylor["score"])
    np.testing.assert_allclose(boot["se"], taylor["se"], rtol=0.2)
    again = scores(values, weights, group, method="bootstrap", replicates=300, random_state=1)
    pd.testing.assert_frame_equal(boot, again)


def test_warnings_flag_few_effective_responses_and_wide_intervals():
    values, weights, group = sample_scores(n=2000)
    small = np.isin(np.arange(2000), np.arange(20))  # 20 respondents in a fourth place
    group = np.where(small, "360124", group)
    result = scores(values, weights, group).set_index(["group", "item"])
    assert result.loc[("360124", "parks"), "few_responses"]
    assert result.loc[("360124", "parks"), "wide_interval"]
    assert not result.loc[("360102", "parks"), "few_responses"]
    assert not result.loc[("360102", "parks"), "wide_interval"]


def test_scores_refuses_raw_likert_answers():
    with pytest.raises(ValueError, match="scores from 0 to 100"):
        scores(pd.DataFrame({"x": [1.0, 500.0]}), [1, 1], ["a", "a"])


def test_roll_up_weights_children_by_population():
    values, weights, group = sample_scores()
    counties = scores(values, weights, group)
    population = {"360102": 600_000, "360103": 500_000, "360121": 900_000}
    city = roll_up(counties, dict.fromkeys(population, "360100"), population)
    parks = counties[counties["item"] == "parks"].set_index("group")
    share = pd.Series(population) / sum(population.values())
    row = city[city["item"] == "parks"].iloc[0]
    assert row["group"] == "360100"
    assert row["score"] == pytest.approx((share * parks["score"]).sum())
    assert row["se"] == pytest.approx(np.sqrt(((share * parks["se"]) ** 2).sum()))
    assert row["n"] == parks["n"].sum()
