"""The life-circle analysis: import geodata for a round, analyse it (as a job), accept the
results as the round's ``spatial`` values. The only writers of the spatial app.

The computation is :mod:`citycheck.engine.accessibility`; this module stores, permits
and records. An analysis runs in one transaction: a failure leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.collection.models import ChangeChannel, Round, Source
from citycheck.collection.services import ValueEntry, check_writable, write_values
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.models import record_event
from citycheck.engine import accessibility as acc
from citycheck.places.models import Place, PlaceLevel

from . import geodata
from .models import Analysis, AreaResult, Dataset

TABLES = ("nodes", "edges", "facilities", "homes")
ALGORITHM_VERSION = "lifecircle-1"  # bump when the computation changes its figures


class SpatialError(ValueError):
    """A request the analysis cannot serve; the message says why, in the user's language."""


# --------------------------------------------------------------------------- import


def check_may_change(user, place: Place) -> None:
    if user is not None:
        access.check_place(user, place, Action.CHANGE)


def _check_round_place(round_: Round, place: Place) -> None:
    if place.level == PlaceLevel.PROVINCE:
        raise SpatialError(_("生活圈分析按设区市或县（市、区）进行，请选择一个市或县"))
    if not round_.places.filter(pk=place.pk).exists():
        raise SpatialError(
            _("%(place)s 不在 %(round)s 的参与地区中") % {"place": place, "round": round_}
        )


def _pack(frames: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in TABLES:
            part = io.BytesIO()
            frames[name].reset_index(drop=True).to_parquet(part, index=False)
            archive.writestr(f"{name}.parquet", part.getvalue())
    return buffer.getvalue()


def load_frames(dataset: Dataset) -> dict[str, pd.DataFrame]:
    with (
        default_storage.open(dataset.frames, "rb") as handle,
        zipfile.ZipFile(io.BytesIO(handle.read())) as archive,
    ):
        return {
            name: pd.read_parquet(io.BytesIO(archive.read(f"{name}.parquet"))) for name in TABLES
        }


@transaction.atomic
def save_dataset(
    round_: Round, place: Place, data: geodata.Geodata, *, name: str, format: str, acting_user
) -> Dataset:
    """Store imported geodata for ``place`` in ``round_`` after checking it can be analysed
    (a network is built, so bad edges are refused here, not in the job)."""
    check_may_change(acting_user, place)
    _check_round_place(round_, place)
    try:
        acc.Network(data.nodes, data.edges, crs=data.datum)
    except acc.EngineError as error:
        raise SpatialError(_("路网数据有误：%(error)s") % {"error": error}) from error
    homes = data.homes.copy()
    for level in ("county", "street", "community"):
        if level not in homes.columns:
            homes[level] = (
                place.code if level == "county" and place.level == PlaceLevel.COUNTY else ""
            )
        homes[level] = homes[level].astype(str)
    counties = set(
        Place.objects.subtree_of(place)
        .filter(level=PlaceLevel.COUNTY)
        .values_list("code", flat=True)
    )
    counties.add(place.code)
    foreign = sorted(set(homes["county"]) - counties)
    if foreign:
        raise SpatialError(
            _("住宅数据中的区县代码不属于 %(place)s：%(codes)s")
            % {"place": place, "codes": "、".join(foreign[:10])}
        )
    blob = _pack(
        {"nodes": data.nodes, "edges": data.edges, "facilities": data.facilities, "homes": homes}
    )
    dataset = Dataset(
        round=round_,
        place=place,
        name=name,
        format=format,
        datum=data.datum,
        files=data.files,
        conversions=data.conversions,
        skipped=data.skipped,
        counts={
            "nodes": len(data.nodes),
            "edges": len(data.edges),
            "facilities": len(data.facilities),
            "homes": len(homes),
            "population": float(homes["population"].sum()),
        },
        digest=hashlib.sha256(blob).hexdigest(),
        created_by=acting_user,
    )
    dataset.frames = default_storage.save(
        f"spatial/datasets/{round_.pk}/{place.code}/{dataset.digest[:16]}.zip", ContentFile(blob)
    )
    dataset.save()
    record_event(
        dataset,
        "imported",
        acting_user=acting_user,
        data={"files": data.files, "conversions": data.conversions},
    )
    return dataset


def import_files(
    round_: Round,
    place: Place,
    *,
    acting_user,
    osm=None,
    network=None,
    facilities=None,
    homes=None,
    datum=None,
    skip_unknown=False,
    name="",
    types=None,
) -> Dataset:
    """Import an OSM PBF (``osm``) or three GeoPackage/GeoJSON/Shapefile files."""
    check_may_change(acting_user, place)
    _check_round_place(round_, place)
    types = types or geodata.load_facility_types()
    if osm is not None:
        data = geodata.read_osm(osm, types)
        if place.level == PlaceLevel.COUNTY:
            data.homes["county"] = place.code
        else:
            raise SpatialError(
                _("OSM 数据不带区县：请在县（市、区）导入，或用带区县字段的住宅文件")
            )
        fmt = Dataset.Format.OSM
    else:
        if not (network and facilities and homes):
            raise SpatialError(_("请同时提供路网、设施和住宅三个文件"))
        data = geodata.read_files(
            network, facilities, homes, types, datum=datum, skip_unknown=skip_unknown
        )
        fmt = Dataset.Format.FILES
    return save_dataset(
        round_,
        place,
        data,
        name=name or Path(str(osm or homes)).name,
        format=fmt,
        acting_user=acting_user,
    )


# --------------------------------------------------------------------------- analysis


def parameters_for(types: geodata.FacilityTypes) -> dict:
    return {
        "bands": types.bands,
        "max_distance": max(types.bands + [r["radius"] for r in types.park_radius] or [1000.0]),
        "max_snap": acc.MAX_SNAP,
        "types": types.codes,
        "park_radius": types.park_radius,
        "walking_speed_m_per_min": types.walking_speed,
        "types_digest": hashlib.sha256(
            json.dumps(types.types, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest(),
    }


def code_version() -> str:
    from citycheck.assessment.services import code_version as assessment_code_version

    return f"{assessment_code_version()} {ALGORITHM_VERSION}"


def start_analysis(dataset: Dataset, *, acting_user):
    """Start the analysis of ``dataset`` as a background job (an identical request joins it)."""
    from citycheck.core.jobs import start_job

    from . import jobs  # noqa: F401  (registers the job kind)

    check_may_change(acting_user, dataset.place)
    return start_job("spatial.analyse", acting_user=acting_user, dataset_id=dataset.pk)


def compute(
    frames: dict, parameters: dict, *, report=None, client=None
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The engine part: per-home distances (and park coverage), area shares, summary.

    ``client``: a dask.distributed client; the work is then partitioned by county.
    """
    report = report or (lambda percent, message="": None)
    homes, facilities = frames["homes"], frames["facilities"]
    network = acc.Network(frames["nodes"], frames["edges"], crs=frames.get("crs", "EPSG:4326"))
    report(20, _("路网已建立"))
    types = parameters["types"]
    max_distance = float(parameters["max_distance"])
    known = facilities["type"].isin(types)
    facilities = facilities[known.to_numpy()]
    fac_nodes, _snap = network.snap(facilities, max_snap=parameters["max_snap"], on_outside="skip")
    outside_facilities = int((fac_nodes < 0).sum())
    if client is not None:
        from .distributed import distances_on_dask

        distances = distances_on_dask(
            network,
            facilities,
            homes,
            types=types,
            max_distance=max_distance,
            by="county",
            client=client,
        )
    else:
        distances = network.nearest_distances(
            facilities,
            homes,
            max_distance,
            types=types,
            max_snap=parameters["max_snap"],
            on_outside="skip",
        )
    report(60, _("距离已计算"))
    radius = facilities.get("radius")
    parks = (
        facilities[(radius.fillna(0) > 0).to_numpy()] if radius is not None else facilities.iloc[:0]
    )
    in_radius = (
        network.within_radius(
            parks.assign(radius=parks["radius"]),
            homes,
            max_snap=parameters["max_snap"],
            on_outside="skip",
        )
        if len(parks)
        else np.zeros(len(homes), bool)
    )
    distances["park_radius"] = np.where(in_radius, 0.0, np.inf)
    bands = [float(b) for b in parameters["bands"]]
    tables = []
    homes = homes.assign(city="")
    for level, column in (
        ("city", "city"),
        ("county", "county"),
        ("street", "street"),
        ("community", "community"),
    ):
        if level in ("street", "community") and (homes[column] == "").all():
            continue
        by_type = acc.coverage(distances[types], homes, area=column, bands=bands)
        by_radius = acc.coverage(distances[["park_radius"]], homes, area=column, bands=[1.0])
        by_radius["facility_type"], by_radius["band"] = "park", 0.0
        table = pd.concat([by_type, by_radius], ignore_index=True)
        table["level"] = level
        county_of = homes.groupby(column)["county"].first()
        table["county"] = table["area"].map(county_of).fillna("") if level != "city" else ""
        tables.append(table)
    results = pd.concat(tables, ignore_index=True)
    components = network.components(homes)
    home_nodes, _snap = network.snap(homes, max_snap=parameters["max_snap"], on_outside="skip")
    summary = {
        "homes": len(homes),
        "population": float(homes["population"].sum()),
        "homes_outside": int((home_nodes < 0).sum()),
        "facilities_outside": outside_facilities,
        "components": len(components),
        "population_off_main_network": float(components["population"].iloc[1:].sum()),
        "largest_other_components": components.iloc[1:6].reset_index().to_dict("records"),
        "stretch": network.stretch,
    }
    per_home = homes[["x", "y", "population", "county", "street", "community"]].join(distances)
    return per_home, results, summary


def frames_digest(dataset: Dataset, parameters: dict, version: str) -> str:
    text = json.dumps([dataset.digest, parameters, version], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def run_analysis(
    dataset: Dataset, *, acting_user, report=None, client=None, types=None
) -> Analysis:
    """Analyse ``dataset``; everything is written in one transaction or not at all."""
    check_may_change(acting_user, dataset.place)
    report = report or (lambda percent, message="": None)
    types = types or geodata.load_facility_types()
    parameters = parameters_for(types)
    frames = load_frames(dataset)
    frames["crs"] = dataset.datum
    report(10, _("数据已读取"))
    own_client = dask_client() if client is None else None
    try:
        per_home, results, summary = compute(
            frames, parameters, report=report, client=client or own_client
        )
    finally:
        if own_client is not None:
            own_client.close()
    summary["cluster"] = bool(client or own_client)
    version = code_version()
    analysis = Analysis(
        dataset=dataset,
        parameters=parameters,
        code_version=version,
        digest=frames_digest(dataset, parameters, version),
        summary=summary,
        created_by=acting_user,
    )
    buffer = io.BytesIO()
    per_home.replace(np.inf, np.nan).to_parquet(buffer, index=False)
    analysis.homes = default_storage.save(
        f"spatial/analyses/{dataset.pk}/{analysis.digest[:16]}.parquet",
        ContentFile(buffer.getvalue()),
    )
    analysis.save()
    AreaResult.objects.bulk_create(
        AreaResult(
            analysis=analysis,
            level=row.level,
            area=str(row.area if row.level != "city" else dataset.place.code),
            county=str(row.county),
            facility_type=row.facility_type,
            band=float(row.band),
            population=float(row.population),
            covered=float(row.covered),
            share=None if pd.isna(row.share) else float(row.share),
        )
        for row in results.itertuples(index=False)
    )
    report(95, _("结果已保存"))
    record_event(
        analysis,
        "analysed",
        acting_user=acting_user,
        data={"digest": analysis.digest, "dataset": dataset.digest},
    )
    return analysis


def dask_client():
    """A client of the cluster named by ``CITYCHECK_DASK_SCHEDULER`` (setting or
    environment variable), or None to compute in this process."""
    import os

    from django.conf import settings

    address = getattr(settings, "CITYCHECK_DASK_SCHEDULER", None) or os.environ.get(
        "CITYCHECK_DASK_SCHEDULER"
    )
    if not address:
        return None
    from dask.distributed import Client

    return Client(address, timeout="10s")


def home_distances(analysis: Analysis) -> pd.DataFrame:
    with default_storage.open(analysis.homes, "rb") as handle:
        return pd.read_parquet(io.BytesIO(handle.read()))


# --------------------------------------------------------------------------- acceptance


def indicator_values(analysis: Analysis, types=None) -> list[tuple[Place, object, float, str]]:
    """(place, indicator, value in %, note) for the indicators of the round's system that
    the facility-type file maps, for the dataset's place and its counties in the round."""
    types = types or geodata.load_facility_types()
    dataset = analysis.dataset
    round_ = dataset.round
    codes = {row["code"]: row for row in types.indicators}
    indicators = {i.code: i for i in round_.system.all_indicators().filter(code__in=codes)}
    places = {p.code: p for p in round_.places.filter(path__startswith=dataset.place.path)}
    rows = analysis.results.filter(level__in=["city", "county"])
    out = []
    # Provenance from the inputs, not the run: a rerun on the same inputs changes nothing.
    provenance = _("生活圈空间分析；输入摘要 %(digest)s；程序 %(version)s") % {
        "digest": analysis.digest[:16],
        "version": analysis.code_version,
    }
    for code, indicator in sorted(indicators.items()):
        spec = codes[code]
        band = 0.0 if spec["measure"] == "radius" else float(spec["band"])
        for result in rows.filter(facility_type=spec["type"], band=band):
            place = places.get(dataset.place.code if result.level == "city" else result.area)
            if place is None or result.share is None:
                continue
            if result.level == "county" and place.pk == dataset.place.pk:
                continue  # a county's own dataset: its city-level row says the same
            out.append((place, indicator, round(result.share * 100, 4), provenance))
    return out


@transaction.atomic
def accept_analysis(analysis: Analysis, *, acting_user) -> int:
    """Write the analysis's figures as the round's ``spatial`` values (audited, with the
    provenance in the note) and mark it accepted. Returns how many values changed."""
    dataset = analysis.dataset
    check_may_change(acting_user, dataset.place)
    entries_raw = indicator_values(analysis)
    if not entries_raw:
        raise SpatialError(_("本轮指标体系中没有可由生活圈分析计算的指标"))
    places = {p.pk for p, *_rest in entries_raw}
    indicators = {i.pk for _p, i, *_rest in entries_raw}
    check_writable(dataset.round, places, indicators, Source.SPATIAL)
    entries = [ValueEntry(place=p, indicator=i, value=v, note=n) for p, i, v, n in entries_raw]
    _values, changed = write_values(
        dataset.round,
        Source.SPATIAL,
        entries,
        acting_user=acting_user,
        channel=ChangeChannel.SPATIAL,
        reason=_("采用生活圈分析结果"),
    )
    Analysis.objects.filter(dataset__round=dataset.round, dataset__place=dataset.place).exclude(
        pk=analysis.pk
    ).update(accepted=None, accepted_by=None)
    analysis.accepted, analysis.accepted_by = timezone.now(), acting_user
    analysis.save(update_fields=["accepted", "accepted_by", "last_updated"])
    record_event(
        analysis,
        "accepted",
        acting_user=acting_user,
        data={"values": len(entries), "changed": changed},
    )
    return changed
