"""Our entropy, CRITIC and TOPSIS against pymcdm and scikit-criteria on random matrices.

Conventions where the libraries differ (docs/engine/index.md):

* entropy: we min-max normalise and take 0 ln 0 = 0, which is scikit-criteria's
  ``entropy_weights`` (``scipy.stats.entropy``) on the min-max normalised matrix. pymcdm
  takes shares of the raw values and gives any column containing a zero an entropy of 0;
  our ``normalisation="sum"`` equals pymcdm on strictly positive data.
* TOPSIS: ``normalisation="vector"`` equals scikit-criteria (vector-scaled matrix) and
  pymcdm ``TOPSIS(vector_normalization)``; ``"minmax"`` equals pymcdm's default ``TOPSIS()``.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pymcdm.methods import TOPSIS
from pymcdm.normalizations import vector_normalization
from pymcdm.weights import critic_weights as pymcdm_critic
from pymcdm.weights import entropy_weights as pymcdm_entropy
from skcriteria.agg.topsis import topsis as skc_topsis
from skcriteria.preprocessing.weighters import critic_weights as skc_critic
from skcriteria.preprocessing.weighters import entropy_weights as skc_entropy

from citycheck.engine import aggregate, weights
from citycheck.engine.index import compute_index
from citycheck.engine.normalise import minmax


@st.composite
def decision_problems(draw, min_value=0.5):
    """A well-spread positive matrix (rows = places), directions and weights."""
    n_places = draw(st.integers(4, 12))
    n_indicators = draw(st.integers(2, 6))
    matrix = draw(
        arrays(
            float,
            (n_places, n_indicators),
            elements=st.floats(min_value, 100.0, allow_nan=False, allow_infinity=False),
        )
    )
    spread = matrix.max(axis=0) - matrix.min(axis=0)
    # keep every column clearly non-constant (a constant column is an error by design)
    matrix = matrix + np.outer(np.arange(n_places) % 2, np.where(spread < 1.0, 1.0, 0.0))
    directions = np.array(
        draw(st.lists(st.sampled_from([1, -1]), min_size=n_indicators, max_size=n_indicators))
    )
    raw_weights = np.array(
        draw(st.lists(st.floats(0.1, 1.0), min_size=n_indicators, max_size=n_indicators))
    )
    return matrix, directions, raw_weights / raw_weights.sum()


@settings(max_examples=25, deadline=None)
@given(decision_problems())
def test_entropy_matches_scikit_criteria_on_minmax_data_zeros_included(problem):
    matrix, directions, _ = problem
    ours = weights.entropy(matrix, directions)
    scaled = minmax(matrix, directions, low=0.0, high=1.0)  # every column has a 0
    np.testing.assert_allclose(ours, skc_entropy(scaled), atol=1e-10)
    assert ours.sum() == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(decision_problems())
def test_entropy_on_shares_matches_pymcdm_on_positive_data(problem):
    matrix, directions, _ = problem
    ours = weights.entropy(matrix, directions, normalisation="sum")
    np.testing.assert_allclose(ours, pymcdm_entropy(matrix), atol=1e-10)


def test_entropy_zero_convention_differs_from_pymcdm():
    scaled = np.array([[0.0, 0.2], [0.5, 0.5], [1.0, 1.0]])
    ours = weights.entropy(scaled, [1, 1], normalisation="sum")
    # pymcdm 1.4 refuses zeros (older versions gave such a column entropy 0); 0 ln 0 = 0 here
    with pytest.raises(ValueError, match="positive"):
        pymcdm_entropy(scaled)
    np.testing.assert_allclose(ours, skc_entropy(scaled), atol=1e-12)
    assert ours[0] > ours[1]  # the column with the zero is the less even one


@settings(max_examples=25, deadline=None)
@given(decision_problems())
def test_critic_matches_pymcdm_and_scikit_criteria(problem):
    matrix, directions, _ = problem
    correlations = np.corrcoef(matrix, rowvar=False)
    assume(not np.allclose(np.abs(correlations), 1.0))
    ours = weights.critic(matrix, directions)
    oriented = matrix * directions  # pymcdm ignores directions: give it the oriented matrix
    np.testing.assert_allclose(ours, pymcdm_critic(oriented), atol=1e-9)
    np.testing.assert_allclose(ours, skc_critic(matrix, directions), atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(decision_problems())
def test_topsis_vector_matches_pymcdm_and_scikit_criteria(problem):
    matrix, directions, shares = problem
    ours = aggregate.topsis(matrix, shares, directions, normalisation="vector")
    vector_scaled = matrix / np.sqrt((matrix**2).sum(axis=0))
    similarity = skc_topsis(vector_scaled, directions, shares)[3]
    np.testing.assert_allclose(ours, similarity, atol=1e-10)
    np.testing.assert_allclose(
        ours, TOPSIS(vector_normalization)(matrix, shares, directions), atol=1e-10
    )


@settings(max_examples=25, deadline=None)
@given(decision_problems())
def test_topsis_minmax_matches_pymcdm_default(problem):
    matrix, directions, shares = problem
    ours = aggregate.topsis(matrix, shares, directions, normalisation="minmax")
    np.testing.assert_allclose(ours, TOPSIS()(matrix, shares, directions), atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(decision_problems())
def test_composite_index_weighs_and_aggregates_as_the_libraries(problem):
    matrix, directions, shares = problem
    codes = [f"i{j}" for j in range(matrix.shape[1])]
    values = pd.DataFrame(matrix, columns=codes)
    tree = {**dict.fromkeys(codes, "d"), "d": "index"}
    signs = dict(zip(codes, directions.tolist(), strict=True))
    entropy = compute_index(
        values, tree=tree, directions=signs, steps={"weights": {"indicators": "entropy"}}
    )
    scaled = minmax(matrix, directions, low=0.0, high=1.0)
    np.testing.assert_allclose(entropy.weights[codes], skc_entropy(scaled), atol=1e-10)
    topsis = compute_index(
        values,
        tree=tree,
        directions=signs,
        steps={
            "normalise": {"method": "minmax", "low": 0, "high": 1},
            "weights": {
                "indicators": {"method": "expert", "expert": dict(zip(codes, shares, strict=True))}
            },
            "aggregate": {"dimension": "topsis", "topsis_normalisation": "minmax"},
        },
    )
    # the index's TOPSIS runs on normalised values (higher is better everywhere)
    expected = TOPSIS()(scaled, shares, np.ones(len(codes)))
    np.testing.assert_allclose(topsis.scores["d"], expected, atol=1e-10)
