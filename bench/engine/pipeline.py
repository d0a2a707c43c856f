"""The full engine pipeline at national size.

3,000 places x 70 indicators x 10 years (synthetic, 3 % missing): standards for every
value; the index on the whole panel with three weighting methods (entropy, CRITIC,
expert x entropy); 1,000 Monte Carlo draws over weights, normalisation and aggregation on
the latest year. Target: <= 10 s on 2 cores, peak memory <= 2 GB.

``--national`` runs only the national assessment (the index with entropy weights and the
1,000 Monte Carlo draws; target <= 1.5 s at 3,000 places) and ``--places N`` changes the
number of places (10,000 for the memory target, <= 2 GB peak RSS).
"""

import argparse

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
    arguments = parser.parse_args()
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


if __name__ == "__main__":
    main()
