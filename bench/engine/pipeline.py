"""The full engine pipeline at national size.

3,000 places x 70 indicators x 10 years (synthetic, 3 % missing): standards for every
value; the index on the whole panel with three weighting methods (entropy, CRITIC,
expert x entropy); 1,000 Monte Carlo draws over weights, normalisation and aggregation on
the latest year. Target: <= 10 s on 2 cores, peak memory <= 2 GB.

``--national`` runs only the national assessment (the index with entropy weights and the
1,000 Monte Carlo draws; target <= 1.5 s at 3,000 places) and ``--places N`` changes the
number of places (10,000 for the memory target, <= 2 GB peak RSS). Every part reports the
peak RSS so far at its end; every output is held to the end, as a caller holding them
would (the platform keeps the standards table while it computes the indexes).

``--save FILE`` pickles every output after the figures are taken (a run to compare, not
to measure memory: pickling copies); ``python -m bench.engine.pipeline --compare A B``
says whether two saved runs (e.g. before and after a change) are exactly the same.
"""

import argparse
import dataclasses
import pickle
import sys

import numpy as np
import pandas as pd

from citycheck.engine.index import compute_index
from citycheck.engine.standards import assess_standards
from citycheck.engine.testing import synthetic_values
from citycheck.engine.uncertainty import monte_carlo

from ._common import report, timed

STEPS = {
    "impute": {"method": "group_mean"},
    "screen": {"min_availability": 0.5},
    "treat": {"method": "winsorise_then_log"},
    "normalise": {"method": "minmax", "low": 1, "high": 100},
}
WEIGHTINGS = {
    "entropy": {"method": "entropy"},
    "critic": {"method": "critic"},
    "expert_x_entropy": {"method": "product", "of": ["expert", "entropy"]},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--national", action="store_true", help="index (entropy) and MC only")
    parser.add_argument("--places", type=int, help="number of places (default 3,000)")
    parser.add_argument("--save", help="pickle every output to this file after the run")
    parser.add_argument("--compare", nargs=2, metavar="FILE", help="two --save files")
    arguments = parser.parse_args()
    if arguments.compare:
        sys.exit(compare(*arguments.compare))
    places, indicators, years = (300, 70, 3) if arguments.quick else (3000, 70, 10)
    places = arguments.places or places
    weightings = {"entropy": WEIGHTINGS["entropy"]} if arguments.national else WEIGHTINGS
    case = synthetic_values(places, indicators, n_years=years, missing_share=0.03, random_state=0)
    timings: dict = {}
    assessed = None
    with timed(timings, "total"):
        if not arguments.national:
            with timed(timings, "standards"):
                assessed = assess_standards(case.values, case.standards)
        results = {}
        for name, weighting in weightings.items():
            with timed(timings, f"index_{name}"):
                results[name] = compute_index(
                    case.values,
                    tree=case.tree,
                    directions=case.directions,
                    groups=case.groups,
                    steps={**STEPS, "weights": {"indicators": weighting}},
                )
        latest = results["entropy"].treated.xs(
            case.values.index.get_level_values("year").max(), level="year"
        )
        with timed(timings, "monte_carlo_1000"):
            uncertainty = monte_carlo(
                latest.fillna(latest.mean()),
                tree=case.tree,
                directions=case.directions,
                weights=results["entropy"].weights,
                draws=1000,
                normalisation=["minmax", "percentile_rank"],
                aggregation=["arithmetic", "geometric"],
                random_state=0,
            )
    report(
        {
            "benchmark": "engine pipeline",
            "input": f"{places} places x {indicators} indicators x {years} years",
            "standard_rows": None if assessed is None else len(assessed),
            "monte_carlo_rank_interval_mean_width": round(
                float((uncertainty.summary["rank_q95"] - uncertainty.summary["rank_q05"]).mean()), 1
            ),
            "seconds": timings,
        }
    )
    if arguments.save:
        outputs = {"standards": assessed, "monte_carlo": uncertainty}
        outputs.update({f"index_{name}": result for name, result in results.items()})
        with open(arguments.save, "wb") as out:
            pickle.dump(_plain(outputs), out, protocol=5)


def _plain(value):
    """Results as dicts, lists, frames and arrays (loadable by another checkout's code);
    categorical columns as their texts (a dtype, not a result)."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict | list | tuple):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        plain = {key: _plain(item) for key, item in items}
        return plain if isinstance(value, dict) else list(plain.values())
    if isinstance(value, pd.DataFrame):
        categorical = [c for c, t in value.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
        return value.astype(dict.fromkeys(categorical, str)) if categorical else value
    return value


def compare(first: str, second: str) -> int:
    """0 when the two saved runs hold exactly the same numbers and labels (NaN equal to
    NaN, floats to the last bit), else 1 with the first difference."""
    with open(first, "rb") as one, open(second, "rb") as two:
        left, right = pickle.load(one), pickle.load(two)
    try:
        _same(left, right, "outputs")
    except AssertionError as difference:
        print(f"different: {difference}")
        return 1
    print("identical: " + ", ".join(left))
    return 0


def _same(left, right, where: str) -> None:
    if isinstance(left, dict):
        assert isinstance(right, dict) and left.keys() == right.keys(), where
        for key in left:
            _same(left[key], right[key], f"{where}.{key}")
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right), where
        for n, (one, two) in enumerate(zip(left, right, strict=True)):
            _same(one, two, f"{where}[{n}]")
    elif isinstance(left, pd.DataFrame | pd.Series):
        check = pd.testing.assert_frame_equal
        if isinstance(left, pd.Series):
            check = pd.testing.assert_series_equal
        try:
            check(left, right, check_exact=True)
        except AssertionError as difference:
            raise AssertionError(f"{where}: {difference}") from None
        _same(left.to_numpy(), right.to_numpy(), where)
    elif isinstance(left, np.ndarray):
        assert left.dtype == right.dtype and left.shape == right.shape, where
        if left.dtype.kind in "fiub":  # the same bits (NaN payloads and signed zeros too)
            assert left.tobytes() == right.tobytes(), f"{where}: not the same bits"
    else:
        assert left == right or (left != left and right != right), f"{where}: {left!r} {right!r}"


if __name__ == "__main__":
    main()
