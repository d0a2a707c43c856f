"""Helpers for tests and benchmarks of the index engine: synthetic inputs and the COINr ASEM case.

:func:`synthetic_values` makes a reproducible province of any size; :func:`load_coinr_asem`
reads COINr's ASEM example (inputs and every stage) from a folder of CSV files, so the
pipeline can be checked stage by stage against the reference implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._validation import check_random_state

__all__ = [
    "AsemCase",
    "SyntheticIndexInput",
    "assert_scores_equal",
    "load_coinr_asem",
    "synthetic_values",
]


@dataclass(frozen=True)
class SyntheticIndexInput:
    """Values and the method's inputs of a synthetic province (see :func:`synthetic_values`)."""

    values: pd.DataFrame
    tree: dict
    directions: pd.Series
    groups: pd.Series
    standards: pd.DataFrame


def synthetic_values(
    n_places: int = 100,
    n_indicators: int = 16,
    *,
    n_years: int = 1,
    n_dimensions: int = 8,
    missing_share: float = 0.0,
    random_state=None,
) -> SyntheticIndexInput:
    """A reproducible synthetic province: correlated indicators in dimensions, with outliers.

    Rows are places (``P0000``...) or, with ``n_years > 1``, (place, year) pairs; indicators
    ``I00``... belong to dimensions ``D0``... in turn; every fourth indicator is "lower is
    better". Values are positive and lognormal-ish, so some indicators need outlier treatment.

    Examples
    --------
    >>> case = synthetic_values(5, 4, n_dimensions=2, random_state=0)
    >>> case.values.shape, sorted(set(case.tree.values()))
    ((5, 4), ['D0', 'D1', 'index'])
    """
    rng = check_random_state(random_state)
    places = [f"P{i:04d}" for i in range(n_places)]
    codes = [f"I{j:02d}" for j in range(n_indicators)]
    dimension_of = {code: f"D{j % n_dimensions}" for j, code in enumerate(codes)}
    directions = pd.Series([-1 if j % 4 == 3 else 1 for j in range(n_indicators)], index=codes)
    place_level = rng.normal(size=(n_places, 1))
    dimension_level = rng.normal(size=(n_places, n_dimensions))
    loadings = dimension_level[:, [j % n_dimensions for j in range(n_indicators)]]
    years = np.arange(2016, 2016 + n_years)
    trend = rng.normal(0.02, 0.01, size=(n_places, n_indicators))
    frames = []
    for t, year in enumerate(years):
        latent = (
            0.6 * place_level + 0.6 * loadings + 0.5 * rng.normal(size=(n_places, n_indicators))
        )
        latent = latent + trend * t
        values = np.exp(0.5 * latent * directions.to_numpy()) * (10.0 + np.arange(n_indicators))
        if missing_share:
            values[rng.random(values.shape) < missing_share] = np.nan
        index = (
            pd.Index(places, name="place")
            if n_years == 1
            else pd.MultiIndex.from_product([places, [year]], names=["place", "year"])
        )
        frames.append(pd.DataFrame(values, index=index, columns=codes))
    values = pd.concat(frames).sort_index()
    tree = {**dimension_of, **{f"D{d}": "index" for d in range(n_dimensions)}}
    groups = pd.Series(
        rng.choice(["I", "II", "III"], size=n_places), index=pd.Index(places, name="place")
    )
    standards = pd.DataFrame(
        {
            "indicator": codes,
            "city_class": "",
            "comparison": np.where(directions > 0, ">=", "<="),
            "value": 10.0 + np.arange(n_indicators),
            "value_high": np.nan,
            "warning_band": 0.1 * (10.0 + np.arange(n_indicators)),
            "type": np.where(np.arange(n_indicators) % 5 == 0, "bottom_line", "guiding"),
        }
    )
    return SyntheticIndexInput(values, tree, directions, groups, standards)


@dataclass(frozen=True)
class AsemCase:
    """COINr's ASEM example: inputs, method inputs and every stage COINr produced."""

    raw: pd.DataFrame
    denominators: pd.DataFrame
    denominator_of: pd.Series
    groups: pd.Series
    tree: pd.DataFrame
    directions: pd.Series
    stages: dict
    results: pd.DataFrame

    def denominate(self) -> pd.DataFrame:
        """Raw values divided by each indicator's denominator (COINr ``Denominate``)."""
        result = self.raw.copy()
        for code, denominator in self.denominator_of.items():
            result[code] = self.raw[code] / self.denominators[denominator]
        return result


def load_coinr_asem(folder: str | Path) -> AsemCase:
    """Read COINr's ASEM example from ``folder`` (``ASEM_iData.csv``, ``ASEM_iMeta.csv``, stages)."""
    folder = Path(folder)
    data = pd.read_csv(folder / "ASEM_iData.csv").set_index("uCode")
    meta = pd.read_csv(folder / "ASEM_iMeta.csv")
    indicators = meta[meta["Type"] == "Indicator"]
    nodes = meta[meta["Type"].isin(["Indicator", "Aggregate"])]
    codes = list(indicators["iCode"])
    stages = {
        name: pd.read_csv(folder / f"ASEM_{name}.csv").set_index("uCode")
        for name in (
            "Raw",
            "Denominated",
            "Imputed",
            "Screened",
            "Treated",
            "Normalised",
            "Aggregated",
        )
    }
    return AsemCase(
        raw=data[codes],
        denominators=data[list(meta.loc[meta["Type"] == "Denominator", "iCode"])],
        denominator_of=indicators.dropna(subset=["Denominator"]).set_index("iCode")["Denominator"],
        groups=data["EurAsia_group"],
        tree=nodes.rename(columns={"iCode": "code", "Parent": "parent", "Weight": "weight"})[
            ["code", "parent", "weight"]
        ],
        directions=indicators.set_index("iCode")["Direction"].astype(int),
        stages=stages,
        results=pd.read_csv(folder / "ASEM_results_full.csv").set_index("uCode"),
    )


def assert_scores_equal(actual, expected, *, atol: float = 1e-6, label: str = "scores") -> None:
    """Assert two frames (or Series) of scores match on common labels within ``atol``.

    The message names the worst place and indicator.
    """
    actual_frame = actual.to_frame() if isinstance(actual, pd.Series) else actual
    expected_frame = expected.to_frame() if isinstance(expected, pd.Series) else expected
    expected_frame = expected_frame.loc[actual_frame.index, actual_frame.columns]
    difference = (actual_frame.astype(float) - expected_frame.astype(float)).abs()
    both_missing = actual_frame.isna() & expected_frame.isna()
    difference = difference.mask(both_missing, 0.0).fillna(np.inf)
    worst = difference.stack().idxmax()
    if difference.to_numpy().max() > atol:
        raise AssertionError(
            f"{label} differ by {difference.loc[worst]:.3g} > {atol:g} at place {worst[0]!r}, "
            f"indicator {worst[1]!r}: {actual_frame.loc[worst]!r} != {expected_frame.loc[worst]!r}"
        )
