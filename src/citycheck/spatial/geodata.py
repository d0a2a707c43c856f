"""Reading walking networks, facilities and homes from OSM PBF, GeoPackage, GeoJSON or
Shapefile into the frames of :class:`citycheck.engine.accessibility.Network`.

Nothing here touches the database. Coordinates end in longitude/latitude on one datum
(WGS84 EPSG:4326 or CGCS2000 EPSG:4490): projected files are transformed with pyproj
(``places.geo.to_lonlat``, the same rules as boundaries); GCJ-02 files, declared by the
user, are converted explicitly to WGS84 (``citycheck.engine.datum.gcj02_to_wgs84``) and
the conversion is recorded; files on different datums are refused, never mixed.

Facility types come from ``data/spatial/facility_types.yaml`` (editable by the province):
OSM tags for PBF files, the names of a type field for other files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from django.utils.translation import gettext as _
from pyproj import Geod

from citycheck.engine.datum import gcj02_to_wgs84
from citycheck.places import geo

WGS84, CGCS2000, GCJ02 = geo.WGS84, geo.CGCS2000, geo.GCJ02
_GEOD = Geod(ellps="WGS84")

HOME_FIELDS = {
    "population": ["population", "pop", "residents", "人口", "居住人口", "常住人口"],
    "county": ["county", "county_code", "区县", "区县代码", "县区代码"],
    "street": ["street", "街道", "乡镇街道"],
    "community": ["community", "社区", "社区名称"],
}
FACILITY_FIELDS = {
    "type": ["type", "facility_type", "类型", "设施类型"],
    "name": ["name", "名称"],
    "capacity": ["capacity", "规模", "学位", "床位"],
    "area_m2": ["area_m2", "面积", "占地面积"],
}


class GeodataError(ValueError):
    """A geodata file that cannot be used; the message names the file, and the rows."""


@dataclass
class FacilityTypes:
    """The province's facility types, bands, park radii and indicator mapping."""

    types: dict
    bands: list
    park_radius: list
    indicators: list
    walking_speed: float

    @property
    def codes(self) -> list[str]:
        return list(self.types)

    def label(self, code: str) -> str:
        from citycheck.core.language import localized

        spec = self.types.get(code, {})
        return localized(spec.get("name_zh", code), spec.get("name_en", ""))

    def classify_tags(self, frame: pd.DataFrame) -> pd.Series:
        """The type of each OSM feature (first matching rule), NA where none matches."""
        result = pd.Series(pd.NA, index=frame.index, dtype="string")
        for code, spec in self.types.items():
            hit = np.zeros(len(frame), bool)
            for key, values in (spec.get("osm") or {}).items():
                if key in frame.columns:
                    hit |= (
                        frame[key]
                        .astype("string")
                        .isin([str(v) for v in values])
                        .fillna(False)
                        .to_numpy(bool)
                    )
            result = result.mask(result.isna() & hit, code)
        return result

    def classify_names(self, names: pd.Series) -> pd.Series:
        """The type code for each name given in a file (a code or one of its names)."""
        lookup = {}
        for code, spec in self.types.items():
            for name in [
                code,
                spec.get("name_zh", ""),
                spec.get("name_en", ""),
                *spec.get("names", []),
            ]:
                lookup[_key(name)] = code
        return names.map(lambda n: lookup.get(_key(n)) if isinstance(n, str) else None).astype(
            "string"
        )

    def radius_for_area(self, area_m2) -> np.ndarray:
        """Service radius (m) of parks by area (m²); 0 for parks below every row."""
        area = np.asarray(area_m2, float)
        radius = np.zeros(len(area))
        for row in sorted(self.park_radius, key=lambda r: r["min_area_m2"]):
            radius = np.where(area >= row["min_area_m2"], float(row["radius"]), radius)
        return radius


def _key(name) -> str:
    return str(name).strip().lower().replace(" ", "").replace("_", "")


def load_facility_types(path=None) -> FacilityTypes:
    """Read and check the facility-type file; the message names the entry at fault."""
    path = Path(path or default_types_file())
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise GeodataError(
            _("无法读取设施类型文件 %(path)s：%(error)s") % {"path": path, "error": error}
        ) from error
    if not isinstance(data, dict) or not isinstance(data.get("types"), dict) or not data["types"]:
        raise GeodataError(_("设施类型文件 %(path)s 缺少 types") % {"path": path})
    for code, spec in data["types"].items():
        if not isinstance(spec, dict) or not spec.get("name_zh"):
            raise GeodataError(_("设施类型 %(code)s 缺少中文名称 name_zh") % {"code": code})
    for row in data.get("indicators", []):
        if row.get("type") not in data["types"] or row.get("measure") not in ("band", "radius"):
            raise GeodataError(_("指标映射 %(row)s 的设施类型或计算方式无效") % {"row": row})
    return FacilityTypes(
        types=data["types"],
        bands=[float(b) for b in data.get("bands", [300, 500, 1000])],
        park_radius=list(data.get("park_radius", [])),
        indicators=list(data.get("indicators", [])),
        walking_speed=float(data.get("walking_speed_m_per_min", 67)),
    )


def default_types_file() -> Path:
    return Path(__file__).resolve().parents[3] / "data" / "spatial" / "facility_types.yaml"


# --------------------------------------------------------------------------- reading


@dataclass
class Geodata:
    """What an import produced: engine frames in lon/lat on ``datum`` and what was done."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    facilities: pd.DataFrame
    homes: pd.DataFrame
    datum: str
    files: list = field(default_factory=list)
    conversions: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


def file_digest(path) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    path = Path(path)
    return {"name": path.name, "sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def read_osm(path, types: FacilityTypes) -> Geodata:
    """Walking network, typed facilities and buildings (as homes, one per building, with
    ``population`` 1 unless the building gives ``population``) from an OSM PBF file."""
    import pyrosm

    path = Path(path)
    try:
        osm = pyrosm.OSM(str(path))
        nodes, edges = osm.get_network(network_type="walking", nodes=True)
    except Exception as error:  # pyrosm raises many kinds for a bad file
        raise GeodataError(
            _("无法读取 OSM 文件 %(name)s：%(error)s") % {"name": path.name, "error": error}
        ) from error
    if nodes is None or edges is None or len(nodes) == 0:
        raise GeodataError(_("OSM 文件 %(name)s 中没有步行路网") % {"name": path.name})
    filters = {}
    for spec in types.types.values():
        for key, values in (spec.get("osm") or {}).items():
            filters.setdefault(key, set()).update(values)
    pois = osm.get_pois(custom_filter={k: sorted(v) for k, v in filters.items()})
    pois = (
        gpd.GeoDataFrame(columns=["geometry"], geometry="geometry", crs=WGS84)
        if pois is None
        else pois
    )
    kind = types.classify_tags(pd.DataFrame(pois.drop(columns="geometry")))
    pois = pois[kind.notna().to_numpy()].copy()
    pois["type"] = kind.dropna().to_numpy()
    facilities = _facility_frame(pois, types)
    buildings = osm.get_buildings()
    homes = _point_frame(
        buildings if buildings is not None else gpd.GeoDataFrame(geometry=[], crs=WGS84)
    )
    homes["population"] = 1.0
    network_nodes = pd.DataFrame(
        {
            "id": nodes["id"].to_numpy(),
            "x": nodes["lon"].to_numpy(float),
            "y": nodes["lat"].to_numpy(float),
        }
    )
    # Walking: both ways on every way (OSM oneway tags concern vehicles).
    network_edges = pd.DataFrame(
        {
            "u": edges["u"].to_numpy(),
            "v": edges["v"].to_numpy(),
            "length": edges["length"].to_numpy(float),
        }
    )
    return Geodata(
        network_nodes, network_edges, facilities, homes, WGS84, files=[file_digest(path)]
    )


def _point_frame(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """x, y of each feature (polygons: a point inside) plus its attributes."""
    if len(frame) == 0:
        return pd.DataFrame({"x": pd.Series(dtype=float), "y": pd.Series(dtype=float)})
    points = shapely.point_on_surface(frame.geometry.to_numpy())
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    out["x"] = shapely.get_x(points)
    out["y"] = shapely.get_y(points)
    return out.reset_index(drop=True)


def _facility_frame(frame: gpd.GeoDataFrame, types: FacilityTypes) -> pd.DataFrame:
    out = _point_frame(frame)
    if len(frame):
        area = np.array(
            [
                abs(_GEOD.geometry_area_perimeter(g)[0]) if g is not None else 0.0
                for g in frame.geometry.to_numpy()
            ]
        )
    else:
        area = np.zeros(0)
    if "area_m2" not in out.columns:
        out["area_m2"] = area
    out["radius"] = (
        np.where(out["type"] == "park", types.radius_for_area(out["area_m2"].fillna(0)), np.nan)
        if len(out)
        else []
    )
    keep = [
        c for c in ("x", "y", "type", "name", "capacity", "area_m2", "radius") if c in out.columns
    ]
    return out[keep]


def read_layer(path, *, datum=None, layer=None) -> tuple[gpd.GeoDataFrame, str, list]:
    """A GeoPackage / GeoJSON / Shapefile in lon/lat, its datum and the conversions made.

    A GCJ-02 file (``datum="GCJ-02"``) is converted to WGS84 and the conversion listed.
    """
    path = Path(path)
    try:
        source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else path
        frame = gpd.read_file(source, layer=layer, engine="pyogrio")
    except Exception as error:  # pyogrio raises several error types for unreadable files
        raise GeodataError(
            _("无法读取文件 %(name)s：%(error)s") % {"name": path.name, "error": error}
        ) from error
    try:
        frame, label = geo.to_lonlat(frame, datum=datum, name=path.name)
    except geo.PlacesDataError as error:
        raise GeodataError(str(error)) from error
    conversions = []
    if label == GCJ02:
        frame = frame.set_geometry(
            shapely.transform(
                frame.geometry.to_numpy(),
                lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])),
            )
        ).set_crs(WGS84, allow_override=True)
        label = WGS84
        conversions.append(
            _("%(name)s：GCJ-02 已转换为 WGS84（%(count)d 个要素，迭代反算，误差约 1 厘米）")
            % {"name": path.name, "count": len(frame)}
        )
    return frame, label, conversions


def _pick(frame, wanted: dict, path: Path, required=()) -> dict:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    found = {}
    for target, names in wanted.items():
        for name in names:
            if name.lower() in lower:
                found[target] = lower[name.lower()]
                break
        if target in required and target not in found:
            raise GeodataError(
                _("%(name)s 缺少字段 %(field)s（可用名称：%(names)s）")
                % {"name": path.name, "field": target, "names": "、".join(names)}
            )
    return found


def read_files(
    network, facilities, homes, types: FacilityTypes, *, datum=None, skip_unknown=False
) -> Geodata:
    """The three files of an import (network lines, facility points or polygons, home
    points or polygons with population and county) as one :class:`Geodata`."""
    paths = {
        k: Path(p) for k, p in (("network", network), ("facilities", facilities), ("homes", homes))
    }
    layers, datums, conversions = {}, {}, []
    for kind, path in paths.items():
        layers[kind], datums[kind], made = read_layer(path, datum=datum)
        conversions += made
    if len(set(datums.values())) > 1:
        raise GeodataError(
            _("文件的坐标系不一致（%(list)s）：请先统一为 WGS84 或 CGCS2000，不会混用")
            % {"list": "，".join(f"{paths[k].name}: {d}" for k, d in datums.items())}
        )
    nodes, edges = _network_from_lines(layers["network"], paths["network"])
    fac_layer = layers["facilities"]
    columns = _pick(fac_layer, FACILITY_FIELDS, paths["facilities"], required=("type",))
    kind = types.classify_names(fac_layer[columns["type"]])
    skipped = []
    unknown = kind.isna().to_numpy()
    if unknown.any():
        rows = [int(i) + 2 for i in np.flatnonzero(unknown)[:10]]
        names = sorted({str(v) for v in fac_layer[columns["type"]][unknown]})[:10]
        message = _("%(name)s 中 %(count)d 个设施的类型未知（%(types)s；行 %(rows)s）") % {
            "name": paths["facilities"].name,
            "count": int(unknown.sum()),
            "types": "、".join(names),
            "rows": ", ".join(map(str, rows)),
        }
        if not skip_unknown:
            raise GeodataError(
                message + _("；可在 data/spatial/facility_types.yaml 中增加类型，或选择跳过这些行")
            )
        skipped.append(message + _("，已跳过"))
    fac = fac_layer[~unknown].rename(columns={v: k for k, v in columns.items()})
    fac["type"] = kind[~unknown].to_numpy()
    facilities_frame = _facility_frame(fac, types)
    home_layer = layers["homes"]
    columns = _pick(home_layer, HOME_FIELDS, paths["homes"], required=("population", "county"))
    home = _point_frame(home_layer.rename(columns={v: k for k, v in columns.items()}))
    population = pd.to_numeric(home["population"], errors="coerce")
    bad = population.isna() | (population < 0)
    if bad.any():
        raise GeodataError(
            _("%(name)s 中 %(count)d 处住宅的人口缺失或为负（行 %(rows)s）")
            % {
                "name": paths["homes"].name,
                "count": int(bad.sum()),
                "rows": ", ".join(str(int(i) + 2) for i in np.flatnonzero(bad)[:10]),
            }
        )
    home["population"] = population.astype(float)
    county = home["county"]
    if pd.api.types.is_float_dtype(county):  # codes read as numbers: 360102.0 -> "360102"
        county = county.astype("Int64")
    home["county"] = county.astype(str).str.strip()
    for level in ("street", "community"):
        home[level] = home[level].astype(str).str.strip() if level in home.columns else ""
    homes_frame = home[["x", "y", "population", "county", "street", "community"]]
    return Geodata(
        nodes,
        edges,
        facilities_frame,
        homes_frame,
        next(iter(datums.values())),
        files=[file_digest(p) for p in paths.values()],
        conversions=conversions,
        skipped=skipped,
    )


def _network_from_lines(frame: gpd.GeoDataFrame, path: Path):
    """Nodes at line ends (joined within 1e-7°, about 1 cm) and one edge per line, its
    length geodesic in metres. Lines must be split at crossings (as in OSM exports)."""
    geoms = frame.geometry.to_numpy()
    kinds = shapely.get_type_id(geoms)
    if len(geoms) == 0 or not np.isin(kinds, [1, 5]).all():
        raise GeodataError(_("%(name)s 应为路网线要素（LineString）") % {"name": path.name})
    lines = shapely.line_merge(geoms)
    starts = shapely.get_point(lines, 0)
    ends = shapely.get_point(lines, -1)
    bad = shapely.is_missing(starts) | shapely.is_missing(ends)
    if bad.any():
        raise GeodataError(
            _("%(name)s 中的路段不连续（多段线，行 %(rows)s）")
            % {
                "name": path.name,
                "rows": ", ".join(str(int(i) + 2) for i in np.flatnonzero(bad)[:10]),
            }
        )
    xy = np.vstack([shapely.get_coordinates(starts), shapely.get_coordinates(ends)])
    keys = np.round(xy, 7)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    n = len(geoms)
    length = np.array([_GEOD.geometry_length(g) for g in lines])
    edges = pd.DataFrame({"u": inverse[:n], "v": inverse[n:], "length": length})
    for column in ("oneway", "单行"):
        if column in frame.columns:
            edges["oneway"] = (
                frame[column].astype(str).str.lower().isin(["1", "true", "yes", "是"]).to_numpy()
            )
    nodes = pd.DataFrame({"id": np.arange(len(unique)), "x": unique[:, 0], "y": unique[:, 1]})
    return nodes, edges
