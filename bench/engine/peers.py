"""Entropy weights + TOPSIS on 3,000 places x 70 indicators: citycheck, pymcdm, scikit-criteria.

The same matrix, directions and convention for each library, each library doing its own
normalisation as a user of it would (pymcdm: entropy of raw shares and TOPSIS with its
vector normalisation; scikit-criteria: entropy of the min-max matrix — the scikit-learn
``MinMaxScaler`` that scikit-criteria's ``MinMaxScaler`` runs, on the matrix with the
"lower is better" columns negated — and TOPSIS on its ``scale_by_vector`` matrix), best
of 5 runs each. Target: citycheck at least 2x faster than either.
"""

import argparse

import numpy as np
from pymcdm.methods import TOPSIS
from pymcdm.normalizations import vector_normalization
from pymcdm.weights import entropy_weights as pymcdm_entropy
from skcriteria.agg.topsis import topsis as skc_topsis
from skcriteria.preprocessing.scalers import scale_by_vector
from skcriteria.preprocessing.weighters import entropy_weights as skc_entropy
from sklearn.preprocessing import MinMaxScaler

from citycheck.engine import aggregate, weights

from ._common import best_of, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    places, indicators = (300, 70) if parser.parse_args().quick else (3000, 70)
    rng = np.random.default_rng(0)
    matrix = rng.lognormal(2.0, 0.6, size=(places, indicators))
    directions = np.where(np.arange(indicators) % 4 == 3, -1, 1)

    def citycheck_run():
        shares = weights.entropy(matrix, directions)
        return aggregate.topsis(matrix, shares, directions, normalisation="vector")

    def pymcdm_run():
        shares = pymcdm_entropy(matrix)
        return TOPSIS(vector_normalization)(matrix, shares, directions)

    def skcriteria_run():
        shares = skc_entropy(MinMaxScaler().fit_transform(matrix * directions))
        return skc_topsis(scale_by_vector(matrix, axis=0), directions, shares)[3]

    # scikit-criteria run with citycheck's convention gives the same closeness
    np.testing.assert_allclose(skcriteria_run(), citycheck_run(), rtol=1e-9)
    seconds = {
        "citycheck": best_of(5, citycheck_run),
        "pymcdm": best_of(5, pymcdm_run),
        "scikit_criteria": best_of(5, skcriteria_run),
    }
    report(
        {
            "benchmark": "entropy weights + TOPSIS",
            "input": f"{places} places x {indicators} indicators",
            "cpu_seconds_best_of_5": {k: round(v, 4) for k, v in seconds.items()},
            "ratio_peer_to_citycheck": {
                k: round(v / seconds["citycheck"], 2)
                for k, v in seconds.items()
                if k != "citycheck"
            },
        }
    )


if __name__ == "__main__":
    main()
