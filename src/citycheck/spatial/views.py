"""Pages of the life-circle analysis: import, run (a job), results table and gap map,
acceptance, GeoJSON / GeoPackage export of the results joined to communities.

Every row comes through ``restrict(user, action)``; objects out of reach answer 404.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citycheck.collection.models import Round, RoundStatus
from citycheck.collection.services import CheckStepError
from citycheck.core.choices import Action
from citycheck.core.jobs import TooManyJobsError
from citycheck.engine.accessibility import EngineError
from citycheck.places.models import Place, PlaceLevel

from . import services
from .geodata import GeodataError, load_facility_types
from .models import Analysis, AreaResult, Dataset

MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # per file
MAP_POINTS = 20_000  # homes drawn on the map at most (a regular sample beyond)
UPLOAD_SUFFIXES = {".pbf", ".gpkg", ".geojson", ".json", ".zip"}


def _datasets(user, action=Action.VIEW):
    return Dataset.objects.restrict(user, action).select_related("round", "place")


def _analysis(user, pk, action=Action.VIEW) -> Analysis:
    analysis = (
        Analysis.objects.restrict(user, action)
        .select_related("dataset__round", "dataset__place", "created_by", "accepted_by")
        .filter(pk=pk)
        .first()
    )
    if analysis is None:
        raise Http404
    return analysis


@login_required
def index(request):
    """Data sets and analyses in reach, and the import form."""
    places = Place.objects.restrict(request.user, Action.CHANGE).exclude(level=PlaceLevel.PROVINCE)
    rounds = Round.objects.restrict(request.user, Action.CHANGE).filter(status=RoundStatus.OPEN)
    datasets = _datasets(request.user)[:50]
    analyses = Analysis.objects.restrict(request.user).select_related(
        "dataset__place", "dataset__round"
    )[:50]
    return render(
        request,
        "spatial/index.html",
        {
            "datasets": datasets,
            "analyses": analyses,
            "places": places.order_by("code")[:200],
            "rounds": rounds,
            "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        },
    )


def _saved_upload(upload, folder: Path) -> Path:
    if upload.size > MAX_UPLOAD_BYTES:
        raise GeodataError(
            _("文件 %(name)s 超过 %(mb)d MB 的上限")
            % {"name": upload.name, "mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    name = Path(upload.name).name
    suffix = (
        "".join(Path(name).suffixes[-2:])
        if name.endswith(".osm.pbf")
        else Path(name).suffix.lower()
    )
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise GeodataError(
            _(
                "不支持的文件类型 %(name)s：请上传 .osm.pbf、.gpkg、.geojson 或压缩的 Shapefile（.zip）"
            )
            % {"name": name}
        )
    path = folder / (Path(name).stem.replace(".osm", "") + suffix)
    with open(path, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path  # a zipped Shapefile (.zip) is read through GDAL's zip support


@login_required
@require_POST
def import_data(request):
    """Import an OSM PBF file or three GIS files for a place and an open round."""
    round_id = request.POST.get("round", "")
    round_ = (
        Round.objects.restrict(request.user, Action.CHANGE).filter(pk=int(round_id)).first()
        if round_id.isdigit() and len(round_id) < 10
        else None
    )
    place = (
        Place.objects.restrict(request.user, Action.CHANGE)
        .filter(code=request.POST.get("place", ""))
        .first()
    )
    if round_ is None or place is None:
        messages.error(request, _("请选择您有权填报的体检轮次和地区"))
        return redirect("spatial:index")
    files = request.FILES
    try:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            saved = {
                key: _saved_upload(files[key], folder)
                for key in ("osm", "network", "facilities", "homes")
                if key in files
            }
            dataset = services.import_files(
                round_,
                place,
                acting_user=request.user,
                osm=saved.get("osm"),
                network=saved.get("network"),
                facilities=saved.get("facilities"),
                homes=saved.get("homes"),
                datum=request.POST.get("datum") or None,
                skip_unknown=bool(request.POST.get("skip_unknown")),
                name=request.POST.get("name", "").strip()[:200],
            )
    except (GeodataError, services.SpatialError, EngineError) as error:
        messages.error(request, str(error))
        return redirect("spatial:index")
    messages.success(request, _("已导入 %(name)s") % {"name": dataset.name})
    for line in dataset.conversions + dataset.skipped:
        messages.info(request, line)
    return redirect("spatial:dataset", pk=dataset.pk)


@login_required
def dataset_detail(request, pk: int):
    dataset = _datasets(request.user).filter(pk=pk).first()
    if dataset is None:
        raise Http404
    may_run = _datasets(request.user, Action.CHANGE).filter(pk=pk).exists()
    return render(
        request,
        "spatial/dataset.html",
        {"dataset": dataset, "analyses": dataset.analyses.all()[:20], "may_run": may_run},
    )


@login_required
@require_POST
def run(request, pk: int):
    dataset = _datasets(request.user, Action.CHANGE).filter(pk=pk).first()
    if dataset is None:
        raise Http404
    try:
        job = services.start_analysis(dataset, acting_user=request.user)
    except TooManyJobsError as error:
        messages.error(request, str(error))
        return redirect("spatial:dataset", pk=pk)
    return redirect("job", pk=job.pk)


def results_table(analysis: Analysis, level: str = "county", types=None) -> dict:
    """The rows of the results table: one per area and facility type, with the shares per
    band and within the service radius (parks)."""
    types = types or load_facility_types()
    rows = AreaResult.objects.filter(analysis=analysis, level=level).order_by(
        "area", "facility_type", "band"
    )
    table: dict = {}
    for result in rows:
        key = (result.area, result.facility_type)
        entry = table.setdefault(
            key,
            {
                "area": result.area,
                "type": result.facility_type,
                "label": types.label(result.facility_type),
                "population": result.population,
                "shares": {},
            },
        )
        entry["shares"]["radius" if result.band == 0 else f"{result.band:g}"] = result.share
    order = {code: i for i, code in enumerate(types.codes)}
    names = dict(
        Place.objects.filter(code__in={k[0] for k in table}).values_list("code", "name_zh")
    )
    out = []
    for entry in sorted(table.values(), key=lambda e: (e["area"], order.get(e["type"], 99))):
        entry["area_name"] = names.get(entry["area"], entry["area"])
        entry["cells"] = [entry["shares"].get(f"{b:g}") for b in types.bands]
        entry["radius"] = entry["shares"].get("radius")
        out.append(entry)
    return {"rows": out, "bands": types.bands}


def map_data(analysis: Analysis, facility_type: str, types=None) -> dict:
    """Homes (x, y, metres to the nearest facility of the type, population), facilities of
    the type, and the band limits, for the gap map."""
    types = types or load_facility_types()
    homes = services.home_distances(analysis)
    if facility_type not in homes.columns:
        facility_type = types.codes[0]
    if len(homes) > MAP_POINTS:
        homes = homes.iloc[np.linspace(0, len(homes) - 1, MAP_POINTS).astype(int)]
    distance = homes[facility_type].round(0)
    frames = services.load_frames(analysis.dataset)
    facilities = frames["facilities"][frames["facilities"]["type"] == facility_type]
    return {
        "type": facility_type,
        "label": types.label(facility_type),
        "bands": types.bands,
        "homes": [
            [round(x, 6), round(y, 6), None if pd.isna(d) else float(d), float(p)]
            for x, y, d, p in zip(
                homes["x"], homes["y"], distance, homes["population"], strict=True
            )
        ],
        "facilities": [
            [round(x, 6), round(y, 6)]
            for x, y in zip(facilities["x"], facilities["y"], strict=True)
        ],
        "gap_population": float(
            homes["population"][distance.isna() | (distance > max(types.bands))].sum()
        ),
    }


@login_required
def analysis_detail(request, pk: int):
    analysis = _analysis(request.user, pk)
    types = load_facility_types()
    level = request.GET.get("level", "county")
    if level not in AreaResult.Level.values:
        level = "county"
    facility_type = request.GET.get("type", "kindergarten")
    if facility_type not in types.codes:
        facility_type = types.codes[0]
    may_accept = (
        analysis.dataset.round.status == RoundStatus.OPEN
        and Analysis.objects.restrict(request.user, Action.CHANGE).filter(pk=pk).exists()
    )
    return render(
        request,
        "spatial/analysis.html",
        {
            "analysis": analysis,
            "table": results_table(analysis, level, types),
            "level": level,
            "levels": AreaResult.Level.choices,
            "map": map_data(analysis, facility_type, types),
            "types": [(code, types.label(code)) for code in types.codes],
            "facility_type": facility_type,
            "may_accept": may_accept,
            "values": services.indicator_values(analysis, types) if may_accept else [],
        },
    )


@login_required
@require_POST
def accept(request, pk: int):
    analysis = _analysis(request.user, pk, Action.CHANGE)
    try:
        changed = services.accept_analysis(analysis, acting_user=request.user)
    except (services.SpatialError, CheckStepError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("已采用为本轮空间分析数据（%(count)d 项有变化）") % {"count": changed}
        )
    return redirect("spatial:analysis", pk=pk)


def communities_frame(analysis: Analysis, types=None):
    """The results joined to communities: one feature per community (the convex hull of
    its homes, widened by 30 m), with its population and the share of each type and band.
    Data without communities (OSM) give one feature per county instead."""
    import geopandas as gpd
    import shapely

    homes = services.home_distances(analysis)
    columns = ["area", "county", "facility_type", "band", "share", "population"]
    level = "community"
    rows = AreaResult.objects.filter(analysis=analysis, level=level).values(*columns)
    if not rows.exists():
        level = "county"
        rows = AreaResult.objects.filter(analysis=analysis, level=level).values(*columns)
    table = pd.DataFrame.from_records(rows, columns=columns)
    table["column"] = np.where(
        table["band"] == 0,
        table["facility_type"] + "_radius",
        table["facility_type"] + "_" + table["band"].map("{:g}".format),
    )
    wide = table.pivot_table(index="area", columns="column", values="share", aggfunc="first")
    info = table.groupby("area")[["county", "population"]].first()
    if level == "county":
        info = info.drop(columns="county")
    datum = analysis.dataset.datum
    points = gpd.GeoDataFrame(homes, geometry=gpd.points_from_xy(homes["x"], homes["y"]), crs=datum)
    projected = points.to_crs(points.estimate_utm_crs())
    hulls = projected.groupby(level).geometry.apply(
        lambda g: shapely.convex_hull(shapely.MultiPoint(list(g))).buffer(30)
    )
    shapes = gpd.GeoDataFrame(geometry=hulls, crs=projected.crs).to_crs(datum)
    frame = shapes.join(info, how="inner").join(wide)
    frame.index.name = level
    return frame.reset_index()


@login_required
def export(request, pk: int, fmt: str):
    analysis = _analysis(request.user, pk)
    frame = communities_frame(analysis)
    name = f"life-circle-{analysis.dataset.place.code}-{analysis.dataset.round.year}-{analysis.pk}"
    if fmt == "geojson":
        response = HttpResponse(
            frame.to_json(drop_id=True, ensure_ascii=False), content_type="application/geo+json"
        )
    elif fmt == "gpkg":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{name}.gpkg"
            frame.to_file(path, layer="communities", driver="GPKG", engine="pyogrio")
            response = HttpResponse(
                path.read_bytes(), content_type="application/geopackage+sqlite3"
            )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def report_context(user, place: Place | None, round_: Round) -> dict | None:
    """The life-circle section of a city report: the accepted analysis of ``place`` in
    ``round_`` that ``user`` may see (anyone, once the round is published), its county
    table and the gap map of the facility type worst covered at the largest band. None
    when there is none."""
    if place is None:
        return None
    analysis = (
        Analysis.objects.restrict(user)
        .filter(dataset__place=place, dataset__round=round_, accepted__isnull=False)
        .select_related("dataset")
        .first()
    )
    if analysis is None:
        return None
    types = load_facility_types()
    worst = (
        AreaResult.objects.filter(analysis=analysis, level="city", band=max(types.bands))
        .order_by("share")
        .first()
    )
    facility_type = worst.facility_type if worst else types.codes[0]
    return {
        "analysis": analysis,
        "table": results_table(analysis, "county", types),
        "map": map_data(analysis, facility_type, types),
    }
