"""Running the nearest-facility distances on a Dask cluster, one task per county.

:func:`citycheck.engine.accessibility.partition` cuts the network into one piece per
county: the county's homes and every node within the largest radius (widened by the
network's stretch) around them, so each piece gives exactly the distances of the whole
network, border homes included. Each piece is a task on ``dask.distributed``: a
``LocalCluster`` in the tests, a real cluster given its scheduler address
(``CITYCHECK_DASK_SCHEDULER=tcp://host:8786``; docs/spatial.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citycheck.engine import accessibility as acc


def _piece_distances(piece: acc.Piece, types: list[str], max_distance: float):
    return piece.home_rows, piece.distances(types, max_distance)


def distances_on_dask(
    network: acc.Network,
    facilities: pd.DataFrame,
    homes: pd.DataFrame,
    *,
    types: list[str],
    max_distance: float,
    by: str = "county",
    client,
) -> pd.DataFrame:
    """The same frame as ``network.nearest_distances(..., on_outside="skip")``, computed
    piece by piece on the cluster of ``client``."""
    pieces = acc.partition(network, facilities, homes, by=by, max_distance=max_distance)
    futures = client.map(
        _piece_distances, pieces, types=list(types), max_distance=max_distance, pure=False
    )
    out = np.full((len(homes), len(types)), np.inf)
    for rows, values in client.gather(futures):
        out[rows] = values
    return pd.DataFrame(out, index=homes.index, columns=list(types))
