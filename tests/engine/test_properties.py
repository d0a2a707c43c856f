"""Behaviour and properties of the index engine: weights, AHP, aggregation, index, standards,
uncertainty and coherence."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycheck.engine import aggregate, coherence, impute, normalise, screening, standards, weights
from citycheck.engine._validation import DataError, ParameterError
from citycheck.engine.index import CompositeIndex, compute_index
from citycheck.engine.testing import synthetic_values
from citycheck.engine.uncertainty import monte_carlo
from citycheck.engine.weights import InconsistentJudgementsError


@pytest.fixture(scope="module")
def province():
    return synthetic_values(60, 12, n_dimensions=4, random_state=7)


def random_matrix(seed, n=20, m=5):
    return np.random.default_rng(seed).uniform(1, 100, size=(n, m))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["entropy", "critic"]))
def test_objective_weights_sum_to_one_and_follow_column_permutations(seed, method):
    matrix = random_matrix(seed)
    directions = np.array([1, -1, 1, 1, -1])
    compute = getattr(weights, method)
    result = compute(matrix, directions)
    assert result.sum() == pytest.approx(1.0) and (result >= 0).all()
    order = np.random.default_rng(seed).permutation(5)
    np.testing.assert_allclose(
        compute(matrix[:, order], directions[order]), result[order], atol=1e-12
    )
    rows = np.random.default_rng(seed + 1).permutation(20)
    np.testing.assert_allclose(compute(matrix[rows], directions), result, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_flipping_a_direction_and_negating_the_column_changes_nothing(seed):
    matrix = random_matrix(seed)
    flipped = matrix.copy()
    flipped[:, 0] = 200 - matrix[:, 0]
    for compute in (weights.entropy, weights.critic):
        np.testing.assert_allclose(
            compute(flipped, [-1, 1, 1, 1, 1]), compute(matrix, [1] * 5), atol=1e-12
        )
    shares = np.full(5, 0.2)
    np.testing.assert_allclose(
        aggregate.topsis(flipped, shares, [-1, 1, 1, 1, 1], normalisation="minmax"),
        aggregate.topsis(matrix, shares, [1] * 5, normalisation="minmax"),
        atol=1e-12,
    )


def test_entropy_gives_more_weight_to_the_more_dispersed_indicator():
    values = pd.DataFrame({"even": [10.0, 11.0, 12.0, 13.0], "uneven": [0.0, 0.0, 0.0, 9.0]})
    result = weights.entropy(values, [1, 1])
    assert list(result.index) == ["even", "uneven"]
    assert result["uneven"] > result["even"]


def test_ahp_eigenvector_and_geometric_on_saaty_example():
    pairwise = pd.DataFrame(
        [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]], index=list("abc"), columns=list("abc")
    )
    eigen, cr = weights.ahp(pairwise)
    geometric, cr_geometric = weights.ahp(pairwise, method="geometric")
    assert list(eigen.index) == list("abc")
    np.testing.assert_allclose(eigen, [0.637, 0.258, 0.105], atol=1e-3)
    np.testing.assert_allclose(geometric, eigen, atol=5e-3)
    assert cr == pytest.approx(0.0332, abs=1e-3) and cr_geometric == pytest.approx(cr, abs=2e-3)
    consistent = np.array([[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]])
    np.testing.assert_allclose(weights.ahp(consistent)[0], [4 / 7, 2 / 7, 1 / 7])
    assert weights.ahp(consistent)[1] == pytest.approx(0.0, abs=1e-12)


def test_ahp_inconsistent_matrix_raises_with_the_ratio():
    inconsistent = np.array([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]])
    with pytest.raises(InconsistentJudgementsError, match=r"CR = \d+\.\d{3} > 0\.1") as caught:
        weights.ahp(inconsistent)
    assert caught.value.cr > 0.1
    with pytest.raises(DataError, match="reciprocal"):
        weights.ahp(np.array([[1, 2], [2, 1]]))


def test_combinations_of_weights():
    expert = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})
    objective = pd.Series({"a": 0.2, "b": 0.2, "c": 0.6})
    product = weights.combine(expert, objective)
    np.testing.assert_allclose(product, np.array([0.1, 0.06, 0.12]) / 0.28)
    linear = weights.combine(expert, objective, method="linear", coefficients=[0.7, 0.3])
    np.testing.assert_allclose(linear, [0.41, 0.27, 0.32])
    with pytest.raises(ParameterError, match="coefficients"):
        weights.combine(expert, objective, method="linear", coefficients=[0.7, 0.7])


def test_geometric_mean_refuses_zero_naming_place_and_indicator():
    values = pd.DataFrame({"a": [1.0, 0.0], "b": [2.0, 3.0]}, index=["360102", "360103"])
    with pytest.raises(DataError, match=r"place '360103', indicator 'a'"):
        aggregate.geometric(values, [1, 1])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: weights.entropy(v, [1, 1]), "indicator 'b'"),
        (lambda v: weights.critic(v, [1, 1]), "indicator 'b'"),
        (lambda v: normalise.minmax(v, [1, 1]), "indicator 'b'"),
    ],
)
def test_constant_indicator_is_an_error_naming_it(call, message):
    values = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]})
    with pytest.raises(DataError, match=message):
        call(values)


def test_missing_values_and_too_few_places_are_errors():
    with pytest.raises(DataError, match=r"no values at all.*indicator 'b'"):
        weights.entropy(pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]}), [1, 1])
    with pytest.raises(DataError, match="place 'q', indicator 'a'"):
        aggregate.topsis(pd.DataFrame({"a": [1.0, np.nan]}, index=["p", "q"]), [1], [1])
    with pytest.raises(DataError, match="at least 3 places"):
        weights.critic(np.array([[1.0, 2.0], [2.0, 1.0]]), [1, 1])


def test_obstacle_degrees_rows_sum_to_one_and_point_at_the_weakest():
    normalised = pd.DataFrame({"a": [0.1, 0.9], "b": [0.9, 0.2]}, index=["p", "q"])
    degrees = aggregate.obstacle_degree(normalised, [0.5, 0.5])
    np.testing.assert_allclose(degrees.sum(axis=1), 1.0)
    assert degrees.idxmax(axis=1).tolist() == ["a", "b"]


def test_impute_group_mean_and_previous_year():
    values = pd.DataFrame({"x": [1.0, 3.0, np.nan, 10.0, np.nan]}, index=list("abcde"))
    filled = impute.impute(values, method="group_mean", groups=["g", "g", "g", "h", "h"])
    assert filled["x"].tolist() == [1.0, 3.0, 2.0, 10.0, 10.0]
    assert values["x"].isna().sum() == 2  # input untouched
    panel = pd.DataFrame(
        {"x": [np.nan, 5.0, np.nan, 1.0, np.nan]},
        index=pd.MultiIndex.from_tuples(
            [("a", 2022), ("a", 2020), ("a", 2021), ("b", 2020), ("b", 2021)],
            names=["place", "year"],
        ),
    )
    carried = impute.impute(panel, method="previous_year")
    assert carried.index.equals(panel.index)
    assert carried["x"].tolist() == [5.0, 5.0, 5.0, 1.0, 1.0]


def test_screening_keeps_places_with_enough_data():
    values = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, np.nan, np.nan]}, index=list("pqr"))
    assert screening.screen(values, min_availability=0.5).index.tolist() == ["p", "r"]
    assert screening.screen(values, min_availability=0.5, axis="indicators").columns.tolist() == [
        "a"
    ]


def test_index_tree_weights_and_ranks(province):
    model = CompositeIndex(
        province.tree,
        province.directions,
        treat="winsorise_then_log",
        weights={"indicators": "entropy", "dimensions": "equal"},
        groups=province.groups,
    )
    result = model.compute(province.values)
    assert set(result.scores.columns) == {"D0", "D1", "D2", "D3", "index"}
    assert result.effective_weights.sum() == pytest.approx(1.0)
    for dimension in ("D0", "D1"):
        assert result.weights[model_children(province.tree, dimension)].sum() == pytest.approx(1.0)
    assert result.ranks[result.index.idxmax()] == 1
    assert result.peer_ranks.groupby(province.groups).min().eq(1).all()
    assert not result.index.isna().any()
    np.testing.assert_allclose(result.obstacle_degrees.sum(axis=1), 1.0)
    assert result.steps["weights"]["indicators"]["method"] == "entropy"
    # the stored steps reproduce the result exactly
    again = CompositeIndex.from_spec(
        result.steps, province.tree, province.directions, groups=province.groups
    )
    pd.testing.assert_series_equal(again.compute(province.values).index, result.index)


def model_children(tree, parent):
    return [child for child, p in tree.items() if p == parent]


@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric", "topsis"])
@pytest.mark.parametrize(
    "weighting", ["equal", "entropy", "critic", {"method": "product", "of": ["equal", "entropy"]}]
)
def test_index_combinations_give_complete_finite_scores(province, aggregation, weighting):
    result = compute_index(
        province.values,
        tree=province.tree,
        directions=province.directions,
        steps={
            "normalise": {"method": "minmax", "low": 1, "high": 100},
            "weights": {"indicators": weighting},
            "aggregate": {"dimension": aggregation, "index": aggregation},
        },
    )
    assert np.isfinite(result.index).all() and len(result.index) == 60


def test_index_panel_ranks_within_year():
    case = synthetic_values(20, 8, n_years=3, n_dimensions=2, random_state=3)
    result = compute_index(
        case.values, tree=case.tree, directions=case.directions, groups=case.groups
    )
    per_year = result.ranks.groupby(level="year")
    assert per_year.min().eq(1).all() and per_year.max().eq(20).all()
    assert result.peer_ranks.groupby(level="year").min().eq(1).all()


@pytest.mark.parametrize(
    ("steps", "parameter"),
    [
        ({"normalize": {}}, "steps"),
        ({"treat": {"method": "trim"}}, "method"),
        ({"weights": {"indicators": {"method": "magic"}}}, "weights.indicators.method"),
        ({"aggregate": {"dimension": "median"}}, "aggregate.dimension"),
        ({"normalise": {"scale": 3}}, "normalise.scale"),
    ],
)
def test_unknown_step_or_choice_is_a_clear_error(province, steps, parameter):
    with pytest.raises(ParameterError, match=f"`{parameter}` must be"):
        compute_index(
            province.values, tree=province.tree, directions=province.directions, steps=steps
        )


def test_unknown_indicator_is_an_error(province):
    values = province.values.assign(extra=1.0)
    with pytest.raises(DataError, match="indicator 'extra'"):
        compute_index(values, tree=province.tree, directions=province.directions)


def test_standards_colours_classes_and_bottom_lines():
    values = pd.DataFrame(
        {
            "green": [0.45, 0.38, 0.30, np.nan],
            "pm25": [30.0, 37.0, 50.0, 20.0],
            "density": [5, 9, 2, 7.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="place"),
    )
    table = pd.DataFrame(
        {
            "indicator": ["green", "green", "pm25", "density"],
            "city_class": ["", "big", "", ""],
            "comparison": [">=", ">=", "<=", "between"],
            "value": [0.35, 0.40, 35.0, 4.0],
            "value_high": [np.nan, np.nan, np.nan, 8.0],
            "warning_band": [0.05, 0.05, 5.0, 1.0],
            "type": ["guiding", "guiding", "bottom_line", "guiding"],
        }
    )
    result = standards.assess_standards(
        values, table, {"a": "big", "b": "big", "c": "small", "d": "small"}
    )
    by_key = result.set_index(["place", "indicator"])
    assert by_key.loc[("a", "green"), "target"] == 0.40  # class-specific standard
    assert by_key.loc[("c", "green"), "target"] == 0.35  # all-classes standard
    assert by_key.loc[("b", "green"), "colour"] == "yellow"
    assert by_key.loc[("c", "green"), "colour"] == "yellow"
    assert by_key.loc[("d", "green"), "colour"] == "missing"
    assert (
        by_key.loc[("b", "pm25"), "colour"] == "yellow"
        and by_key.loc[("b", "pm25"), "bottom_line_failed"]
    )
    assert by_key.loc[("c", "pm25"), "colour"] == "red"
    assert by_key.loc[("a", "pm25"), "margin"] == pytest.approx(5.0)
    assert by_key.loc[("b", "density"), "shortfall"] == pytest.approx(1.0)
    assert by_key.loc[("d", "density"), "margin"] == pytest.approx(1.0)
    assert by_key.loc[("c", "density"), "colour"] == "red"
    long = values.stack().rename("value").rename_axis(["place", "indicator"]).reset_index()
    from_long = standards.assess_standards(
        long, table, {"a": "big", "b": "big", "c": "small", "d": "small"}
    )
    assert set(from_long["colour"]) <= set(result["colour"])


def test_standards_bad_table_names_row_and_indicator():
    table = pd.DataFrame(
        {
            "indicator": ["x"],
            "city_class": [""],
            "comparison": ["=>"],
            "value": [1.0],
            "value_high": [np.nan],
            "warning_band": [0.0],
            "type": ["guiding"],
        }
    )
    with pytest.raises(DataError, match=r"row 0: comparison must be one of.*indicator 'x'"):
        standards.assess_standards(pd.DataFrame({"x": [1.0]}, index=["a"]), table)


def test_monte_carlo_is_reproducible_and_brackets_the_nominal_rank(province):
    arguments = dict(
        tree=province.tree,
        directions=province.directions,
        draws=300,
        normalisation=["minmax", "percentile_rank"],
        aggregation=["arithmetic", "geometric"],
    )
    first = monte_carlo(province.values, random_state=11, **arguments)
    second = monte_carlo(province.values, random_state=np.random.default_rng(11), **arguments)
    pd.testing.assert_frame_equal(first.summary, second.summary)
    summary = first.summary
    assert (summary["rank_q05"] <= summary["median_rank"]).all()
    assert (summary["median_rank"] <= summary["rank_q95"]).all()
    assert set(first.sensitivity.index) == {"weights", "normalisation", "aggregation"}
    assert first.sensitivity.between(0, 1).all()
    nominal = compute_index(
        province.values,
        tree=province.tree,
        directions=province.directions,
        steps={"normalise": {"low": 1, "high": 100}},
    )
    assert (summary["nominal_rank"] == nominal.ranks).all()


def test_monte_carlo_only_weights_uncertain_attributes_all_to_weights(province):
    result = monte_carlo(
        province.values,
        tree=province.tree,
        directions=province.directions,
        draws=200,
        random_state=0,
    )
    assert result.sensitivity[["normalisation", "aggregation"]].abs().max() < 1e-12
    assert result.draws["mean_rank_shift"].iloc[1:].mean() > 0


def test_coherence_flags_an_indicator_against_its_dimension(province):
    result = compute_index(province.values, tree=province.tree, directions=province.directions)
    dimensions, indicators = coherence.coherence(
        result.normalised, result.scores, tree=province.tree
    )
    assert not indicators["weak"].any()
    reversed_values = province.values.copy()
    wrong_direction = province.directions.copy()
    wrong_direction["I00"] = -wrong_direction["I00"]
    broken = compute_index(reversed_values, tree=province.tree, directions=wrong_direction)
    _, broken_indicators = coherence.coherence(broken.normalised, broken.scores, tree=province.tree)
    assert broken_indicators.loc["I00", "weak"]
    assert dimensions["cronbach_alpha"].between(-1, 1).all()


@st.composite
def index_methods(draw):
    """A random method: weights, normalisation, per-level aggregation and uncertainty choices."""
    normalisation = draw(st.sampled_from(["minmax", "percentile_rank"]))
    return {
        "impute": {"method": draw(st.sampled_from(["mean", "group_mean", "none"]))},
        "screen": {"min_availability": 0.5, "basis": draw(st.sampled_from(["values", "imputed"]))},
        "treat": {"method": draw(st.sampled_from(["none", "winsorise_then_log"]))},
        "normalise": {"method": normalisation, "low": 1, "high": 100},
        "weights": {
            "indicators": draw(
                st.sampled_from(
                    [
                        "equal",
                        "entropy",
                        {
                            "method": "product",
                            "of": ["expert", "entropy"],
                            "expert": {"I00": 2, "I05": 3},
                        },
                    ]
                )
            ),
            "dimensions": draw(
                st.sampled_from(["equal", {"method": "expert", "expert": {"D1": 2}}])
            ),
        },
        "aggregate": {
            "dimension": draw(st.sampled_from(["arithmetic", "geometric"])),
            "index": draw(st.sampled_from(["arithmetic", "geometric"])),
        },
        "uncertainty": {
            "draws": 60,
            "random_state": draw(st.integers(0, 1000)),
            "weight_spread": draw(st.sampled_from([0.1, 0.25, 0.5])),
            "normalisation": draw(st.sampled_from([[], ["percentile_rank"], ["minmax", "rank"]])),
            "aggregation": draw(st.sampled_from([[], ["arithmetic"], ["arithmetic", "geometric"]])),
        },
    }


@settings(max_examples=25, deadline=None)
@given(index_methods(), st.integers(0, 50))
def test_draw_zero_is_the_published_index_and_intervals_hold_the_published_rank(steps, seed):
    case = synthetic_values(30, 8, n_dimensions=3, missing_share=0.05, random_state=seed)
    if "rank" in steps["uncertainty"]["normalisation"] and "geometric" in (
        steps["aggregate"]["dimension"],
        steps["aggregate"]["index"],
        *steps["uncertainty"]["aggregation"],
    ):
        steps["uncertainty"]["normalisation"] = ["percentile_rank"]
    result = compute_index(
        case.values, tree=case.tree, directions=case.directions, groups=case.groups, steps=steps
    )
    draws = result.uncertainty
    np.testing.assert_allclose(draws.scores[:, 0], result.index.to_numpy(), rtol=1e-12)
    summary = draws.summary
    assert (summary["nominal_rank"] == result.ranks).all()
    assert (summary["rank_low"] <= result.ranks).all()
    assert (result.ranks <= summary["rank_high"]).all()
    assert (summary["rank_low"] <= np.floor(summary["rank_q05"])).all()
    assert (summary["rank_high"] >= np.ceil(summary["rank_q95"])).all()
    used = draws.draws
    assert used.loc[0, "dimension_aggregation"] == steps["aggregate"]["dimension"]
    assert used.loc[0, "index_aggregation"] == steps["aggregate"]["index"]
    assert used.loc[0, "normalisation"] == steps["normalise"]["method"]
    assert used.loc[0, "weight_change"] == 0


def test_monte_carlo_draws_the_published_mixed_aggregation():
    case = synthetic_values(40, 8, n_dimensions=2, random_state=1)
    steps = {
        "normalise": {"method": "minmax", "low": 1, "high": 100},
        "aggregate": {"dimension": "arithmetic", "index": "geometric"},
        "uncertainty": {"draws": 200, "random_state": 3, "aggregation": ["arithmetic"]},
    }
    result = compute_index(case.values, tree=case.tree, directions=case.directions, steps=steps)
    used = result.uncertainty.draws
    # the index level draws its published geometric mean and the arithmetic alternative
    assert set(used["index_aggregation"]) == {"geometric", "arithmetic"}
    assert set(used["dimension_aggregation"]) == {"arithmetic"}
    again = compute_index(case.values, tree=case.tree, directions=case.directions, steps=steps)
    np.testing.assert_array_equal(again.uncertainty.ranks, result.uncertainty.ranks)


def test_treatment_keeps_a_weighted_indicator_it_would_make_constant():
    # mostly 0 with two events: winsorising the top values down makes it constant
    events = [0.0] * 18 + [1.0, 6.0]
    values = pd.DataFrame(
        {"events": events, "green": np.linspace(1, 20, 20), "air": np.linspace(5, 2, 20)},
        index=[f"p{i}" for i in range(20)],
    )
    tree = {"events": "safety", "green": "eco", "air": "eco", "safety": "index", "eco": "index"}
    directions = {"events": -1, "green": 1, "air": 1}
    treat = {"method": "winsorise_then_log", "winmax": 2}
    kept = compute_index(values, tree=tree, directions=directions, steps={"treat": treat})
    assert "events" in kept.normalised.columns and kept.left_out.empty
    assert kept.treatment.loc["events", "kept_untreated"]
    pd.testing.assert_series_equal(kept.treated["events"], values["events"])
    dropped = compute_index(
        values,
        tree=tree,
        directions=directions,
        steps={"treat": {**treat, "if_constant": "drop"}},
    )
    assert dropped.left_out.to_dict() == {
        "events": "constant_after_treatment",
        "safety": "no_indicators",
    }


def test_missing_data_is_imputed_screened_and_listed():
    values = pd.DataFrame(
        {
            "a": [1.0, 2.0, np.nan, 4.0, np.nan, 6.0],
            "b": [3.0, 1.0, 2.0, 5.0, np.nan, 4.0],
            "c": [7.0, 7.0, 7.0, 7.0, np.nan, 7.0],
            "d": [np.nan] * 6,
        },
        index=list("pqrstu"),
    )
    tree = {"a": "x", "b": "x", "c": "y", "d": "y", "x": "index", "y": "index"}
    result = compute_index(
        values,
        tree=tree,
        directions=[1, 1, 1, 1],
        steps={"impute": "mean", "screen": {"min_availability": 0.5, "basis": "values"}},
    )
    assert result.screened_out.to_dict() == {"t": 0.0}  # reported nothing: not ranked
    assert result.imputations.to_dict("records") == [
        {"place": "r", "indicator": "a", "value": pytest.approx(13 / 4), "method": "mean"}
    ]
    assert result.left_out.to_dict() == {"c": "constant", "d": "no_values", "y": "no_indicators"}
    assert list(result.index.index) == list("pqrsu")
    on_imputed = compute_index(values, tree=tree, directions=[1, 1, 1, 1], steps={"impute": "mean"})
    assert "t" in on_imputed.index.index  # COINr's order: screening after imputation


def test_range_indicator_enters_as_distance_outside_its_band():
    values = pd.DataFrame(
        {"density": [10.0, 13.0, 7.0, 15.0], "green": [4.0, 3.0, 2.0, 1.0]}, index=list("pqrs")
    )
    bands = pd.DataFrame({"place": list("pqrs"), "indicator": "density", "low": 8.0, "high": 12.0})
    result = compute_index(
        values,
        tree={"density": "index", "green": "index"},
        directions={"density": 0, "green": 1},
        bands=bands,
    )
    assert result.entered["density"].tolist() == [0.0, 1.0, 1.0, 3.0]
    assert result.normalised["density"].tolist() == [
        100.0,
        pytest.approx(200 / 3),
        pytest.approx(200 / 3),
        0.0,
    ]
    with pytest.raises(DataError, match="place 'p', indicator 'density'"):
        compute_index(
            values,
            tree={"density": "index", "green": "index"},
            directions={"density": 0, "green": 1},
            bands=bands.iloc[1:],
        )


def test_previous_year_imputation_reads_history():
    values = pd.DataFrame(
        {"a": [np.nan, 2.0, 3.0, 5.0], "b": [1.0, 2.0, 4.0, 3.0]}, index=list("pqrs")
    )
    history = pd.DataFrame(
        {"a": [9.0, 8.0], "b": [1.0, 1.0]},
        index=pd.MultiIndex.from_tuples([("p", 2022), ("p", 2023)], names=["place", "year"]),
    )
    result = compute_index(
        values,
        tree={"a": "index", "b": "index"},
        directions=[1, 1],
        steps={"impute": "previous_year"},
        history=history,
    )
    assert result.imputed.loc["p", "a"] == 8.0
    assert result.imputations["method"].tolist() == ["previous_year"]


def test_ahp_reports_the_consistency_of_each_parents_sub_matrix(province):
    order = ["D0", "D1", "D2", "D3"]
    pairwise = [[1, 2, 4, 8], [0.5, 1, 2, 4], [0.25, 0.5, 1, 2], [0.125, 0.25, 0.5, 1]]
    result = compute_index(
        province.values,
        tree=province.tree,
        directions=province.directions,
        steps={"weights": {"dimensions": {"method": "ahp", "order": order, "pairwise": pairwise}}},
    )
    assert result.consistency.to_dict() == {"index": pytest.approx(0.0, abs=1e-9)}
    assert result.weights[order].tolist() == pytest.approx([8 / 15, 4 / 15, 2 / 15, 1 / 15])


def test_entropy_above_the_indicators_is_refused(province):
    with pytest.raises(ParameterError, match=r"weights\.dimensions\.method"):
        compute_index(
            province.values,
            tree=province.tree,
            directions=province.directions,
            steps={"weights": {"dimensions": {"method": "product", "of": ["equal", "entropy"]}}},
        )
