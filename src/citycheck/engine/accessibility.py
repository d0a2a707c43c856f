"""Walking accessibility: the 15-minute life circle (15分钟生活圈) over a street network.

A :class:`Network` holds a walking network (nodes with coordinates, edges with lengths in
metres). Points — homes, facilities — are snapped to their nearest node in metres (the
coordinates are projected to a metric CRS with pyproj, then a ``scipy.spatial.cKDTree``
is queried), and network distances are computed with one multi-source Dijkstra per
facility type (``scipy.sparse.csgraph.dijkstra`` with ``min_only=True`` and a ``limit``):
the facilities of a type are all sources at once, so the cost does not grow with the
number of homes or facilities, only with the part of the network within the cutoff.

Convention (the same as pandana's): the distance of a home is measured along the network
from the home's nearest node to the nearest facility's nearest node; the straight stretch
from a point to its node is not added. Distances beyond ``max_distance`` are ``inf``.

:func:`coverage` turns per-home distances into population-weighted shares per area and
distance band (300 / 500 / 1,000 m: the 5-, 10- and 15-minute circles of GB 50180-2018).
:func:`radius_coverage` does the same when each facility has its own service radius (parks
by size). :func:`two_step_fca` is the two-step floating catchment area ratio of Luo and
Wang (2003) for supply per head (kindergarten places per child, doctors per resident).
:func:`partition` cuts the problem into per-area pieces that give exactly the same
distances, for running on a cluster (``citycheck.spatial.distributed``).

Every check raises :class:`AccessibilityError` (an :class:`~citycheck.engine._validation.
EngineError`) whose ``rows`` attribute lists the offending row labels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyproj import CRS, Transformer
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from ._validation import EngineError, ParameterError

__all__ = [
    "BANDS",
    "AccessibilityError",
    "Network",
    "Piece",
    "coverage",
    "partition",
    "radius_coverage",
    "two_step_fca",
]

#: The 5-, 10- and 15-minute walking circles of GB 50180-2018, in metres.
BANDS = (300.0, 500.0, 1000.0)
#: A point farther than this from every node lies outside the network (metres).
MAX_SNAP = 500.0
_SHOWN_ROWS = 10


class AccessibilityError(EngineError):
    """Bad network or point data; ``rows`` lists the offending row labels (may be empty)."""

    def __init__(self, message: str, rows: Sequence = ()):
        self.rows = [r.item() if isinstance(r, np.generic) else r for r in rows]
        if self.rows:
            shown = ", ".join(repr(r) for r in self.rows[:_SHOWN_ROWS])
            more = (
                f" and {len(self.rows) - _SHOWN_ROWS} more" if len(self.rows) > _SHOWN_ROWS else ""
            )
            message = f"{message}: {shown}{more}"
        super().__init__(message + ".")


def _check_crs(crs) -> CRS:
    if crs is None:
        raise AccessibilityError("a coordinate reference system is required (crs is None)")
    if isinstance(crs, str) and crs.upper().replace("-", "") in {"GCJ02", "GCJ"}:
        raise AccessibilityError(
            "GCJ-02 coordinates must be converted to WGS84 first "
            "(citycheck.engine.datum.gcj02_to_wgs84)"
        )
    try:
        crs = CRS.from_user_input(crs)
    except Exception as error:  # pyproj raises CRSError
        raise ParameterError("crs", "a CRS pyproj understands", crs) from error
    if not crs.is_geographic and not crs.is_projected:
        raise ParameterError("crs", "a geographic or projected CRS", crs.name)
    if crs.is_projected:
        unit = crs.axis_info[0].unit_name if crs.axis_info else ""
        if unit not in {"metre", "meter"}:
            raise ParameterError("crs", "a projected CRS in metres", f"{crs.name} ({unit})")
    return crs


def _metric_crs(crs: CRS, x: np.ndarray, y: np.ndarray) -> CRS:
    """``crs`` itself when projected, else a transverse Mercator centred on the data on
    the same datum (so no datum shift is applied: WGS84 stays WGS84, CGCS2000 stays
    CGCS2000); scale error < 0.01 % within 100 km of the centre."""
    if crs.is_projected:
        return crs
    lon0 = float(np.round((np.nanmin(x) + np.nanmax(x)) / 2, 4))
    lat0 = float(np.round((np.nanmin(y) + np.nanmax(y)) / 2, 4))
    return ProjectedCRS(
        conversion=TransverseMercatorConversion(
            latitude_natural_origin=lat0, longitude_natural_origin=lon0
        ),
        geodetic_crs=crs.geodetic_crs,
        name=f"local transverse Mercator at {lon0:g}, {lat0:g}",
    )


def _frame_crs(points) -> CRS | None:
    crs = getattr(points, "crs", None)
    if crs is None and isinstance(points, pd.DataFrame):
        crs = points.attrs.get("crs")
    return None if crs is None else CRS.from_user_input(crs)


class Network:
    """A walking network in metres, ready for nearest-facility queries.

    Parameters
    ----------
    nodes : DataFrame
        One row per node with columns ``id``, ``x``, ``y`` (or the ids as the index and
        columns ``x``, ``y``), coordinates in ``crs``.
    edges : DataFrame
        One row per edge with columns ``u``, ``v`` (node ids) and ``length`` (metres,
        non-negative). Edges are walked both ways unless a boolean ``oneway`` column is
        true for the row.
    crs : str or pyproj.CRS, default "EPSG:4326"
        The CRS of the node coordinates: geographic (WGS84, CGCS2000 EPSG:4490) or
        projected in metres. GCJ-02 is refused (convert it first).

    Raises
    ------
    AccessibilityError
        For edges naming unknown nodes, missing or negative lengths, duplicated node ids,
        missing coordinates or a missing CRS; the message lists the rows.

    Examples
    --------
    A street of three nodes 100 m apart (in a projected CRS, UTM 50N), a school at the
    west end and homes along it:

    >>> nodes = pd.DataFrame({"id": [1, 2, 3], "x": [0.0, 100.0, 200.0], "y": [0.0] * 3})
    >>> edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "length": [100.0, 100.0]})
    >>> net = Network(nodes, edges, crs="EPSG:32650")
    >>> schools = pd.DataFrame({"x": [5.0], "y": [2.0]})
    >>> homes = pd.DataFrame({"x": [0.0, 101.0, 190.0], "y": [3.0, 0.0, 1.0]})
    >>> net.nearest_distance(schools, homes, max_distance=150)
    array([  0., 100.,  inf])
    """

    def __init__(self, nodes: pd.DataFrame, edges: pd.DataFrame, crs="EPSG:4326"):
        self.crs = _check_crs(crs)
        if not isinstance(nodes, pd.DataFrame):
            raise ParameterError("nodes", "a DataFrame with id, x, y", type(nodes).__name__)
        if not isinstance(edges, pd.DataFrame):
            raise ParameterError("edges", "a DataFrame with u, v, length", type(edges).__name__)
        frame_crs = _frame_crs(nodes)
        if frame_crs is not None and not frame_crs.equals(self.crs, ignore_axis_order=True):
            raise AccessibilityError(
                f"the nodes are in {frame_crs.name} but the network is declared in {self.crs.name}"
            )
        ids = nodes["id"] if "id" in nodes.columns else nodes.index.to_series()
        for column in ("x", "y"):
            if column not in nodes.columns:
                raise AccessibilityError(f"the nodes have no `{column}` column")
        if len(nodes) == 0:
            raise AccessibilityError("the network has no nodes")
        if ids.isna().any():
            raise AccessibilityError("nodes without an id", nodes.index[ids.isna().to_numpy()])
        if ids.duplicated().any():
            raise AccessibilityError("duplicated node ids", ids[ids.duplicated()].unique())
        x = pd.to_numeric(nodes["x"], errors="coerce").to_numpy(float)
        y = pd.to_numeric(nodes["y"], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(x) & np.isfinite(y))
        if bad.any():
            raise AccessibilityError("nodes without coordinates", ids.to_numpy()[bad])
        for column in ("u", "v", "length"):
            if column not in edges.columns:
                raise AccessibilityError(f"the edges have no `{column}` column")
        self.node_ids = ids.to_numpy()
        index = pd.Index(self.node_ids)
        u = index.get_indexer(edges["u"])
        v = index.get_indexer(edges["v"])
        unknown = (u < 0) | (v < 0)
        if unknown.any():
            raise AccessibilityError("edges naming unknown nodes", edges.index[unknown])
        length = pd.to_numeric(edges["length"], errors="coerce").to_numpy(float)
        missing = ~np.isfinite(length)
        if missing.any():
            raise AccessibilityError("edges with a missing length", edges.index[missing])
        negative = length < 0
        if negative.any():
            raise AccessibilityError("edges with a negative length", edges.index[negative])
        oneway = np.zeros(len(edges), bool)
        if "oneway" in edges.columns:
            flags = edges["oneway"]
            if not (pd.api.types.is_bool_dtype(flags) or flags.isin([0, 1, True, False]).all()):
                raise AccessibilityError(
                    "the `oneway` column must hold true/false (0/1)",
                    edges.index[~flags.isin([0, 1, True, False]).to_numpy()],
                )
            oneway = flags.astype(bool).to_numpy()
        self.metric_crs = _metric_crs(self.crs, x, y)
        self._to_metric = Transformer.from_crs(self.crs, self.metric_crs, always_xy=True)
        mx, my = self._project(x, y)
        self.xy = np.column_stack([mx, my])
        self.n_nodes = len(self.node_ids)
        # Zero-length edges are stored as a tiny positive weight: scipy drops explicit zeros.
        weight = np.where(length > 0, length, 1e-9)
        both = ~oneway
        rows = np.concatenate([u, v[both]])
        cols = np.concatenate([v, u[both]])
        data = np.concatenate([weight, weight[both]])
        # The graph is stored reversed (facility <- home): Dijkstra from the facilities over
        # it gives, at each node, the walk *from* that node to the nearest facility.
        graph = sp.csr_matrix((data, (cols, rows)), shape=(self.n_nodes, self.n_nodes))
        graph.sum_duplicates()
        # Parallel edges: keep the shortest (csr sums duplicates, so rebuild from minimum).
        if graph.nnz < len(data):
            order = np.lexsort((data, rows, cols))
            keys = cols[order].astype(np.int64) * self.n_nodes + rows[order]
            first = np.r_[True, keys[1:] != keys[:-1]]
            keep = order[first]
            graph = sp.csr_matrix(
                (data[keep], (cols[keep], rows[keep])), shape=(self.n_nodes, self.n_nodes)
            )
        self.graph = graph
        straight = np.hypot(*(self.xy[u] - self.xy[v]).T)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(straight > 0, length / straight, np.inf)
        #: The smallest ratio of an edge's length to the straight line between its ends
        #: (at most 1); :func:`partition` widens its buffers by 1/stretch to stay exact.
        self.stretch = float(min(1.0, ratio.min())) if len(ratio) else 1.0

    def _project(self, x, y):
        if self.metric_crs is self.crs:
            return np.asarray(x, float), np.asarray(y, float)
        return self._to_metric.transform(x, y)

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(self.xy)

    @cached_property
    def component(self) -> np.ndarray:
        """The connected component of each node (0 = the largest), walking both ways."""
        _count, labels = connected_components(self.graph, directed=True, connection="weak")
        sizes = np.bincount(labels)
        rank = np.empty_like(sizes)
        rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
        return rank[labels]

    def project(self, points: pd.DataFrame) -> np.ndarray:
        """The ``x``, ``y`` of ``points`` (in the network's CRS) in metres, shape (n, 2)."""
        if not isinstance(points, pd.DataFrame):
            raise ParameterError("points", "a DataFrame with x, y", type(points).__name__)
        for column in ("x", "y"):
            if column not in points.columns:
                raise AccessibilityError(f"the points have no `{column}` column")
        crs = _frame_crs(points)
        if crs is not None and not crs.equals(self.crs, ignore_axis_order=True):
            raise AccessibilityError(
                f"mixed datums: the points are in {crs.name}, the network in {self.crs.name}; "
                "transform them first"
            )
        x = pd.to_numeric(points["x"], errors="coerce").to_numpy(float)
        y = pd.to_numeric(points["y"], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(x) & np.isfinite(y))
        if bad.any():
            raise AccessibilityError("points without coordinates", points.index[bad])
        mx, my = self._project(x, y)
        return np.column_stack([mx, my])

    def snap(self, points: pd.DataFrame, *, max_snap: float = MAX_SNAP, on_outside="raise"):
        """The nearest node of each point and the straight distance to it, in metres.

        Parameters
        ----------
        points : DataFrame
            ``x``, ``y`` in the network's CRS.
        max_snap : float, default 500
            A point farther than this from every node is outside the network's extent.
        on_outside : {"raise", "skip"}
            Refuse such points (the rows are listed), or give them node ``-1``.

        Returns
        -------
        (ndarray of int, ndarray of float)
            Node positions (0..n_nodes-1, ``-1`` for skipped points) and snap distances.

        Examples
        --------
        >>> nodes = pd.DataFrame({"id": [7, 8], "x": [0.0, 100.0], "y": [0.0, 0.0]})
        >>> net = Network(nodes, pd.DataFrame({"u": [7], "v": [8], "length": [100.0]}), "EPSG:32650")
        >>> net.snap(pd.DataFrame({"x": [90.0], "y": [0.0]}))
        (array([1]), array([10.]))
        """
        if on_outside not in ("raise", "skip"):
            raise ParameterError("on_outside", "'raise' or 'skip'", on_outside)
        xy = self.project(points)
        if len(xy) == 0:
            return np.zeros(0, np.intp), np.zeros(0)
        distance, node = self._tree.query(xy, workers=-1)
        outside = distance > max_snap
        if outside.any():
            if on_outside == "raise":
                raise AccessibilityError(
                    f"points outside the network's extent (farther than {max_snap:g} m from "
                    "every node)",
                    points.index[outside],
                )
            node = np.where(outside, -1, node)
        return node.astype(np.intp), distance

    def distances_from(self, sources: np.ndarray, max_distance: float) -> np.ndarray:
        """Metres from every node to the nearest of the node positions ``sources``
        (``inf`` beyond ``max_distance``): one multi-source Dijkstra."""
        sources = np.unique(np.asarray(sources, np.intp))
        sources = sources[sources >= 0]
        if len(sources) == 0:
            return np.full(self.n_nodes, np.inf)
        distance = dijkstra(
            self.graph, directed=True, indices=sources, min_only=True, limit=max_distance
        )
        distance[distance > max_distance] = np.inf
        return distance

    def nearest_distance(
        self,
        facilities: pd.DataFrame,
        homes: pd.DataFrame,
        max_distance: float,
        *,
        max_snap: float = MAX_SNAP,
        on_outside: str = "raise",
    ) -> np.ndarray:
        """Metres along the network from each home to its nearest facility.

        Parameters
        ----------
        facilities, homes : DataFrame
            ``x``, ``y`` in the network's CRS.
        max_distance : float
            The cutoff in metres; farther homes get ``inf``.
        max_snap, on_outside
            See :meth:`snap`; a skipped home gets ``inf``, a skipped facility is left out.

        Returns
        -------
        ndarray of float
            One entry per home, in order.

        See Also
        --------
        nearest_distances : every facility type at once.
        """
        max_distance = _check_distance("max_distance", max_distance)
        fac_nodes, _ = self.snap(facilities, max_snap=max_snap, on_outside=on_outside)
        home_nodes, _ = self.snap(homes, max_snap=max_snap, on_outside=on_outside)
        at_node = self.distances_from(fac_nodes, max_distance)
        return np.where(home_nodes >= 0, at_node[home_nodes], np.inf)

    def nearest_distances(
        self,
        facilities: pd.DataFrame,
        homes: pd.DataFrame,
        max_distance: float,
        *,
        type_column: str = "type",
        types: Iterable[str] | None = None,
        max_snap: float = MAX_SNAP,
        on_outside: str = "raise",
        on_unknown: str = "raise",
    ) -> pd.DataFrame:
        """Nearest-facility distances per facility type: a frame indexed like ``homes``
        with one column per type (``types`` in order, else the types found, sorted).

        ``types`` is the list of known types: a facility of another type is refused
        (``on_unknown="raise"``, rows listed) or left out (``"skip"``). A known type with
        no facility gives a column of ``inf``.

        Examples
        --------
        >>> nodes = pd.DataFrame({"id": [1, 2, 3], "x": [0.0, 100.0, 200.0], "y": [0.0] * 3})
        >>> net = Network(nodes, pd.DataFrame({"u": [1, 2], "v": [2, 3], "length": [100.0] * 2}), "EPSG:32650")
        >>> facilities = pd.DataFrame({"x": [0.0, 200.0], "y": [0.0, 0.0], "type": ["school", "clinic"]})
        >>> homes = pd.DataFrame({"x": [100.0], "y": [0.0]}, index=["h1"])
        >>> net.nearest_distances(facilities, homes, 1000, types=["school", "clinic", "park"])
            school  clinic  park
        h1   100.0   100.0   inf
        """
        if on_unknown not in ("raise", "skip"):
            raise ParameterError("on_unknown", "'raise' or 'skip'", on_unknown)
        max_distance = _check_distance("max_distance", max_distance)
        if type_column not in facilities.columns:
            raise AccessibilityError(f"the facilities have no `{type_column}` column")
        kind = facilities[type_column].astype("string")
        if types is None:
            types = sorted(kind.dropna().unique())
        else:
            types = list(types)
            unknown = ~kind.isin(types).fillna(False).to_numpy(bool)
            if unknown.any():
                if on_unknown == "raise":
                    shown = sorted(kind[unknown].fillna("<missing>").unique())
                    raise AccessibilityError(
                        f"facilities of an unknown type ({', '.join(shown)}; known: "
                        f"{', '.join(types)})",
                        facilities.index[unknown],
                    )
                facilities, kind = facilities[~unknown], kind[~unknown]
        fac_nodes, _ = self.snap(facilities, max_snap=max_snap, on_outside=on_outside)
        home_nodes, _ = self.snap(homes, max_snap=max_snap, on_outside=on_outside)
        kind = kind.to_numpy()
        columns = {}
        for name in types:
            at_node = self.distances_from(fac_nodes[kind == name], max_distance)
            columns[name] = np.where(home_nodes >= 0, at_node[home_nodes], np.inf)
        return pd.DataFrame(columns, index=homes.index, columns=types, dtype=float)

    def within_radius(
        self,
        facilities: pd.DataFrame,
        homes: pd.DataFrame,
        *,
        radius: str = "radius",
        max_snap: float = MAX_SNAP,
        on_outside: str = "raise",
    ) -> np.ndarray:
        """Whether each home lies within the service radius of some facility, each
        facility with its own radius in metres (column ``radius``; 0 or missing: none).

        One Dijkstra per distinct radius (parks: 300, 500, 1,000 m by size).

        Examples
        --------
        >>> nodes = pd.DataFrame({"id": [1, 2, 3], "x": [0.0, 400.0, 800.0], "y": [0.0] * 3})
        >>> net = Network(nodes, pd.DataFrame({"u": [1, 2], "v": [2, 3], "length": [400.0] * 2}), "EPSG:32650")
        >>> parks = pd.DataFrame({"x": [0.0], "y": [0.0], "radius": [500.0]})
        >>> net.within_radius(parks, pd.DataFrame({"x": [400.0, 800.0], "y": [0.0, 0.0]}))
        array([ True, False])
        """
        if radius not in facilities.columns:
            raise AccessibilityError(f"the facilities have no `{radius}` column")
        reach = pd.to_numeric(facilities[radius], errors="coerce").fillna(0).to_numpy(float)
        if (reach < 0).any():
            raise AccessibilityError(
                "facilities with a negative radius", facilities.index[reach < 0]
            )
        fac_nodes, _ = self.snap(facilities, max_snap=max_snap, on_outside=on_outside)
        home_nodes, _ = self.snap(homes, max_snap=max_snap, on_outside=on_outside)
        covered = np.zeros(self.n_nodes, bool)
        for value in np.unique(reach[reach > 0]):
            covered |= np.isfinite(self.distances_from(fac_nodes[reach == value], value))
        return np.where(home_nodes >= 0, covered[home_nodes], False)

    def components(
        self,
        homes: pd.DataFrame | None = None,
        *,
        population: str = "population",
        max_snap: float = MAX_SNAP,
    ) -> pd.DataFrame:
        """The connected components (0 = largest) with their nodes, homes and population.

        Homes on a small component can only reach the facilities on it: the report shows
        how many people that concerns.

        Examples
        --------
        >>> nodes = pd.DataFrame({"id": [1, 2, 3, 4], "x": [0.0, 100.0, 900.0, 1000.0], "y": [0.0] * 4})
        >>> edges = pd.DataFrame({"u": [1, 3], "v": [2, 4], "length": [100.0, 100.0]})
        >>> net = Network(nodes, edges, "EPSG:32650")
        >>> homes = pd.DataFrame({"x": [0.0, 1000.0], "y": [0.0, 0.0], "population": [30, 5]})
        >>> net.components(homes).reset_index()
           component  nodes  homes  population
        0          0      2      1        30.0
        1          1      2      1         5.0
        """
        label = self.component
        frame = pd.DataFrame({"nodes": np.bincount(label)})
        frame.index.name = "component"
        if homes is not None:
            nodes, _ = self.snap(homes, max_snap=max_snap, on_outside="skip")
            inside = nodes >= 0
            people = _population(homes, population)[inside]
            at = label[nodes[inside]]
            frame["homes"] = np.bincount(at, minlength=len(frame))
            frame["population"] = np.bincount(at, weights=people, minlength=len(frame))
        return frame


def _check_distance(name: str, value) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not value > 0
    ):
        raise ParameterError(name, "a positive number of metres", value)
    return float(value)


def _population(homes: pd.DataFrame, population: str | None) -> np.ndarray:
    if population is None:
        return np.ones(len(homes))
    if population not in homes.columns:
        raise AccessibilityError(f"the homes have no `{population}` column")
    people = pd.to_numeric(homes[population], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(people) | (people < 0)
    if bad.any():
        raise AccessibilityError("homes with a missing or negative population", homes.index[bad])
    return people


def coverage(
    distances: pd.DataFrame,
    homes: pd.DataFrame,
    *,
    area: str | None = None,
    population: str | None = "population",
    bands: Sequence[float] = BANDS,
) -> pd.DataFrame:
    """Population-weighted share of residents within each band of each facility type.

    Parameters
    ----------
    distances : DataFrame
        Per-home distances, one column per facility type (:meth:`Network.nearest_distances`),
        indexed like ``homes``.
    homes : DataFrame
        The homes with their ``population`` and ``area`` columns.
    area : str, optional
        Column of ``homes`` naming the area (community, street, county); ``None``: all.
    population : str or None, default "population"
        Column of residents per home; ``None`` counts homes.
    bands : sequence of float, default (300, 500, 1000)
        Distance bands in metres (a home at exactly the band's distance is within it).

    Returns
    -------
    DataFrame
        One row per area, facility type and band: ``area``, ``facility_type``, ``band``,
        ``population``, ``covered`` (residents within the band) and ``share`` (0–1; NaN for
        an area without residents).

    Examples
    --------
    >>> homes = pd.DataFrame({"population": [10, 30], "area": ["A", "A"]})
    >>> distances = pd.DataFrame({"school": [250.0, 800.0]})
    >>> coverage(distances, homes, area="area", bands=[300, 1000])
      area facility_type    band  population  covered  share
    0    A        school   300.0        40.0     10.0   0.25
    1    A        school  1000.0        40.0     40.0   1.00
    """
    if not distances.index.equals(homes.index):
        raise AccessibilityError("the distances are not indexed like the homes")
    bands = [_check_distance("bands", b) for b in bands]
    people = _population(homes, population)
    labels = homes[area].to_numpy() if area is not None else np.zeros(len(homes), dtype=object)
    if area is not None and pd.isna(labels).any():
        raise AccessibilityError(f"homes without an `{area}`", homes.index[pd.isna(labels)])
    codes, uniques = pd.factorize(labels, sort=True)
    total = np.bincount(codes, weights=people, minlength=len(uniques))
    parts = []
    values = distances.to_numpy(float)
    for j, name in enumerate(distances.columns):
        for band in bands:
            covered = np.bincount(
                codes, weights=people * (values[:, j] <= band), minlength=len(uniques)
            )
            parts.append(
                pd.DataFrame(
                    {
                        "area": uniques if area is not None else [None] * len(uniques),
                        "facility_type": name,
                        "band": band,
                        "population": total,
                        "covered": covered,
                    }
                )
            )
    result = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["area", "facility_type", "band", "population", "covered"])
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        result["share"] = np.where(
            result["population"] > 0, result["covered"] / result["population"], np.nan
        )
    return result


def radius_coverage(
    covered: np.ndarray,
    homes: pd.DataFrame,
    *,
    area: str | None = None,
    population: str | None = "population",
) -> pd.DataFrame:
    """Population-weighted share of residents inside a service radius, per area.

    ``covered`` is :meth:`Network.within_radius`'s boolean per home. Returns ``area``,
    ``population``, ``covered``, ``share``.

    Examples
    --------
    >>> homes = pd.DataFrame({"population": [10, 30]})
    >>> radius_coverage([True, False], homes)
       area  population  covered  share
    0  None        40.0     10.0   0.25
    """
    table = coverage(
        pd.DataFrame(
            {"radius": np.where(np.asarray(covered, bool), 0.0, np.inf)}, index=homes.index
        ),
        homes,
        area=area,
        population=population,
        bands=[1.0],
    )
    return table.drop(columns=["facility_type", "band"])


def two_step_fca(
    demand: pd.Series,
    supply: pd.Series,
    costs: pd.DataFrame,
    max_cost: float,
    weight: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pd.Series:
    """Two-step floating catchment area (2SFCA) supply-to-demand ratio (Luo & Wang 2003).

    Step 1, for each supply site *j*: ``R_j = S_j / sum_i P_i w(c_ij)`` over the origins
    *i* with ``c_ij <= max_cost``. Step 2, for each origin *i*:
    ``A_i = sum_j R_j w(c_ij)`` over the same pairs. ``w`` is 1 (the original method) or
    ``weight(cost)`` (a gravity or stepwise catchment, "enhanced 2SFCA").

    Parameters
    ----------
    demand : Series
        Population (or other demand) by origin id.
    supply : Series
        Capacity by destination id (places, doctors).
    costs : DataFrame
        Columns ``origin``, ``dest``, ``cost`` (e.g. metres from
        :meth:`Network.nearest_distance` pairs).
    max_cost : float
        The catchment size.
    weight : callable, optional
        Vectorised function of the cost array giving the weight of each pair.

    Returns
    -------
    Series
        The ratio by origin id (every id of ``demand``; 0 where nothing is in reach).

    Examples
    --------
    >>> demand = pd.Series({"a": 100.0, "b": 50.0})
    >>> supply = pd.Series({"k": 30.0})
    >>> costs = pd.DataFrame({"origin": ["a", "b"], "dest": ["k", "k"], "cost": [200.0, 900.0]})
    >>> two_step_fca(demand, supply, costs, max_cost=1000)
    a    0.2
    b    0.2
    dtype: float64
    >>> two_step_fca(demand, supply, costs, max_cost=500)
    a    0.3
    b    0.0
    dtype: float64
    """
    max_cost = _check_distance("max_cost", max_cost)
    for column in ("origin", "dest", "cost"):
        if column not in costs.columns:
            raise AccessibilityError(f"the costs have no `{column}` column")
    cost = pd.to_numeric(costs["cost"], errors="coerce").to_numpy(float)
    if np.isnan(cost).any() or (cost < 0).any():
        raise AccessibilityError(
            "costs missing or negative", costs.index[np.isnan(cost) | (cost < 0)]
        )
    for name, series in (("demand", demand), ("supply", supply)):
        if not isinstance(series, pd.Series):
            raise ParameterError(name, "a Series by id", type(series).__name__)
        if not series.index.is_unique:
            raise AccessibilityError(
                f"`{name}` has duplicated ids", series.index[series.index.duplicated()]
            )
    keep = cost <= max_cost
    origin = costs["origin"].to_numpy()[keep]
    dest = costs["dest"].to_numpy()[keep]
    cost = cost[keep]
    w = np.ones_like(cost) if weight is None else np.asarray(weight(cost), float)
    p = demand.reindex(origin).fillna(0).to_numpy(float) * w
    dest_codes, dests = pd.factorize(dest)
    catchment = np.bincount(dest_codes, weights=p, minlength=len(dests))
    s = supply.reindex(dests).fillna(0).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(catchment > 0, s / catchment, 0.0)
    origin_codes = demand.index.get_indexer(origin)
    inside = origin_codes >= 0
    result = np.bincount(
        origin_codes[inside], weights=(ratio[dest_codes] * w)[inside], minlength=len(demand)
    )
    return pd.Series(result, index=demand.index, dtype=float)


@dataclass(frozen=True)
class Piece:
    """One area's share of the work: the sub-network within reach of its homes.

    ``nodes`` are positions in the full network; ``home_rows`` the positions of the
    area's homes in the homes frame; ``home_nodes`` and ``facility_nodes`` positions in
    ``nodes`` (``-1``: outside); ``facility_types`` the type of each facility in reach.
    """

    area: object
    nodes: np.ndarray
    graph: sp.csr_matrix
    home_rows: np.ndarray
    home_nodes: np.ndarray
    facility_nodes: np.ndarray
    facility_types: np.ndarray

    def distances(self, types: Sequence[str], max_distance: float) -> np.ndarray:
        """Per home of the piece, per type: the same numbers as on the full network."""
        out = np.full((len(self.home_rows), len(types)), np.inf)
        for j, name in enumerate(types):
            sources = np.unique(
                self.facility_nodes[(self.facility_types == name) & (self.facility_nodes >= 0)]
            )
            if len(sources) == 0:
                continue
            at = dijkstra(
                self.graph, directed=True, indices=sources, min_only=True, limit=max_distance
            )
            at[at > max_distance] = np.inf
            out[:, j] = np.where(self.home_nodes >= 0, at[np.maximum(self.home_nodes, 0)], np.inf)
        return out


def partition(
    network: Network,
    facilities: pd.DataFrame,
    homes: pd.DataFrame,
    *,
    by: str,
    max_distance: float,
    type_column: str = "type",
    max_snap: float = MAX_SNAP,
) -> list[Piece]:
    """Cut a nearest-distance problem into one :class:`Piece` per area of ``homes[by]``.

    Each piece keeps the nodes within ``max_distance / network.stretch`` (straight line,
    per axis) of its homes' nodes: a walk of at most ``max_distance`` never leaves that
    box, since no edge is shorter than ``stretch`` times the straight line between its
    ends. So each piece gives exactly the full network's distances for its homes, and the
    pieces can run anywhere (``citycheck.spatial.distributed``). Snapping is done once, on
    the full network. Homes and facilities outside the extent are skipped (``inf``).
    """
    max_distance = _check_distance("max_distance", max_distance)
    if by not in homes.columns:
        raise AccessibilityError(f"the homes have no `{by}` column")
    home_nodes, _ = network.snap(homes, max_snap=max_snap, on_outside="skip")
    fac_nodes, _ = network.snap(facilities, max_snap=max_snap, on_outside="skip")
    kinds = facilities[type_column].astype("string").fillna("").to_numpy(str)
    reach = max_distance / network.stretch if network.stretch > 0 else np.inf
    labels = homes[by].to_numpy()
    pieces = []
    codes, uniques = pd.factorize(labels, sort=True)
    for code, area in enumerate(uniques):
        rows = np.flatnonzero(codes == code)
        own = home_nodes[rows]
        placed = own[own >= 0]
        if len(placed) == 0 or not np.isfinite(reach):
            keep = np.arange(network.n_nodes) if len(placed) else np.zeros(0, np.intp)
        else:
            low = network.xy[placed].min(axis=0) - reach
            high = network.xy[placed].max(axis=0) + reach
            inside = np.all((network.xy >= low) & (network.xy <= high), axis=1)
            keep = np.flatnonzero(inside)
        position = np.full(network.n_nodes, -1, np.intp)
        position[keep] = np.arange(len(keep))
        graph = network.graph[keep][:, keep].tocsr()
        local_fac = np.where(fac_nodes >= 0, position[np.maximum(fac_nodes, 0)], -1)
        in_piece = local_fac >= 0
        pieces.append(
            Piece(
                area=area,
                nodes=keep,
                graph=graph,
                home_rows=rows,
                home_nodes=np.where(own >= 0, position[np.maximum(own, 0)], -1),
                facility_nodes=local_fac[in_piece],
                facility_types=kinds[in_piece],
            )
        )
    return pieces
