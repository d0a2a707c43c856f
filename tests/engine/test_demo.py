"""The synthetic demo generator: deterministic, plausible, and with something to find."""

import numpy as np
import pandas as pd
import pytest

from citycheck.engine.demo import generate_demo


@pytest.fixture
def small_province():
    places = pd.DataFrame(
        [
            ("P", "province", None, "province"),
            ("C1", "city", "P", "prefecture_city"),
            ("C2", "city", "P", "prefecture_city"),
        ]
        + [
            (f"K{i}", "county", "C1" if i < 8 else "C2", "district" if i % 3 == 0 else "county")
            for i in range(16)
        ],
        columns=["code", "level", "parent_code", "unit_type"],
    )
    indicators = pd.DataFrame(
        [
            (
                "green_share",
                "ecology",
                "higher",
                "%",
                "",
                "population_weighted_mean",
                1,
                np.nan,
                np.nan,
            ),
            (
                "park_per_capita",
                "ecology",
                "higher",
                "平方米/人",
                "park_area * 10000 / (population * 10000)",
                "ratio_of_sums",
                2,
                np.nan,
                np.nan,
            ),
            (
                "commute",
                "transport",
                "lower",
                "分钟",
                "",
                "population_weighted_mean",
                1,
                20.0,
                45.0,
            ),
            ("accidents", "transport", "lower", "起", "", "sum", 0, 0.0, 10.0),
        ],
        columns=[
            "code",
            "dimension",
            "direction",
            "unit",
            "formula",
            "rollup",
            "decimals",
            "range_low",
            "range_high",
        ],
    )
    standards = pd.DataFrame(
        [("park_per_capita", "", ">=", 12.0, np.nan)],
        columns=["indicator", "city_class", "comparison", "value", "value_high"],
    )
    figures = pd.DataFrame(
        [("population", "万人", 10.0, 120.0), ("park_area", "公顷", np.nan, np.nan)],
        columns=["code", "unit", "range_low", "range_high"],
    )
    return places, indicators, standards, figures


def test_same_seed_same_data(small_province):
    first = generate_demo(*small_province, range(2021, 2024), random_state=7)
    again = generate_demo(*small_province, range(2021, 2024), random_state=7)
    other = generate_demo(*small_province, range(2021, 2024), random_state=8)
    pd.testing.assert_frame_equal(first.values, again.values)
    assert not first.values["value"].equals(other.values["value"])


def test_every_place_indicator_year_and_source_present(small_province):
    data = generate_demo(*small_province, range(2021, 2024))
    counts = data.values.groupby(["source"]).size()
    assert counts.to_dict() == {"self_check": 19 * 4 * 3, "third_party": 19 * 4 * 3}
    assert data.values["value"].notna().all()


def test_values_respect_units_and_ranges(small_province):
    values = generate_demo(*small_province, range(2021, 2026)).values
    shares = values.loc[values["indicator"] == "green_share", "value"]
    assert shares.between(0, 100).all()
    counts = values.loc[values["indicator"] == "accidents", "value"]
    assert (counts >= 0).all() and (counts == counts.round()).all()


def test_formula_indicators_agree_with_their_base_figures(small_province):
    data = generate_demo(*small_province, range(2021, 2023))
    figures = data.base_figures.pivot_table(
        index=["place", "year"], columns="figure", values="value"
    )
    own = data.values[
        (data.values["source"] == "self_check") & (data.values["indicator"] == "park_per_capita")
    ]
    own = own.set_index(["place", "year"])["value"]
    recomputed = (figures["park_area"] * 10000 / (figures["population"] * 10000)).reindex(own.index)
    np.testing.assert_allclose(own, recomputed, atol=0.006)  # values are rounded to 2 decimals
    # Most places are near the standard of 12, on its good side.
    assert 0.5 < (own >= 12).mean() < 1.0


def test_city_is_the_roll_up_of_its_counties(small_province):
    data = generate_demo(*small_province, [2021])
    own = data.values[
        (data.values["source"] == "self_check") & (data.values["indicator"] == "accidents")
    ]
    by_place = own.set_index("place")["value"]
    assert by_place["C1"] == pytest.approx(sum(by_place[f"K{i}"] for i in range(8)))
    assert by_place["P"] == pytest.approx(by_place["C1"] + by_place["C2"])


def test_planted_weaknesses_show_in_the_data(small_province):
    data = generate_demo(*small_province, range(2021, 2024), random_state=3)
    assert not data.weak_dimensions.empty
    own = data.values[
        (data.values["source"] == "self_check") & (data.values["indicator"] == "green_share")
    ]
    mean_by_place = own.groupby("place")["value"].mean()
    weak = data.weak_dimensions.loc[data.weak_dimensions["dimension"] == "ecology", "place"]
    strong = [p for p in mean_by_place.index if p.startswith("K") and p not in set(weak)]
    if len(weak):
        assert mean_by_place[list(weak)].mean() < mean_by_place[strong].mean()


def test_third_party_mostly_agrees(small_province):
    values = generate_demo(*small_province, range(2021, 2026)).values
    wide = values.pivot_table(
        index=["place", "indicator", "year"], columns="source", values="value"
    )
    differs = (wide["self_check"] - wide["third_party"]).abs() > 1e-9
    assert 0.0 < differs.mean() < 0.15
