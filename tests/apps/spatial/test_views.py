"""Pages of the life-circle analysis: import (GeoJSON with GCJ-02 conversion, refused
files), run as a job, results and gap map, acceptance, exports, who sees what."""

import io
import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from citycheck.collection.models import Source, Value
from citycheck.core.choices import Role
from citycheck.engine.datum import wgs84_to_gcj02
from citycheck.spatial import synthetic
from citycheck.spatial.models import Analysis, Dataset


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def geojson_files(tmp_path, *, gcj=False):
    """The synthetic data as the three files a city would upload (optionally in GCJ-02,
    declared by the user, as AMap-derived data would be)."""
    data = synthetic.nanchang(side=10)
    shift = (lambda x, y: wgs84_to_gcj02(x, y)) if gcj else (lambda x, y: (x, y))
    nodes = data.nodes.set_index("id")
    lines = []
    for u, v in zip(data.edges["u"], data.edges["v"], strict=True):
        xs, ys = shift(nodes.loc[[u, v], "x"].to_numpy(), nodes.loc[[u, v], "y"].to_numpy())
        lines.append(shapely.LineString(np.column_stack([xs, ys])))
    network = gpd.GeoDataFrame(geometry=lines, crs=None if gcj else "EPSG:4326")
    fx, fy = shift(data.facilities["x"].to_numpy(), data.facilities["y"].to_numpy())
    names = (
        data.facilities["type"]
        .map({"kindergarten": "幼儿园", "park": "公园"})
        .fillna(data.facilities["type"])
    )
    facilities = gpd.GeoDataFrame(
        {"类型": names, "面积": data.facilities["area_m2"]},
        geometry=gpd.points_from_xy(fx, fy),
        crs=None if gcj else "EPSG:4326",
    )
    hx, hy = shift(data.homes["x"].to_numpy(), data.homes["y"].to_numpy())
    homes = gpd.GeoDataFrame(
        {
            "人口": data.homes["population"],
            "区县代码": data.homes["county"],
            "街道": data.homes["street"],
            "社区": data.homes["community"],
        },
        geometry=gpd.points_from_xy(hx, hy),
        crs=None if gcj else "EPSG:4326",
    )
    files = {}
    for name, frame in (("network", network), ("facilities", facilities), ("homes", homes)):
        path = tmp_path / f"{name}.geojson"
        frame.to_file(path, driver="GeoJSON", engine="pyogrio")
        files[name] = SimpleUploadedFile(path.name, path.read_bytes())
    return files, data


def test_city_user_imports_runs_sees_map_accepts_and_exports(province, city_user, tmp_path):
    client = client_for(city_user)
    assert client.get("/spatial/").status_code == 200
    files, data = geojson_files(tmp_path, gcj=True)
    response = client.post(
        "/spatial/import/",
        {
            "round": province.open_round.pk,
            "place": "360100",
            "datum": "GCJ-02",
            "name": "高德导出",
            **files,
        },
    )
    dataset = Dataset.objects.get()
    assert response.status_code == 302 and response.url == f"/spatial/datasets/{dataset.pk}/"
    assert dataset.datum == "EPSG:4326" and "GCJ-02 已转换为 WGS84" in dataset.conversions[0]
    assert len(dataset.files) == 3 and all(len(f["sha256"]) == 64 for f in dataset.files)
    # Converted back onto the synthetic WGS84 coordinates within centimetres.
    from citycheck.spatial import services

    homes = services.load_frames(dataset)["homes"]
    assert np.abs(homes["x"].to_numpy() - data.homes["x"].to_numpy()).max() < 1e-6
    page = client.get(f"/spatial/datasets/{dataset.pk}/").content.decode()
    assert "GCJ-02" in page and "运行生活圈分析" in page

    response = client.post(f"/spatial/datasets/{dataset.pk}/run/")
    assert response.status_code == 302 and response.url.startswith("/jobs/")
    analysis = Analysis.objects.get()
    page = client.get(f"/spatial/analyses/{analysis.pk}/?type=market").content.decode()
    assert "缺口地图" in page and "life-circle-map" in page and "东湖区" in page
    marker = '<script id="life-circle-map" type="application/json">'
    start = page.index(marker) + len(marker)
    shown = json.loads(page[start : page.index("</script>", start)])
    assert shown["type"] == "market" and len(shown["homes"]) == len(homes)
    assert len(shown["facilities"]) == (data.facilities["type"] == "market").sum()

    response = client.post(f"/spatial/analyses/{analysis.pk}/accept/")
    assert response.status_code == 302
    assert Value.objects.filter(source=Source.SPATIAL, round=province.open_round).count() == 6

    geojson = client.get(f"/spatial/analyses/{analysis.pk}/export.geojson")
    collection = json.loads(geojson.content)
    communities = set(homes["community"])
    assert {f["properties"]["community"] for f in collection["features"]} == communities
    feature = collection["features"][0]
    assert (
        feature["geometry"]["type"] == "Polygon" and 0 <= feature["properties"]["market_500"] <= 1
    )
    gpkg = client.get(f"/spatial/analyses/{analysis.pk}/export.gpkg")
    path = tmp_path / "out.gpkg"
    path.write_bytes(gpkg.content)
    frame = pyogrio.read_dataframe(path, layer="communities")
    assert len(frame) == len(communities) and "park_radius" in frame.columns


def test_bad_files_are_refused_with_the_reason(province, city_user, tmp_path):
    client = client_for(city_user)
    files, _data = geojson_files(tmp_path)
    files["homes"] = SimpleUploadedFile(
        "homes.geojson", b'{"type": "FeatureCollection", "features": ['
    )
    response = client.post(
        "/spatial/import/",
        {"round": province.open_round.pk, "place": "360100", **files},
        follow=True,
    )
    assert "无法读取文件 homes.geojson" in response.content.decode()
    files, _data = geojson_files(tmp_path)
    files["homes"] = SimpleUploadedFile("homes.exe", b"MZ")
    response = client.post(
        "/spatial/import/",
        {"round": province.open_round.pk, "place": "360100", **files},
        follow=True,
    )
    assert "不支持的文件类型 homes.exe" in response.content.decode()
    assert not Dataset.objects.exists()


def test_unknown_facility_types_are_refused_or_skipped_and_listed(province, city_user, tmp_path):
    client = client_for(city_user)
    files, data = geojson_files(tmp_path)
    frame = gpd.read_file(io.BytesIO(files["facilities"].read()))
    frame.loc[[0, 3], "类型"] = "网吧"
    path = tmp_path / "facilities2.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    form = {
        "round": province.open_round.pk,
        "place": "360100",
        **{k: v for k, v in files.items() if k != "facilities"},
    }
    for upload in form.values():
        if hasattr(upload, "seek"):
            upload.seek(0)
    response = client.post(
        "/spatial/import/",
        {**form, "facilities": SimpleUploadedFile(path.name, path.read_bytes())},
        follow=True,
    )
    text = response.content.decode()
    assert "2 个设施的类型未知（网吧；行 2, 5）" in text and not Dataset.objects.exists()
    for upload in form.values():
        if hasattr(upload, "seek"):
            upload.seek(0)
    client.post(
        "/spatial/import/",
        {
            **form,
            "facilities": SimpleUploadedFile(path.name, path.read_bytes()),
            "skip_unknown": "1",
        },
    )
    dataset = Dataset.objects.get()
    assert (
        "已跳过" in dataset.skipped[0] and dataset.counts["facilities"] == len(data.facilities) - 2
    )


@pytest.mark.parametrize("role", [Role.PUBLIC, Role.COUNTY_ADMIN])
def test_others_do_not_see_the_city_analysis(province, dataset, city_user, role):
    from citycheck.spatial import services

    analysis = services.run_analysis(dataset, acting_user=city_user)
    client = client_for(province.users[role])
    assert client.get(f"/spatial/analyses/{analysis.pk}/").status_code == 404
    assert client.get(f"/spatial/analyses/{analysis.pk}/export.geojson").status_code == 404
    assert client.post(f"/spatial/datasets/{dataset.pk}/run/").status_code == 404
    assert Client().get("/spatial/").status_code == 302  # to the login page


def test_a_zipped_shapefile_import_works(province, city_user, tmp_path):
    import zipfile

    files, data = geojson_files(tmp_path)
    homes = gpd.read_file(io.BytesIO(files["homes"].read()))
    homes = homes.rename(columns={"区县代码": "county", "人口": "pop"})
    homes["county"] = homes["county"].astype(float)  # codes stored as numbers
    homes.to_file(tmp_path / "homes.shp", engine="pyogrio", encoding="utf-8")
    archive = tmp_path / "homes.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for part in tmp_path.glob("homes.*"):
            if part.suffix in {".shp", ".shx", ".dbf", ".prj", ".cpg"}:
                bundle.write(part, part.name)
    files["homes"] = SimpleUploadedFile("homes.zip", archive.read_bytes())
    for upload in files.values():
        upload.seek(0)
    client = client_for(city_user)
    client.post("/spatial/import/", {"round": province.open_round.pk, "place": "360100", **files})
    dataset = Dataset.objects.get()
    assert dataset.counts["homes"] == len(data.homes)
    assert dataset.files[2]["name"] == "homes.zip"


def test_export_without_communities_gives_counties(province, city_user):
    from citycheck.spatial import services

    data = synthetic.nanchang(side=8)
    data.homes["community"] = ""
    data.homes["street"] = ""
    dataset = services.save_dataset(
        province.open_round,
        province.places["city"],
        data,
        name="x",
        format="synthetic",
        acting_user=city_user,
    )
    analysis = services.run_analysis(dataset, acting_user=city_user)
    collection = json.loads(
        client_for(city_user).get(f"/spatial/analyses/{analysis.pk}/export.geojson").content
    )
    assert sorted(f["properties"]["county"] for f in collection["features"]) == ["360102", "360103"]


def test_import_form_with_nonsense_is_refused_politely(province, city_user):
    client = client_for(city_user)
    for form in ({"round": "abc", "place": "360100"}, {"round": "9" * 30, "place": "x" * 300}, {}):
        response = client.post("/spatial/import/", form, follow=True)
        assert (
            response.status_code == 200
            and "请选择您有权填报的体检轮次和地区" in response.content.decode()
        )
    response = client.post(
        "/spatial/import/", {"round": province.open_round.pk, "place": "360100"}, follow=True
    )
    assert "请同时提供路网、设施和住宅三个文件" in response.content.decode()
