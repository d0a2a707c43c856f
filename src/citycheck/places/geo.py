"""Reading boundary files and bringing them to longitude/latitude, with the datum kept.

Nothing here touches the database: :func:`read_boundaries` returns a GeoDataFrame in
longitude/latitude and the datum label that ``places.services.import_boundaries`` stores.

Datums. WGS84 (EPSG:4326) and CGCS2000 (EPSG:4490) differ by centimetres and are both
stored as longitude/latitude under their own label. A projected CRS on one of them (e.g.
CGCS2000 3-degree Gauss-Krüger, EPSG:4547) is transformed with pyproj. GCJ-02, the
offset datum of Chinese web maps (AMap, Tencent), has no EPSG code: files in it usually
declare EPSG:4326 or nothing. It is accepted only when declared (``datum="GCJ-02"``) or
when the file's CRS names it, and is stored flagged, never converted silently: it lies
300–600 m away from WGS84. Any other datum (Xi'an 1980, Beijing 1954) is refused, since
transforming it without local parameters would be wrong by up to ~100 m without saying so.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from django.utils.translation import gettext as _
from pyproj import CRS, Geod

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
GCJ02 = "GCJ-02"
DATUMS = (WGS84, CGCS2000, GCJ02)

# Geodetic datums accepted as longitude/latitude, by the names PROJ gives them.
_LONLAT_DATUM_NAMES = {
    "World Geodetic System 1984": WGS84,
    "World Geodetic System 1984 ensemble": WGS84,
    "China 2000": CGCS2000,
    "China Geodetic Coordinate System 2000": CGCS2000,
}
_GEOD = Geod(ellps="WGS84")
# Stored coordinates are rounded to 1e-6° (about 0.1 m): finer digits only add bytes.
COORDINATE_GRID_DEGREES = 1e-6


class PlacesDataError(ValueError):
    """A division, change or boundary file that cannot be loaded; the message says where."""


def read_boundaries(path, *, datum=None, layer=None):
    """Read a GeoJSON, GeoPackage or Shapefile and return it in longitude/latitude.

    Parameters
    ----------
    path : str or Path
        The file (``.geojson``/``.json``, ``.gpkg``, ``.shp``); anything pyogrio reads.
    datum : {"EPSG:4326", "EPSG:4490", "GCJ-02"}, optional
        The datum of the coordinates when the file does not say it, or ``"GCJ-02"`` for
        files in the offset datum (which no file CRS can declare).
    layer : str, optional
        The layer to read from a multi-layer file (GeoPackage).

    Returns
    -------
    (GeoDataFrame, str)
        The features in longitude/latitude (CRS unset for GCJ-02, else EPSG:4326 or
        EPSG:4490) and the datum label to store.
    """
    path = Path(path)
    if not path.exists():
        raise PlacesDataError(_("边界文件不存在：%(path)s") % {"path": path})
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as error:  # pyogrio raises several error types for unreadable files
        raise PlacesDataError(
            _("无法读取边界文件 %(path)s：%(error)s") % {"path": path, "error": error}
        ) from error
    return to_lonlat(frame, datum=datum, name=str(path))


def to_lonlat(frame, *, datum=None, name="<frame>"):
    """Bring a GeoDataFrame to longitude/latitude; see :func:`read_boundaries`.

    ``name`` is used in error messages (the file the frame came from).
    """
    if datum is not None and datum not in DATUMS:
        raise PlacesDataError(
            _("参数 datum 应为 %(allowed)s 之一，收到 %(datum)r")
            % {"allowed": ", ".join(DATUMS), "datum": datum}
        )
    crs = frame.crs
    if crs is None:
        if datum is None:
            raise PlacesDataError(
                _("%(name)s 没有声明坐标系：请用 datum 参数说明（EPSG:4326、EPSG:4490 或 GCJ-02）")
                % {"name": name}
            )
        return (frame if datum == GCJ02 else frame.set_crs(datum)), datum
    if _names_gcj02(crs) or datum == GCJ02:
        if not crs.is_geographic and not _names_gcj02(crs):
            raise PlacesDataError(
                _("%(name)s 的坐标系 %(crs)s 是投影坐标系，不能同时声明为 GCJ-02")
                % {"name": name, "crs": crs.name}
            )
        return frame.set_crs(None, allow_override=True), GCJ02
    file_datum = lonlat_datum(crs)
    if file_datum is None:
        raise PlacesDataError(
            _(
                "%(name)s 的坐标系 %(crs)s 不基于 WGS84 或 CGCS2000，无法可靠转换；请先转换为 EPSG:4490"
            )
            % {"name": name, "crs": crs.name}
        )
    if datum is not None and datum != file_datum:
        raise PlacesDataError(
            _("%(name)s 声明的坐标系为 %(file_datum)s，与参数 datum=%(datum)s 不符")
            % {"name": name, "file_datum": file_datum, "datum": datum}
        )
    if crs.is_geographic and crs.to_epsg() in (4326, 4490):
        return frame, file_datum
    # Projected (or a geographic CRS in other units/axes): transform with pyproj.
    return frame.to_crs(file_datum), file_datum


def lonlat_datum(crs) -> str | None:
    """``"EPSG:4326"`` or ``"EPSG:4490"`` for a CRS on WGS84 or CGCS2000, else None.

    Examples
    --------
    >>> lonlat_datum(CRS("EPSG:4547"))  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
    'EPSG:4490'
    >>> lonlat_datum(CRS("EPSG:32650"))  # WGS 84 / UTM zone 50N
    'EPSG:4326'
    >>> lonlat_datum(CRS("EPSG:4610")) is None  # Xi'an 1980
    True
    """
    crs = CRS(crs)
    geodetic = crs.geodetic_crs
    if geodetic is None or geodetic.datum is None:
        return None
    return _LONLAT_DATUM_NAMES.get(geodetic.datum.name)


def _names_gcj02(crs) -> bool:
    text = f"{crs.name} {crs.datum.name if crs.datum else ''}".upper().replace("-", "")
    return "GCJ02" in text or "GCJ 02" in text


def prepare_geometry(geometry, *, tolerance):
    """Simplify a longitude/latitude geometry for web maps and round its coordinates.

    ``tolerance`` is in degrees (0.0005° ≈ 50 m); 0 keeps every vertex. Topology is
    preserved within the geometry (no self-intersections, no lost rings); borders shared
    with neighbours are simplified independently and may drift apart by up to the tolerance.
    """
    if tolerance:
        geometry = shapely.simplify(geometry, tolerance, preserve_topology=True)
    return shapely.set_precision(geometry, COORDINATE_GRID_DEGREES)


def geodesic_area_km2(geometry) -> float:
    """Area on the WGS84 ellipsoid of a longitude/latitude polygon, in km².

    Examples
    --------
    >>> square = shapely.box(115.0, 28.0, 115.1, 28.1)
    >>> round(geodesic_area_km2(square), 1)
    109.0
    """
    # Geod gives signed areas by ring orientation: orient shells counter-clockwise first.
    area_m2, _perimeter = _GEOD.geometry_area_perimeter(shapely.orient_polygons(geometry))
    return float(area_m2) / 1e6
