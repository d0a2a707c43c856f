"""The vectorised, in-place standards and the chunked Monte Carlo summaries give what the
plain definitions give.

``assess_standards`` fills shortfall and margin in place by comparison and takes
comparison and type as codes from the table; here every row is compared with the
formulas of the module docstring written for one value at a time. The Monte Carlo's
summaries (quantiles, mean rank shift) and the obstacle degrees are computed by chunks or
in place to bound memory; the results must not depend on the chunk size.
"""

import math

import numpy as np
import pandas as pd
import pytest

from citycheck.engine import aggregate, uncertainty
from citycheck.engine.standards import assess_standards
from citycheck.engine.testing import synthetic_values


def row_by_row(value, comparison, target, high, band, kind):
    """Meets, shortfall, margin, colour and bottom-line failure of one value."""
    if math.isnan(value):
        return False, math.nan, math.nan, "missing", False
    if comparison == ">=":
        shortfall, margin = max(target - value, 0.0), value - target
    elif comparison == "<=":
        shortfall, margin = max(value - target, 0.0), target - value
    else:
        shortfall = max(target - value, 0.0) + max(value - high, 0.0)
        margin = -shortfall if shortfall > 0 else min(value - target, high - value)
    meets = shortfall <= 0
    band = 0.0 if math.isnan(band) else band
    colour = "green" if meets else ("yellow" if shortfall <= band else "red")
    return meets, shortfall, margin, colour, kind == "bottom_line" and not meets


@pytest.fixture
def classed_case():
    case = synthetic_values(60, 8, n_years=2, missing_share=0.1, random_state=7)
    values = case.values.copy()
    values.iloc[::5, 1] = 11.0  # exactly at the target of I01 (a zero margin)
    places = values.index.get_level_values("place").unique()
    classes = pd.Series(np.resize(["I", "II", "III"], len(places)), index=places)
    table = case.standards[case.standards["indicator"] != "I05"].copy()  # I05: no standard
    table.loc[table["indicator"] == "I02", ["comparison", "value", "value_high"]] = [
        "between",
        11.0,
        13.5,
    ]
    table.loc[table["indicator"] == "I04", "warning_band"] = np.nan
    per_class = pd.DataFrame(
        {
            "indicator": ["I01", "I02", "I06"],
            "city_class": ["II", "III", "I"],
            "comparison": ["<=", "between", ">="],
            "value": [12.0, 9.0, 15.0],
            "value_high": [np.nan, 12.0, np.nan],
            "warning_band": [0.5, np.nan, 2.0],
            "type": ["bottom_line", "guiding", "bottom_line"],
        }
    )
    return values, pd.concat([table, per_class], ignore_index=True), classes


def test_every_row_follows_its_standard(classed_case):
    values, table, classes = classed_case
    result = assess_standards(values, table, classes)

    standard = table.set_index(["indicator", "city_class"])
    expected_rows = 0
    for place, _year in values.index:
        for indicator in values.columns:
            key = (indicator, classes[place])
            if key not in standard.index:
                key = (indicator, "")
            expected_rows += key in standard.index
    assert len(result) == expected_rows
    assert "I05" not in set(result["indicator"])
    assert {"between", "<=", ">="} <= set(result["comparison"])
    for row in result.itertuples(index=False):
        key = (row.indicator, row.city_class)
        chosen = standard.loc[key if key in standard.index else (row.indicator, "")]
        assert (row.target, row.type) == (chosen["value"], chosen["type"])
        assert row.value == values.loc[(row.place, row.year), row.indicator] or (
            math.isnan(row.value)
        )
        meets, shortfall, margin, colour, failed = row_by_row(
            row.value,
            row.comparison,
            row.target,
            row.target_high,
            row.warning_band,
            row.type,
        )
        assert (row.meets, row.colour, row.bottom_line_failed) == (meets, colour, failed)
        for got, want in ((row.shortfall, shortfall), (row.margin, margin)):
            assert got == want or (math.isnan(got) and math.isnan(want))
    # The repeated labels are categoricals holding the table's texts.
    for column in ("city_class", "type", "colour"):
        assert isinstance(result[column].dtype, pd.CategoricalDtype)
    assert set(result["type"].astype(str)) == {"guiding", "bottom_line"}
    assert set(result["city_class"].astype(str)) == {"I", "II", "III"}


def test_monte_carlo_summaries_do_not_depend_on_the_chunk(monkeypatch):
    case = synthetic_values(90, 16, n_dimensions=4, missing_share=0.05, random_state=3)
    arguments = dict(
        tree=case.tree,
        directions=case.directions,
        draws=50,
        normalisation=["minmax", "percentile_rank"],
        aggregation=["arithmetic", "geometric"],
        random_state=5,
    )
    whole = uncertainty.monte_carlo(case.values, **arguments)
    monkeypatch.setattr(uncertainty, "CHUNK_CELLS", 7 * 90 + 13)  # 7 draws, 14 places a chunk
    chunked = uncertainty.monte_carlo(case.values, **arguments)
    pd.testing.assert_frame_equal(chunked.summary, whole.summary, check_exact=True)
    pd.testing.assert_frame_equal(chunked.draws, whole.draws, check_exact=True)
    np.testing.assert_array_equal(chunked.ranks, whole.ranks)
    # the summaries are those of the whole (places x draws) ranks
    shift = np.abs(whole.ranks - whole.summary["nominal_rank"].to_numpy()[:, None]).mean(axis=0)
    np.testing.assert_array_equal(whole.draws["mean_rank_shift"].to_numpy(), shift)
    q05, q95 = np.quantile(whole.ranks, [0.05, 0.95], axis=1)
    np.testing.assert_array_equal(whole.summary["rank_q05"].to_numpy(), q05)
    np.testing.assert_array_equal(whole.summary["rank_q95"].to_numpy(), q95)


def test_obstacle_degrees_of_a_place_without_shortfall_are_zero():
    normalised = pd.DataFrame(
        {"a": [1.0, 0.2, 0.5], "b": [1.0, 0.6, 1.0]}, index=["best", "weak", "half"]
    )
    degrees = aggregate.obstacle_degree(normalised, [0.25, 0.75])
    assert degrees.loc["best"].tolist() == [0.0, 0.0]
    expected_weak = np.array([0.25 * 0.8, 0.75 * 0.4]) / (0.25 * 0.8 + 0.75 * 0.4)
    np.testing.assert_allclose(degrees.loc["weak"], expected_weak, rtol=1e-15)
    assert degrees.loc["half"].tolist() == [1.0, 0.0]
    assert normalised.loc["weak"].tolist() == [0.2, 0.6]  # the input untouched
