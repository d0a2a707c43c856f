"""citycheck.engine.accessibility: bad input, exactness against networkx on random
networks (one-way streets, parallel edges, components), 2SFCA against the ``access``
package on its own hospital example, and partitions equal to the whole."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from access.fca import two_stage_fca as access_2sfca

from citycheck.engine._validation import ParameterError
from citycheck.engine.accessibility import (
    AccessibilityError,
    Network,
    coverage,
    partition,
    radius_coverage,
    two_step_fca,
)

UTM = "EPSG:32650"


def street():
    nodes = pd.DataFrame({"id": [1, 2, 3], "x": [0.0, 100.0, 200.0], "y": [0.0] * 3})
    edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "length": [100.0, 100.0]})
    return nodes, edges


def random_city(seed, n=400, oneway_share=0.2):
    """A jittered grid with random extra and missing edges, some one-way, some parallel."""
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(n))
    ids = np.arange(side * side) + 1000
    gx, gy = np.meshgrid(np.arange(side) * 80.0, np.arange(side) * 80.0)
    x = gx.ravel() + rng.normal(0, 10, side * side)
    y = gy.ravel() + rng.normal(0, 10, side * side)
    grid = ids.reshape(side, side)
    u = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
    v = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.15
    u, v = u[keep], v[keep]
    u = np.concatenate([u, u[:20]])  # parallel edges, longer or shorter
    v = np.concatenate([v, v[:20]])
    pos = dict(zip(ids, zip(x, y, strict=True), strict=True))
    straight = np.array(
        [np.hypot(pos[a][0] - pos[b][0], pos[a][1] - pos[b][1]) for a, b in zip(u, v, strict=True)]
    )
    length = straight * rng.uniform(1.0, 1.4, len(u))
    oneway = rng.random(len(u)) < oneway_share
    nodes = pd.DataFrame({"id": ids, "x": x, "y": y})
    edges = pd.DataFrame({"u": u, "v": v, "length": length, "oneway": oneway})
    return nodes, edges, rng


def nx_graph(edges):
    graph = nx.DiGraph()
    for u, v, length, oneway in edges[["u", "v", "length", "oneway"]].itertuples(index=False):
        for a, b in [(u, v)] + ([] if oneway else [(v, u)]):
            if not graph.has_edge(a, b) or graph[a][b]["weight"] > length:
                graph.add_edge(a, b, weight=length)
    return graph


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distances_equal_networkx_with_one_way_streets(seed):
    nodes, edges, rng = random_city(seed)
    net = Network(nodes, edges, crs=UTM)
    homes = pd.DataFrame({"x": rng.uniform(0, 1500, 300), "y": rng.uniform(0, 1500, 300)})
    facilities = pd.DataFrame({"x": rng.uniform(0, 1500, 6), "y": rng.uniform(0, 1500, 6)})
    got = net.nearest_distance(facilities, homes, max_distance=600)
    fac_nodes, _ = net.snap(facilities)
    home_nodes, _ = net.snap(homes)
    # Walking from the home to the facility: shortest path on the reversed graph.
    reverse = nx_graph(edges).reverse()
    by_nx = nx.multi_source_dijkstra_path_length(reverse, set(net.node_ids[fac_nodes]), cutoff=600)
    expected = np.array([by_nx.get(net.node_ids[n], np.inf) for n in home_nodes])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.isfinite(got).any() and np.isinf(got).any()


def test_a_one_way_street_is_walked_one_way_only():
    nodes, edges = street()
    edges["oneway"] = [True, True]  # 1 -> 2 -> 3
    net = Network(nodes, edges, crs=UTM)
    at_three = pd.DataFrame({"x": [200.0], "y": [0.0]})
    at_one = pd.DataFrame({"x": [0.0], "y": [0.0]})
    assert net.nearest_distance(at_three, at_one, 1000)[0] == 200.0
    assert np.isinf(net.nearest_distance(at_one, at_three, 1000)[0])


def test_geographic_coordinates_are_snapped_in_metres():
    # Two nodes 0.001 degrees of longitude apart at 28.68 N (Nanchang): about 97.6 m.
    nodes = pd.DataFrame({"id": [1, 2], "x": [115.89, 115.891], "y": [28.68, 28.68]})
    net = Network(nodes, pd.DataFrame({"u": [1], "v": [2], "length": [97.6]}), crs="EPSG:4490")
    node, metres = net.snap(pd.DataFrame({"x": [115.8904], "y": [28.68]}))
    assert node[0] == 0 and metres[0] == pytest.approx(39.06, abs=0.05)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda n, e: (n, e.assign(v=[2, 9])), "edges naming unknown nodes: 1"),
        (lambda n, e: (n, e.assign(length=[100.0, -1.0])), "negative length: 1"),
        (lambda n, e: (n, e.assign(length=[np.nan, 1.0])), "missing length: 0"),
        (lambda n, e: (n.assign(id=[1, 1, 3]), e), "duplicated node ids: 1"),
        (lambda n, e: (n, e.assign(oneway=["yes", "no"])), "`oneway` column must hold true/false"),
    ],
)
def test_bad_networks_are_refused_naming_the_rows(change, message):
    nodes, edges = change(*street())
    with pytest.raises(AccessibilityError, match=message):
        Network(nodes, edges, crs=UTM)


def test_crs_is_required_and_gcj02_must_be_converted_first():
    nodes, edges = street()
    with pytest.raises(AccessibilityError, match="coordinate reference system is required"):
        Network(nodes, edges, crs=None)
    with pytest.raises(AccessibilityError, match="GCJ-02 coordinates must be converted"):
        Network(nodes, edges, crs="GCJ-02")
    with pytest.raises(ParameterError, match="projected CRS in metres"):
        Network(nodes, edges, crs="EPSG:2249")  # US survey feet


def test_mixed_datums_and_points_outside_the_extent_are_refused():
    import geopandas as gpd

    nodes, edges = street()
    net = Network(nodes, edges, crs=UTM)
    homes = pd.DataFrame({"x": [0.0], "y": [0.0]})
    on_cgcs = gpd.GeoDataFrame(homes, geometry=gpd.points_from_xy([0], [0]), crs="EPSG:4547")
    with pytest.raises(AccessibilityError, match="mixed datums"):
        net.nearest_distance(homes, on_cgcs, 1000)
    far = pd.DataFrame({"x": [0.0, 5000.0], "y": [0.0, 0.0]}, index=["near", "far"])
    with pytest.raises(AccessibilityError, match=r"outside the network's extent.*'far'"):
        net.nearest_distance(far, homes, 1000)
    # Or listed and skipped, where the user chooses: the far facility is left out.
    assert net.nearest_distance(far, homes, 1000, on_outside="skip")[0] == 0.0


def test_unknown_facility_type_is_refused_or_skipped():
    nodes, edges = street()
    net = Network(nodes, edges, crs=UTM)
    facilities = pd.DataFrame({"x": [0.0, 200.0], "y": [0.0, 0.0], "type": ["school", "casino"]})
    homes = pd.DataFrame({"x": [200.0], "y": [0.0]})
    with pytest.raises(
        AccessibilityError, match="unknown type \\(casino; known: school, park\\): 1"
    ):
        net.nearest_distances(facilities, homes, 1000, types=["school", "park"])
    table = net.nearest_distances(
        facilities, homes, 1000, types=["school", "park"], on_unknown="skip"
    )
    assert table.loc[0, "school"] == 200.0 and np.isinf(table.loc[0, "park"])


def test_components_report_the_population_cut_off():
    nodes = pd.DataFrame({"id": [1, 2, 3, 4, 5], "x": [0.0, 100, 200, 900, 1000], "y": [0.0] * 5})
    edges = pd.DataFrame({"u": [1, 2, 4], "v": [2, 3, 5], "length": [100.0, 100.0, 100.0]})
    net = Network(nodes, edges, crs=UTM)
    homes = pd.DataFrame({"x": [0.0, 200.0, 1000.0], "y": [0.0] * 3, "population": [10, 20, 7]})
    table = net.components(homes)
    assert table.to_dict("list") == {"nodes": [3, 2], "homes": [2, 1], "population": [30.0, 7.0]}
    shops = pd.DataFrame({"x": [100.0], "y": [0.0]})
    assert np.isinf(net.nearest_distance(shops, homes, 5000)[2])


def test_coverage_shares_are_population_weighted_per_area_and_band():
    homes = pd.DataFrame(
        {"population": [10.0, 30.0, 60.0, 0.0], "area": ["A", "A", "B", "C"]}, index=list("wxyz")
    )
    distances = pd.DataFrame(
        {"school": [250.0, 600.0, np.inf, 10.0], "park": [300.0, 300.0, 300.0, 1.0]},
        index=list("wxyz"),
    )
    table = coverage(distances, homes, area="area")
    share = table.set_index(["area", "facility_type", "band"])["share"]
    assert share["A", "school", 300.0] == 0.25
    assert share["A", "school", 1000.0] == 1.0
    assert share["B", "school", 1000.0] == 0.0
    assert share["B", "park", 300.0] == 1.0  # exactly at the band counts
    assert np.isnan(share["C", "school", 300.0])  # nobody lives there
    assert len(table) == 3 * 2 * 3


def test_park_service_radius_by_park():
    nodes = pd.DataFrame({"id": range(5), "x": [0.0, 250, 400, 600, 1200], "y": [0.0] * 5})
    edges = pd.DataFrame({"u": [0, 1, 2, 3], "v": [1, 2, 3, 4], "length": [250.0, 150, 200, 600]})
    net = Network(nodes, edges, crs=UTM)
    parks = pd.DataFrame({"x": [0.0, 1200.0], "y": [0.0, 0.0], "radius": [300.0, 500.0]})
    homes = pd.DataFrame(
        {"x": [250.0, 400.0, 600.0, 1200.0], "y": [0.0] * 4, "population": [1, 2, 3, 4]}
    )
    covered = net.within_radius(parks, homes)
    assert covered.tolist() == [True, False, False, True]
    assert radius_coverage(covered, homes)["share"].iloc[0] == pytest.approx(0.5)


def hospital_example():
    """The three-tract example of the access package's own tests
    (access/tests/test_hospital_example.py), scenario 0 and 1."""
    tracts = pd.DataFrame(
        [
            {"geoid": 1, "pop": 100, "doc": 15},
            {"geoid": 2, "pop": 50, "doc": 20},
            {"geoid": 3, "pop": 10, "doc": 100},
        ]
    )
    pairs = [
        (1, 1, 1),
        (2, 2, 1),
        (3, 3, 1),
        (1, 3, 20),
        (2, 3, 20),
        (3, 1, 40),
        (3, 2, 40),
        (1, 2, 80),
        (2, 1, 80),
    ]
    costs = pd.DataFrame(pairs, columns=["origin", "dest", "cost"])
    return tracts, costs


@pytest.mark.parametrize("max_cost", [30, 60, 100])
@pytest.mark.parametrize("gravity", [False, True])
def test_two_step_fca_equals_the_access_package(max_cost, gravity):
    tracts, costs = hospital_example()
    weight = (lambda c: 1.0 / np.asarray(c, float)) if gravity else None
    theirs = access_2sfca(
        tracts.set_index("geoid")[["pop"]],
        tracts.set_index("geoid")[["doc"]],
        costs,
        max_cost=max_cost,
        demand_index=True,
        demand_name="pop",
        supply_name="doc",
        weight_fn=weight,
    )
    ours = two_step_fca(
        tracts.set_index("geoid")["pop"],
        tracts.set_index("geoid")["doc"],
        costs,
        max_cost,
        weight=weight,
    )
    pd.testing.assert_series_equal(
        ours.loc[theirs.index], theirs.astype(float), check_names=False, check_index_type=False
    )


def test_two_step_fca_on_a_larger_random_problem_equals_access():
    rng = np.random.default_rng(4)
    demand = pd.Series(rng.integers(10, 500, 60).astype(float), index=range(60))
    supply = pd.Series(rng.integers(1, 40, 15).astype(float), index=range(100, 115))
    costs = pd.DataFrame(
        [(o, d, float(rng.uniform(0, 2000))) for o in demand.index for d in supply.index],
        columns=["origin", "dest", "cost"],
    )
    theirs = access_2sfca(
        demand.rename("pop").to_frame(),
        supply.rename("cap").to_frame(),
        costs,
        max_cost=700,
        demand_index=True,
        demand_name="pop",
        supply_name="cap",
    )
    ours = two_step_fca(demand, supply, costs, 700)
    np.testing.assert_allclose(ours.loc[theirs.index].to_numpy(), theirs.to_numpy(), rtol=1e-12)
    assert (ours.drop(theirs.index) == 0).all()  # origins with nothing in reach


def test_two_step_fca_refuses_negative_costs():
    with pytest.raises(AccessibilityError, match="costs missing or negative: 0"):
        two_step_fca(
            pd.Series({1: 1.0}),
            pd.Series({2: 1.0}),
            pd.DataFrame({"origin": [1], "dest": [2], "cost": [-1.0]}),
            10,
        )


@pytest.mark.parametrize("seed", [3, 5])
def test_partitions_give_exactly_the_whole_network_results(seed):
    nodes, edges, rng = random_city(seed, n=900, oneway_share=0.1)
    net = Network(nodes, edges, crs=UTM)
    homes = pd.DataFrame({"x": rng.uniform(0, 2300, 800), "y": rng.uniform(0, 2300, 800)})
    homes["county"] = np.where(
        homes["x"] < 1100, "west", np.where(homes["y"] < 1200, "south-east", "north-east")
    )
    facilities = pd.DataFrame(
        {
            "x": rng.uniform(0, 2300, 30),
            "y": rng.uniform(0, 2300, 30),
            "type": rng.choice(["a", "b", "c"], 30),
        }
    )
    whole = net.nearest_distances(facilities, homes, 700, types=["a", "b", "c"])
    pieces = partition(net, facilities, homes, by="county", max_distance=700)
    assert len(pieces) == 3 and all(len(p.nodes) < net.n_nodes for p in pieces)
    combined = np.full((len(homes), 3), np.nan)
    for piece in pieces:
        combined[piece.home_rows] = piece.distances(["a", "b", "c"], 700)
    np.testing.assert_array_equal(combined, whole.to_numpy())
    # Border homes do reach facilities in the neighbouring county.
    assert np.isfinite(whole.to_numpy()).mean() > 0.5
