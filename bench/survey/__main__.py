"""Survey weighting and scoring: 1,000,000 responses x 40 items, 112 places.

Raking on three margins (sex within place, age band within place, housing tenure
province-wide), trimming at 5x the median, then 0-100 scores with 95 % Taylor intervals
for every place and item. Target: <= 5 s wall on the project machine (2 cores, shared).
Peers on the same margins in the same run: samplics' ``SampleWeight.rake`` per respondent
and ipfn on the aggregated cells (both only for the raking step, on 20,000
respondents, as they are much slower).
"""

import argparse
import contextlib
import io
import warnings

import numpy as np
import pandas as pd

from bench.engine._common import report, timed
from citycheck.engine.survey import design_effect, likert_to_score, rake, scores, trim

PLACES, ITEMS, AGE_BANDS = 112, 40, 5


def make_sample(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    place = rng.integers(0, PLACES, n)
    sex = rng.choice(2, n, p=[0.42, 0.58])
    age = rng.choice(AGE_BANDS, n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    tenure = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    population = rng.uniform(2e5, 2e6, PLACES).round()
    sex_share = rng.uniform(0.48, 0.52, PLACES)
    age_share = rng.dirichlet(np.full(AGE_BANDS, 8.0), PLACES)
    controls = {
        "place_sex": {
            p * 2 + s: population[p] * (sex_share[p] if s == 0 else 1 - sex_share[p])
            for p in range(PLACES)
            for s in range(2)
        },
        "place_age": {
            p * AGE_BANDS + a: population[p] * age_share[p, a]
            for p in range(PLACES)
            for a in range(AGE_BANDS)
        },
        "tenure": dict(zip(range(3), population.sum() * np.array([0.65, 0.28, 0.07]), strict=True)),
    }
    margins = {"place_sex": place * 2 + sex, "place_age": place * AGE_BANDS + age, "tenure": tenure}
    answers = rng.integers(1, 6, size=(n, ITEMS)).astype(float)
    answers[rng.uniform(size=(n, ITEMS)) < 0.05] = np.nan
    return place, margins, controls, answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    n = 50_000 if quick else 1_000_000
    peer_n = 10_000 if quick else 20_000
    place, margins, controls, answers = make_sample(n)
    timings: dict = {}
    with timed(timings, "total"):
        with timed(timings, "rake"):
            raked = rake(np.ones(n), margins, controls)
        with timed(timings, "trim_and_rerake"):
            weights = trim(raked, margins, controls, cap=5.0)
        with timed(timings, "design_effect"):
            deff = design_effect(weights, place)
        with timed(timings, "likert_to_score"):
            values = pd.DataFrame(
                likert_to_score(answers), columns=[f"q{i:02d}" for i in range(ITEMS)]
            )
        with timed(timings, "scores_taylor"):
            result = scores(values, weights, place)
    peer = {}
    _place, p_margins, p_controls, _ = make_sample(peer_n, seed=1)
    with timed(peer, "citycheck_rake"):
        ours = rake(np.ones(peer_n), p_margins, p_controls)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ipfn import ipfn
        from samplics.weighting import SampleWeight

        with timed(peer, "samplics_rake"):
            theirs = SampleWeight().rake(
                samp_weight=np.ones(peer_n),
                margins=p_margins,
                control=p_controls,
                tol=1e-10,
                ctrl_tol=1e-10,
                max_iter=1000,
            )
        cells = (
            pd.DataFrame({**p_margins, "total": 1.0})
            .groupby(list(p_margins), as_index=False)["total"]
            .sum()
        )
        aggregates = [pd.Series(p_controls[v]).rename_axis(v) for v in p_margins]
        with timed(peer, "ipfn_rake_on_cells"), contextlib.redirect_stdout(io.StringIO()):
            ipfn.ipfn(
                cells,
                aggregates,
                [[v] for v in p_margins],
                weight_col="total",
                convergence_rate=1e-10,
                max_iteration=1000,
            ).iteration()
    report(
        {
            "benchmark": "survey rake + trim + Taylor scores",
            "input": f"{n} responses x {ITEMS} items, {PLACES} places, margins place x sex, place x age band, tenure",
            "seconds": timings,
            "target_seconds": 5.0,
            "rows_out": len(result),
            "median_deff": round(float(deff["deff"].median()), 3),
            "peers_raking_only": {
                "respondents": peer_n,
                "seconds": peer,
                "max_rel_diff_samplics": float(np.max(np.abs(ours / theirs - 1))),
            },
        }
    )


if __name__ == "__main__":
    main()
