"""City class (城市规模等级) from the urban resident population.

The State Council notice on adjusting the city size standard (国务院关于调整城市规模划分
标准的通知, 国发〔2014〕51号) sorts cities by urban resident population (城区常住人口)
into seven classes. Its own note reads "以上包括本数，以下不包括本数": every lower bound
is inclusive and every upper bound exclusive, so a city of exactly 1 million (100 万) is a
Ⅱ型大城市, not a 中等城市.

=================  ===========  ======================
code               name         urban population (万人)
=================  ===========  ======================
``small_2``        Ⅱ型小城市    [0, 20)
``small_1``        Ⅰ型小城市    [20, 50)
``medium``         中等城市      [50, 100)
``large_2``        Ⅱ型大城市    [100, 300)
``large_1``        Ⅰ型大城市    [300, 500)
``mega``           特大城市      [500, 1000)
``super_mega``     超大城市      [1000, ∞)
=================  ===========  ======================

The codes are the values of ``citycheck.places.models.CityClass``; they are written here
again because the engine never imports Django (a test checks that both agree).
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

__all__ = ["CITY_CLASSES", "LOWER_BOUNDS_10K", "classify"]

#: City class codes from the smallest to the largest class.
CITY_CLASSES: tuple[str, ...] = (
    "small_2",
    "small_1",
    "medium",
    "large_2",
    "large_1",
    "mega",
    "super_mega",
)

#: Inclusive lower bound of each class above the smallest, in 万人 (10,000 people).
LOWER_BOUNDS_10K: tuple[float, ...] = (20.0, 50.0, 100.0, 300.0, 500.0, 1000.0)


def classify(urban_population_10k):
    """City class of each place from its urban resident population.

    A place with population p (万人) falls in class k when
    ``LOWER_BOUNDS_10K[k-1] <= p < LOWER_BOUNDS_10K[k]`` (国发〔2014〕51号: lower bounds
    inclusive, upper bounds exclusive).

    Parameters
    ----------
    urban_population_10k : float, array-like or Series
        Urban resident population (城区常住人口) in 万人, i.e. units of 10,000 people.
        Missing values (NaN) give a missing class.

    Returns
    -------
    str, ndarray or Series
        City class codes from :data:`CITY_CLASSES`: a string for a scalar, an object array
        for array-like input (None where missing), a Series with the same index for a
        Series (None where missing).

    Raises
    ------
    ValueError
        If a population is negative or infinite.

    Examples
    --------
    >>> classify(100.0)
    'large_2'
    >>> classify([19.99, 20.0, 50.0, 1000.0]).tolist()
    ['small_2', 'small_1', 'medium', 'super_mega']
    >>> classify(pd.Series({"360100": 520.0, "360124": float("nan")})).to_dict()
    {'360100': 'mega', '360124': None}
    """
    if isinstance(urban_population_10k, Real):
        return _classify_array(np.array([urban_population_10k], dtype=float))[0]
    if isinstance(urban_population_10k, pd.Series):
        codes = _classify_array(urban_population_10k.to_numpy(dtype=float))
        return pd.Series(codes, index=urban_population_10k.index, name="city_class", dtype=object)
    return _classify_array(np.asarray(urban_population_10k, dtype=float))


def _classify_array(population: np.ndarray) -> np.ndarray:
    missing = np.isnan(population)
    bad = ~missing & ((population < 0) | np.isinf(population))
    if bad.any():
        raise ValueError(
            "urban_population_10k must be finite and >= 0 (万人); got "
            f"{population[bad][:5].tolist()}"
        )
    # side="right": a population equal to a bound belongs to the class above it.
    class_index = np.searchsorted(LOWER_BOUNDS_10K, np.where(missing, 0.0, population), "right")
    codes = np.asarray(CITY_CLASSES, dtype=object)[class_index]
    codes[missing] = None
    return codes
