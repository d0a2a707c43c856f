"""All nearest-facility distances on a synthetic grid city: citycheck vs pandana.

A 1,000 x 1,000 street grid (1,000,000 nodes, ~2,000,000 two-way edges of 50 m with a
little jitter in the lengths), 1,000,000 homes at random points and 8 facility types
(300 to 8,000 facilities each) in a projected CRS; every home's distance to the nearest
facility of each type within 1,000 m. Both sides do the whole job from the same frames:
citycheck builds the network, snaps and runs one multi-source Dijkstra per type; pandana
builds its contraction hierarchy ("preprocessing"), snaps homes and facilities and runs
``nearest_pois`` per type. The results are compared (same snapping convention).
Target: citycheck <= 10 s and >= 5x faster than pandana.
"""

import argparse
import contextlib
import os
import sys

import numpy as np
import pandas as pd

from citycheck.engine.accessibility import Network

from ..engine._common import report, timed

CUTOFF = 1000.0
COUNTS = [300, 600, 1000, 1500, 2000, 3000, 5000, 8000]


def city(side: int, homes: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = np.arange(side * side)
    col, row = ids % side, ids // side
    nodes = pd.DataFrame({"id": ids, "x": 500_000.0 + col * 50.0, "y": 3_170_000.0 + row * 50.0})
    grid = ids.reshape(side, side)
    u = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
    v = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])
    edges = pd.DataFrame({"u": u, "v": v, "length": 50.0 + rng.uniform(0, 5, u.size)})
    extent = (side - 1) * 50.0
    home_frame = pd.DataFrame(
        {
            "x": 500_000.0 + rng.uniform(0, extent, homes),
            "y": 3_170_000.0 + rng.uniform(0, extent, homes),
        }
    )
    scale = side * side / 1_000_000
    facilities = pd.concat(
        [
            pd.DataFrame(
                {
                    "x": 500_000.0 + rng.uniform(0, extent, max(1, int(n * scale))),
                    "y": 3_170_000.0 + rng.uniform(0, extent, max(1, int(n * scale))),
                    "type": f"type{k}",
                }
            )
            for k, n in enumerate(COUNTS)
        ],
        ignore_index=True,
    )
    return nodes, edges, home_frame, facilities


@contextlib.contextmanager
def quiet():
    """pandana prints its progress to stdout; the benchmark prints JSON there."""
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def citycheck_run(side: int, timings: dict, prefix: str = "citycheck"):
    nodes, edges, homes, facilities = city(side, side * side)
    types = [f"type{k}" for k in range(len(COUNTS))]
    with timed(timings, f"{prefix}_total"):
        with timed(timings, f"{prefix}_network"):
            network = Network(nodes, edges, crs="EPSG:32650")
        with timed(timings, f"{prefix}_distances"):
            ours = network.nearest_distances(facilities, homes, CUTOFF, types=types)
    return (nodes, edges, homes, facilities, types), ours


def pandana_run(data, timings: dict):
    import pandana

    nodes, edges, homes, facilities, types = data
    with timed(timings, "pandana_total"):
        with timed(timings, "pandana_preprocessing"), quiet():
            net = pandana.Network(
                nodes["x"], nodes["y"], edges["u"], edges["v"], edges[["length"]], twoway=True
            )
        with timed(timings, "pandana_distances"), quiet():
            home_nodes = net.get_node_ids(homes["x"], homes["y"]).to_numpy()
            theirs = {}
            for name in types:
                rows = facilities["type"] == name
                net.set_pois(name, CUTOFF, 1, facilities.loc[rows, "x"], facilities.loc[rows, "y"])
                found = net.nearest_pois(CUTOFF, name, num_pois=1, max_distance=np.inf)[1]
                theirs[name] = found.to_numpy()[home_nodes]  # node ids are 0..n-1
    return theirs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--side", type=int, help="grid side of the citycheck run (nodes = homes = side^2)"
    )
    parser.add_argument(
        "--pandana-side",
        type=int,
        default=100,
        help="grid side of the side-by-side run with pandana (0: none); its contraction "
        "hierarchy takes ~14 CPU s at 10,000 nodes and grows faster than linearly",
    )
    arguments = parser.parse_args()
    side = arguments.side or (300 if arguments.quick else 1000)
    timings: dict = {}
    (nodes, edges, homes, facilities, types), ours = citycheck_run(side, timings)
    result = {
        "benchmark": "spatial.grid",
        "nodes": len(nodes),
        "edges": len(edges),
        "homes": len(homes),
        "facility_types": len(types),
        "facilities": len(facilities),
        "cutoff_m": CUTOFF,
        "share_within_cutoff": round(float(np.isfinite(ours.to_numpy()).mean()), 4),
        "timings": timings,
    }
    if arguments.pandana_side:
        peer: dict = {}
        data, small = citycheck_run(arguments.pandana_side, peer)
        theirs = pandana_run(data, peer)
        difference = max(
            float(
                np.max(
                    np.abs(
                        np.where(np.isinf(small[n]), 0, small[n])
                        - np.where(np.isinf(theirs[n]), 0, theirs[n])
                    )
                )
            )
            for n in data[4]
        )
        result["side_by_side"] = {
            "nodes": arguments.pandana_side**2,
            "homes": arguments.pandana_side**2,
            "timings": peer,
            "speed_ratio_wall": round(
                peer["pandana_total"]["wall"] / peer["citycheck_total"]["wall"], 1
            ),
            "speed_ratio_cpu": round(
                peer["pandana_total"]["cpu"] / max(peer["citycheck_total"]["cpu"], 1e-3), 1
            ),
            "max_abs_difference_m": round(difference, 4),
            "same_reach": all(
                (np.isfinite(small[n].to_numpy()) == np.isfinite(theirs[n])).mean() > 0.9999
                for n in data[4]
            ),
        }
    report(result)


if __name__ == "__main__":
    main()
