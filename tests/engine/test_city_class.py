"""City class thresholds of 国发〔2014〕51号: lower bounds inclusive, upper exclusive."""

import numpy as np
import pandas as pd
import pytest

from citycheck.engine.city_class import CITY_CLASSES, classify


@pytest.mark.parametrize(
    ("population_10k", "expected"),
    [
        (0.0, "small_2"),
        (19.999, "small_2"),
        (20.0, "small_1"),
        (49.999, "small_1"),
        (50.0, "medium"),
        (99.999, "medium"),
        (100.0, "large_2"),
        (299.999, "large_2"),
        (300.0, "large_1"),
        (499.999, "large_1"),
        (500.0, "mega"),
        (999.999, "mega"),
        (1000.0, "super_mega"),
        (3000.0, "super_mega"),
    ],
)
def test_thresholds_at_the_bounds(population_10k, expected):
    assert classify(population_10k) == expected


def test_classes_are_ordered_smallest_first():
    populations = [10, 30, 70, 200, 400, 700, 2000]
    assert classify(populations).tolist() == list(CITY_CLASSES)


def test_series_keeps_index_and_input_and_marks_missing():
    populations = pd.Series({"360100": 520.0, "360124": np.nan, "360281": 35.0})
    before = populations.copy()
    classes = classify(populations)
    pd.testing.assert_series_equal(populations, before)
    assert classes.index.tolist() == ["360100", "360124", "360281"]
    assert classes.tolist() == ["mega", None, "small_1"]


def test_array_in_array_out():
    classes = classify(np.array([[10.0], [150.0]]).ravel())
    assert isinstance(classes, np.ndarray)
    assert classes.tolist() == ["small_2", "large_2"]


@pytest.mark.parametrize("bad", [-1.0, np.inf])
def test_negative_or_infinite_population_is_refused_naming_the_parameter(bad):
    with pytest.raises(ValueError, match="urban_population_10k"):
        classify([10.0, bad])
