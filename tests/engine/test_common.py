"""Common checks over every public engine function (as scikit-learn's check_estimator):
a bad parameter raises the standard message, the input is never changed, labels are kept,
and an array in gives an array out."""

import re

import numpy as np
import pandas as pd
import pytest

from citycheck.engine import (
    aggregate,
    coherence,
    impute,
    normalise,
    outliers,
    screening,
    standards,
    weights,
)
from citycheck.engine._validation import ParameterError
from citycheck.engine.index import compute_index
from citycheck.engine.uncertainty import monte_carlo

STANDARD_MESSAGE = re.compile(r"^`[\w., \[\]*]+` must be .+; got .+\.$")
CODES = ["green", "pm25", "transit", "housing"]
DIRECTIONS = [1, -1, 1, 1]
TREE = {
    "green": "env",
    "pm25": "env",
    "transit": "life",
    "housing": "life",
    "env": "index",
    "life": "index",
}
STANDARDS = pd.DataFrame(
    {
        "indicator": CODES,
        "city_class": "",
        "comparison": [">=", "<=", ">=", ">="],
        "value": [40.0, 35, 1, 2],
        "value_high": np.nan,
        "warning_band": 1.0,
        "type": "guiding",
    }
)


def make_values():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        rng.uniform(1, 100, size=(12, 4)),
        columns=CODES,
        index=pd.Index([f"36{i:04d}" for i in range(12)], name="place"),
    )


# (name, call(values, **bad), the bad keyword arguments)
FUNCTIONS = [
    ("impute.impute", lambda v, **kw: impute.impute(v, **kw), {"method": "median"}),
    ("screening.screen", lambda v, **kw: screening.screen(v, **kw), {"min_availability": 1.5}),
    (
        "screening.data_availability",
        lambda v, **kw: screening.data_availability(v, **kw),
        {"axis": "rows"},
    ),
    ("outliers.treat", lambda v, **kw: outliers.treat(v, **kw), {"winmax": 0}),
    (
        "outliers.treatment_details",
        lambda v, **kw: outliers.treatment_details(v, **kw),
        {"method": "clip"},
    ),
    (
        "normalise.minmax",
        lambda v, **kw: normalise.minmax(v, DIRECTIONS, **kw),
        {"low": 5, "high": 1},
    ),
    ("normalise.zscore", lambda v, **kw: normalise.zscore(v, DIRECTIONS, **kw), {"sd": -1}),
    (
        "normalise.normalise",
        lambda v, **kw: normalise.normalise(v, DIRECTIONS, **kw),
        {"method": "log"},
    ),
    ("normalise.rank", lambda v, **kw: normalise.rank(v, **kw), {"directions": [1, 2, 1, 1]}),
    (
        "normalise.percentile_rank",
        lambda v, **kw: normalise.percentile_rank(v, **kw),
        {"directions": [1, 1]},
    ),
    (
        "weights.entropy",
        lambda v, **kw: weights.entropy(v, DIRECTIONS, **kw),
        {"normalisation": "vector"},
    ),
    ("weights.critic", lambda v, **kw: weights.critic(v, **kw), {"directions": "up"}),
    (
        "aggregate.arithmetic",
        lambda v, **kw: aggregate.arithmetic(v, **kw),
        {"weights": [1, -1, 1, 1]},
    ),
    ("aggregate.geometric", lambda v, **kw: aggregate.geometric(v, **kw), {"weights": [1, 1]}),
    (
        "aggregate.topsis",
        lambda v, **kw: aggregate.topsis(v, [1] * 4, DIRECTIONS, **kw),
        {"normalisation": "sum"},
    ),
    (
        "aggregate.obstacle_degree",
        lambda v, **kw: aggregate.obstacle_degree(v / 100, **kw),
        {"weights": [1]},
    ),
    (
        "compute_index",
        lambda v, **kw: compute_index(v, tree=TREE, directions=DIRECTIONS, **kw),
        {"steps": {"impute": "median"}},
    ),
    (
        "monte_carlo",
        lambda v, **kw: monte_carlo(v, tree=TREE, directions=DIRECTIONS, **kw),
        {"draws": 3},
    ),
    (
        "standards.assess_standards",
        lambda v, **kw: standards.assess_standards(v, STANDARDS, **kw),
        {"city_classes": None, "standards": None},
    ),
    (
        "coherence.coherence",
        lambda v, **kw: coherence.coherence(v, v.assign(env=1.0, life=2.0), tree=TREE, **kw),
        {"min_correlation": 2},
    ),
]


@pytest.mark.parametrize(("name", "call", "bad"), FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_bad_parameter_raises_the_standard_message_and_leaves_input_unchanged(name, call, bad):
    values = make_values()
    original = values.copy()
    if name == "standards.assess_standards":
        with pytest.raises(ParameterError, match=STANDARD_MESSAGE):
            standards.assess_standards(values, None)
    else:
        with pytest.raises(ParameterError) as caught:
            call(values, **bad)
        assert STANDARD_MESSAGE.match(str(caught.value)), str(caught.value)
        assert caught.value.parameter in str(caught.value)
    pd.testing.assert_frame_equal(values, original)


FRAME_FUNCTIONS = [
    lambda v: impute.impute(v, method="mean"),
    lambda v: outliers.treat(v),
    lambda v: normalise.minmax(v, DIRECTIONS),
    lambda v: normalise.zscore(v, DIRECTIONS),
    lambda v: normalise.rank(v, DIRECTIONS),
    lambda v: normalise.percentile_rank(v, DIRECTIONS),
    lambda v: normalise.goalposts(v, DIRECTIONS, lower=[0] * 4, upper=[100] * 4),
    lambda v: normalise.distance_to_target(v, DIRECTIONS, targets=[90, 5, 90, 90]),
    lambda v: aggregate.obstacle_degree(v / 100, [1] * 4),
]
PLACE_FUNCTIONS = [
    lambda v: aggregate.arithmetic(v, [1] * 4),
    lambda v: aggregate.geometric(v, [1] * 4),
    lambda v: aggregate.topsis(v, [1] * 4, DIRECTIONS),
    lambda v: screening.data_availability(v),
]
INDICATOR_FUNCTIONS = [
    lambda v: weights.entropy(v, DIRECTIONS),
    lambda v: weights.critic(v, DIRECTIONS),
    lambda v: weights.equal(v),
]


@pytest.mark.parametrize("call", FRAME_FUNCTIONS)
def test_frame_in_frame_out_with_labels_kept_and_array_in_array_out(call):
    values = make_values()
    original = values.copy()
    result = call(values)
    pd.testing.assert_frame_equal(values, original)
    assert result.index.equals(values.index) and result.columns.equals(values.columns)
    from_array = call(values.to_numpy())
    assert isinstance(from_array, np.ndarray)
    np.testing.assert_allclose(from_array, result.to_numpy())


@pytest.mark.parametrize("call", PLACE_FUNCTIONS + INDICATOR_FUNCTIONS)
def test_series_by_place_or_indicator_and_array_for_array(call):
    values = make_values()
    result = call(values)
    assert isinstance(result, pd.Series)
    assert result.index.equals(values.index) or result.index.equals(values.columns)
    assert not result.isna().any()
    from_array = call(values.to_numpy())
    assert isinstance(from_array, np.ndarray)
    np.testing.assert_allclose(from_array, result.to_numpy())
