"""Every Monte Carlo draw is the published index recomputed with that draw's choices.

The draws are regenerated from the documented draw order (``uncertainty`` module
docstring) and each one is computed on its own by ``compute_index`` with the draw's
weights (as expert weights), normalisation and aggregation of each level: the batched
computation (all draws at once, sorted by choice, matrix products) must give the same
scores to 1e-12 and the same ranks.
"""

import numpy as np
import pandas as pd
import pytest

from citycheck.engine import aggregate
from citycheck.engine._tree import Tree
from citycheck.engine.index import compute_index
from citycheck.engine.testing import synthetic_values
from citycheck.engine.uncertainty import LEVELS, monte_carlo

DRAWS = 12
SPREAD = 0.3
LOW, HIGH = 1.0, 100.0


def regenerated_draws(tree: dict, seed: int, n_normalisations: int, choices: dict):
    """The draws' local weights (nodes x draws), normalisation and per-level choices."""
    structure = Tree.from_any(tree)
    rng = np.random.default_rng(seed)
    noise = rng.uniform(1 - SPREAD, 1 + SPREAD, size=(len(structure.parent), DRAWS))
    normalisation = rng.integers(n_normalisations, size=DRAWS)
    aggregation = np.vstack([rng.integers(len(choices[level]), size=DRAWS) for level in LEVELS])
    noise[:, 0], normalisation[0], aggregation[:, 0] = 1.0, 0, 0
    parents = structure.parent
    nominal = 1.0 / parents.map(parents.value_counts()).to_numpy()
    local = pd.DataFrame(nominal[:, None] * noise, index=parents.index)
    local = local / local.groupby(parents.to_numpy()).transform("sum")
    return local, normalisation, aggregation


def draw_by_itself(values, case, local, method, dimension, index):
    indicators = set(case.tree) - set(case.tree.values())
    steps = {
        "normalise": {"method": method, "low": LOW, "high": HIGH},
        "weights": {
            "indicators": {"method": "expert", "expert": local[list(indicators)].to_dict()},
            "dimensions": {
                "method": "expert",
                "expert": local.drop(index=list(indicators)).to_dict(),
            },
        },
        "aggregate": {"dimension": dimension, "index": index},
    }
    return compute_index(values, tree=case.tree, directions=case.directions, steps=steps).index


@pytest.mark.parametrize(
    ("published", "alternatives", "gaps"),
    [
        ({"dimension": "geometric", "index": "arithmetic"}, ["arithmetic", "geometric"], True),
        ({"dimension": "arithmetic", "index": "topsis"}, ["arithmetic", "topsis"], False),
    ],
)
def test_each_draw_is_the_index_computed_with_its_own_choices(published, alternatives, gaps):
    case = synthetic_values(25, 9, n_dimensions=3, random_state=2)
    values = case.values.copy()
    values.iloc[1] = values.iloc[0]  # a tie in every draw
    if gaps:
        values.iloc[3, 5] = np.nan
        values.iloc[4, [0, 3, 6]] = np.nan  # place 4 has no value in dimension D0
    normalisations = ["minmax", "percentile_rank"]
    result = monte_carlo(
        values,
        tree=case.tree,
        directions=case.directions,
        draws=DRAWS,
        weight_spread=SPREAD,
        normalisation=normalisations,
        aggregation=alternatives,
        nominal_aggregation=published,
        low=LOW,
        high=HIGH,
        random_state=5,
    )
    choices = {level: list(dict.fromkeys([published[level], *alternatives])) for level in LEVELS}
    local, normalisation, aggregation = regenerated_draws(
        case.tree, 5, len(normalisations), choices
    )
    used = set()
    for d in range(DRAWS):
        dimension, index = (choices[level][aggregation[row, d]] for row, level in enumerate(LEVELS))
        used.add((normalisations[normalisation[d]], dimension, index))
        expected = draw_by_itself(
            values, case, local[d], normalisations[normalisation[d]], dimension, index
        )
        np.testing.assert_allclose(result.scores[:, d], expected.to_numpy(), rtol=1e-12)
        np.testing.assert_array_equal(result.ranks[:, d], aggregate.rank_places(expected))
        assert result.draws.loc[d, "normalisation"] == normalisations[normalisation[d]]
    for position in (1, 2):  # the draws mix the choices of both levels
        assert len({combination[position] for combination in used}) == 2
    assert (result.ranks[0] == result.ranks[1]).all()  # the tied places share the best rank
