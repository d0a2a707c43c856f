"""citycheck.engine.monitoring: forecasts cross-checked against scipy and statsmodels, and
each kind of rule on a small frame whose answer is known."""

import doctest

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from citycheck.engine import monitoring
from citycheck.engine._validation import ParameterError
from citycheck.engine.monitoring import evaluate_rules, forecast, holt, theil_sen


def test_doctests():
    assert doctest.testmod(monitoring).failed == 0


@pytest.mark.parametrize("alpha", [0.9, 0.95])
def test_theil_sen_matches_scipy_row_by_row_with_ties(alpha):
    rng = np.random.default_rng(7)
    values = np.round(rng.normal(size=(40, 18)).cumsum(axis=1), 0)  # rounding makes ties
    ours = theil_sen(values, alpha=alpha)
    for row, series in enumerate(values):
        theirs = stats.theilslopes(series, np.arange(18), alpha=alpha)
        assert ours.iloc[row].tolist() == pytest.approx(
            [theirs.slope, theirs.intercept, theirs.low_slope, theirs.high_slope]
        )


@pytest.mark.parametrize(("level", "trend", "coverage"), [(0.5, 0.1, 0.9), (0.3, 0.05, 0.8)])
def test_holt_matches_statsmodels_ets_forecast_and_prediction_interval(level, trend, coverage):
    rng = np.random.default_rng(3)
    values = rng.normal(size=(5, 30)).cumsum(axis=1) + np.linspace(0, 6, 30)
    ours = holt(values, horizon=6, smoothing_level=level, smoothing_trend=trend, coverage=coverage)
    for row, series in enumerate(values):
        y = pd.Series(series)
        model = ETSModel(
            y,
            error="add",
            trend="add",
            initialization_method="known",
            initial_level=y[0],
            initial_trend=y[1] - y[0],
        )
        with model.fix_params({"smoothing_level": level, "smoothing_trend": trend}):
            fitted = model.fit(disp=False)
        frame = fitted.get_prediction(start=30, end=35).summary_frame(alpha=1 - coverage)
        assert ours["forecast"][row] == pytest.approx(frame["mean"].to_numpy())
        assert ours["lower"][row] == pytest.approx(frame["pi_lower"].to_numpy())
        assert ours["upper"][row] == pytest.approx(frame["pi_upper"].to_numpy())


def test_theil_sen_forecast_extends_scipys_line():
    series = np.array([3.0, 3.4, 3.1, 3.9, 4.2, 4.0, 4.8, 5.1])
    result = forecast(series, horizon=3, coverage=0.9)
    fit = stats.theilslopes(series, np.arange(8), alpha=0.9)
    x = np.arange(8, 11)
    assert result["forecast"][0] == pytest.approx(fit.intercept + fit.slope * x)
    assert (result["lower"] <= result["forecast"]).all()
    assert (result["forecast"] <= result["upper"]).all()


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ParameterError, match="method"):
        forecast([[1.0, 2.0]], horizon=1, method="arima")
    with pytest.raises(ParameterError, match="horizon"):
        holt([[1.0, 2.0]], horizon=0)
    with pytest.raises(ParameterError, match="kind"):
        evaluate_rules(_obs({("a", "x"): [1.0]}), pd.DataFrame({"code": ["r"], "kind": ["magic"]}))


def _obs(series: dict, start: int = 100) -> pd.DataFrame:
    rows = [
        (place, indicator, start + offset, value)
        for (place, indicator), values in series.items()
        for offset, value in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["place", "indicator", "period", "value"])


def test_threshold_per_city_class_uses_the_own_class_before_the_generic_row():
    observations = _obs({("big", "aqi"): [1.0, 90.0], ("small", "aqi"): [1.0, 90.0]})
    rules = pd.DataFrame(
        {
            "code": ["aqi_high", "aqi_high"],
            "kind": ["threshold", "threshold"],
            "indicator": ["aqi", "aqi"],
            "city_class": ["", "large_1"],
            "threshold": [80.0, 100.0],
            "level": ["red", "red"],
            "department": ["ecology_environment"] * 2,
        }
    )
    found = evaluate_rules(observations, rules, city_classes={"big": "large_1"})
    assert found[["place", "period", "value", "reference"]].values.tolist() == [
        ["small", 101, 90.0, 80.0]
    ]


def test_band_below_and_above():
    observations = _obs({("a", "x"): [5.0], ("b", "x"): [1.0], ("c", "x"): [9.0]})
    rules = pd.DataFrame({"code": ["x_band"], "kind": ["band"], "indicator": ["x"]}).assign(
        low=2.0, high=8.0
    )
    found = evaluate_rules(observations, rules)
    assert found[["place", "reference"]].values.tolist() == [["b", 2.0], ["c", 8.0]]


def test_change_against_the_same_period_last_year():
    rising = [10.0] * 12 + [10.0] * 11 + [13.0]  # +30 % on last year's month
    steady = [10.0] * 24
    observations = _obs({("a", "calls"): rising, ("b", "calls"): steady})
    rules = pd.DataFrame(
        {"code": ["calls_up"], "kind": ["yoy"], "indicator": ["calls"], "threshold": [0.2]}
    )
    found = evaluate_rules(observations, rules)
    assert found["place"].tolist() == ["a"]
    assert found.loc[0, "reference"] == 10.0
    assert found.loc[0, "forecast"] == pytest.approx(0.3)


def test_forecast_warns_before_the_threshold_is_crossed_and_not_after():
    drifting = list(np.linspace(50, 75, 24))  # +1.09 a month, 80 is crossed in 5 months
    crossed = list(np.linspace(60, 90, 24))  # already above: the threshold rule's business
    flat = [50.0] * 24
    observations = _obs({("d", "q"): drifting, ("c", "q"): crossed, ("f", "q"): flat})
    rules = pd.DataFrame(
        {
            "code": ["q_trend"],
            "kind": ["forecast"],
            "indicator": ["q"],
            "threshold": [80.0],
            "window": [12],
            "horizon": [6],
        }
    )
    found = evaluate_rules(observations, rules)
    assert found["place"].tolist() == ["d"]
    fit = stats.theilslopes(drifting[-12:], np.arange(12), alpha=0.9)
    steps = int(found.loc[0, "periods_ahead"])
    assert found.loc[0, "forecast"] == pytest.approx(fit.intercept + fit.slope * (11 + steps))
    assert fit.intercept + fit.slope * (11 + steps - 1) <= 80 < found.loc[0, "forecast"]
    assert found.loc[0, "lower"] <= found.loc[0, "forecast"] <= found.loc[0, "upper"]


def test_all_of_fires_only_where_every_component_fired():
    observations = _obs(
        {("a", "x"): [9.0], ("a", "y"): [9.0], ("b", "x"): [9.0], ("b", "y"): [1.0]}
    )
    rules = pd.DataFrame(
        {
            "code": ["x_high", "y_high", "both"],
            "kind": ["threshold", "threshold", "all_of"],
            "indicator": ["x", "y", ""],
            "threshold": [5.0, 5.0, np.nan],
            "components": [(), (), ("x_high", "y_high")],
            "level": ["yellow", "yellow", "red"],
        }
    )
    found = evaluate_rules(observations, rules)
    both = found.loc[found["rule"] == "both"]
    assert both[["place", "level", "indicator"]].values.tolist() == [["a", "red", "x"]]


def test_input_frames_are_not_changed():
    observations = _obs({("a", "x"): [1.0, 9.0]})
    rules = pd.DataFrame({"code": ["r"], "kind": ["threshold"], "indicator": ["x"]}).assign(
        threshold=5.0
    )
    before = (observations.copy(), rules.copy())
    evaluate_rules(observations, rules)
    pd.testing.assert_frame_equal(observations, before[0])
    pd.testing.assert_frame_equal(rules, before[1])


def test_options_given_for_some_rules_default_for_the_others():
    """A rule frame where only the Holt rule names a method: the Theil–Sen rule (method
    left empty) must still be evaluated with its defaults."""
    drifting = list(np.linspace(50, 75, 24))
    observations = _obs({("d", "q"): drifting, ("d", "r"): drifting})
    rules = pd.DataFrame(
        {
            "code": ["q_trend", "r_holt"],
            "kind": ["forecast", "forecast"],
            "indicator": ["q", "r"],
            "threshold": [80.0, 80.0],
            "method": [None, "holt"],
            "window": [12, None],
        }
    )
    assert sorted(evaluate_rules(observations, rules)["rule"]) == ["q_trend", "r_holt"]
