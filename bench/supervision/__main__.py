"""Supervision arithmetic at national size: target status of 3,000 places x 5 targets over
10 years of observations, and the annual assessment of 3,000 places x 12 criteria.

Peers in the same run: the same trend per target with scipy.stats.linregress and with
numpy.polyfit in a loop (what a per-target implementation does; the first version of
``target_status`` was the polyfit loop). Best process CPU time of 3 runs each, with the
largest difference in projections between citycheck and scipy.
"""

import argparse

import numpy as np
import pandas as pd
from scipy import stats

from bench.engine._common import best_of, report
from citycheck.engine.appraisal import score_appraisal, target_status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    places = 300 if parser.parse_args().quick else 3000
    rng = np.random.default_rng(0)
    years = np.arange(2015, 2025)
    indicators = [f"i{k}" for k in range(5)]
    index = pd.MultiIndex.from_product(
        [range(places), indicators, years], names=["place", "indicator", "year"]
    )
    obs = index.to_frame(index=False)
    obs["value"] = 50 + 0.8 * (obs["year"] - 2015) + rng.normal(0, 3, len(obs))
    obs = obs.sample(frac=0.9, random_state=0)  # some years missing
    targets = (
        obs[["place", "indicator"]]
        .drop_duplicates()
        .assign(year=2027, target=62.0, comparison=">=")
    )
    groups = {key: frame for key, frame in obs.groupby(["place", "indicator"])}

    def scipy_loop():
        out = []
        for row in targets.itertuples():
            mine = groups[(row.place, row.indicator)]
            fit = stats.linregress(mine["year"], mine["value"])
            out.append(fit.intercept + fit.slope * row.year)
        return np.array(out)

    def polyfit_loop():
        out = []
        for row in targets.itertuples():
            mine = groups[(row.place, row.indicator)]
            slope, intercept = np.polyfit(mine["year"], mine["value"], 1)
            out.append(slope * row.year + intercept)
        return np.array(out)

    seconds = {
        "citycheck": best_of(3, lambda: target_status(obs, targets)),
        "scipy_linregress_loop": best_of(3, scipy_loop),
        "numpy_polyfit_loop": best_of(3, polyfit_loop),
    }
    difference = float(
        np.max(np.abs(target_status(obs, targets)["projection"].to_numpy() - scipy_loop()))
    )

    criteria = pd.DataFrame(
        {
            "criterion": [f"c{k}" for k in range(12)],
            "kind": ["computed"] * 9 + ["manual", "bonus", "penalty"],
            "weight": [10.0] * 9 + [10.0, 5.0, 10.0],
        }
    )
    measures = pd.DataFrame(
        [
            {"place": p, "criterion": c, "measure": rng.uniform(0.3, 1.0)}
            if k < 9
            else {"place": p, "criterion": c, "points": float(rng.integers(0, 6))}
            for p in range(places)
            for k, c in enumerate(criteria["criterion"])
        ]
    )
    score_seconds = best_of(3, lambda: score_appraisal(measures, criteria))
    report(
        {
            "benchmark": "supervision: target status and assessment scores",
            "input": f"{len(targets)} targets over {len(obs)} observations; {places} places x 12 criteria",
            "target_status_cpu_seconds_best_of_3": {k: round(v, 4) for k, v in seconds.items()},
            "ratio_peer_to_citycheck": {
                k: round(v / seconds["citycheck"], 1)
                for k, v in seconds.items()
                if k != "citycheck"
            },
            "max_projection_difference_vs_scipy": difference,
            "score_appraisal_cpu_seconds_best_of_3": round(score_seconds, 4),
        }
    )


if __name__ == "__main__":
    main()
