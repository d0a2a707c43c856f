"""Life-circle analysis in the platform: import, analysis as a job, acceptance as the
round's spatial values with provenance, reruns, failures, permissions and Dask."""

import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied

from citycheck.collection.models import Source, Value, ValueChange
from citycheck.core.choices import Role
from citycheck.core.models import Job
from citycheck.engine.accessibility import Network
from citycheck.spatial import services, synthetic
from citycheck.spatial.geodata import load_facility_types
from citycheck.spatial.models import Analysis, AreaResult


def test_analysis_job_computes_shares_per_area_and_band(dataset, city_user):
    job = services.start_analysis(dataset, acting_user=city_user)
    assert job.status == Job.Status.SUCCEEDED, job.error
    analysis = Analysis.objects.get(pk=job.result["analysis"])
    frames = services.load_frames(dataset)
    # Independent recomputation of one figure: 东湖区's share within 500 m of a market.
    net = Network(frames["nodes"], frames["edges"])
    markets = frames["facilities"][frames["facilities"]["type"] == "market"]
    homes = frames["homes"]
    distance = net.nearest_distance(markets, homes, 500, on_outside="skip")
    north = (homes["county"] == "360102").to_numpy()
    expected = (
        homes["population"][north & (distance <= 500)].sum() / homes["population"][north].sum()
    )
    row = AreaResult.objects.get(
        analysis=analysis, level="county", area="360102", facility_type="market", band=500
    )
    assert row.share == pytest.approx(expected)
    assert 0 < row.share < 1
    levels = set(AreaResult.objects.filter(analysis=analysis).values_list("level", flat=True))
    assert levels == {"city", "county", "street", "community"}
    # The synthetic gap: no kindergarten in the south-east, so 西湖区 is worse covered.
    share = {
        r.area: r.share
        for r in AreaResult.objects.filter(
            analysis=analysis, level="county", facility_type="kindergarten", band=300
        )
    }
    assert share["360103"] < share["360102"]
    # The island cut off from the streets is reported with its residents.
    assert (
        analysis.summary["components"] >= 2 and analysis.summary["population_off_main_network"] > 0
    )
    assert analysis.parameters["bands"] == [300.0, 500.0, 1000.0]
    assert len(services.home_distances(analysis)) == len(homes)


def test_accepting_writes_spatial_values_with_provenance(province, dataset, city_user):
    analysis = services.run_analysis(dataset, acting_user=city_user)
    changed = services.accept_analysis(analysis, acting_user=city_user)
    values = Value.objects.filter(round=province.open_round, source=Source.SPATIAL)
    # Two indicators, three places (the city and its two districts).
    assert changed == 6 and values.count() == 6
    park = values.get(place=province.places["city"], indicator__code="park_service_coverage")
    city_row = AreaResult.objects.get(analysis=analysis, level="city", facility_type="park", band=0)
    assert park.value == pytest.approx(city_row.share * 100, abs=1e-4)
    assert analysis.digest[:12] in park.note
    assert ValueChange.objects.filter(value=park, channel="spatial", user=city_user).exists()
    analysis.refresh_from_db()
    assert analysis.accepted is not None and analysis.accepted_by == city_user


def test_the_province_may_adopt_the_spatial_value(province, dataset, city_user):
    from citycheck.collection.adoption import adopted_values
    from citycheck.collection.services import adjudicate

    services.accept_analysis(
        services.run_analysis(dataset, acting_user=city_user), acting_user=city_user
    )
    park = Value.objects.get(
        round=province.open_round,
        place=province.places["city"],
        indicator__code="park_service_coverage",
        source=Source.SPATIAL,
    )
    adjudicate(
        province.open_round,
        park.place,
        park.indicator,
        chosen_source=Source.SPATIAL,
        reason="采用生活圈分析结果",
        acting_user=province.users[Role.PROVINCE_ADMIN],
    )
    adopted = adopted_values(province.open_round, place_codes=[park.place.code])
    row = adopted[adopted["indicator"] == "park_service_coverage"].iloc[0]
    assert row["value"] == pytest.approx(park.value) and row["source"] == Source.SPATIAL


def test_rerun_with_same_inputs_gives_same_digest_and_values(province, dataset, city_user):
    first = services.run_analysis(dataset, acting_user=city_user)
    services.accept_analysis(first, acting_user=city_user)
    before = dict(Value.objects.filter(source=Source.SPATIAL).values_list("pk", "value"))
    second = services.run_analysis(dataset, acting_user=city_user)
    assert second.digest == first.digest
    assert services.accept_analysis(second, acting_user=city_user) == 0  # nothing changed
    assert dict(Value.objects.filter(source=Source.SPATIAL).values_list("pk", "value")) == before
    first.refresh_from_db()
    assert first.accepted is None  # only one accepted analysis per place and round


def test_a_failed_job_leaves_no_partial_results(dataset, city_user, monkeypatch):
    def broken(*args, **kwargs):
        raise services.SpatialError("磁盘已满")

    monkeypatch.setattr(AreaResult.objects, "bulk_create", broken)
    job = services.start_analysis(dataset, acting_user=city_user)
    assert job.status == Job.Status.FAILED and "磁盘已满" in job.error
    assert not Analysis.objects.exists() and not AreaResult.objects.exists()


def test_others_may_not_import_analyse_or_accept(province, dataset, city_user):
    other = province.users[Role.COUNTY_ADMIN]  # 东湖区: not the city's data set
    with pytest.raises(PermissionDenied):
        services.start_analysis(dataset, acting_user=other)
    analysis = services.run_analysis(dataset, acting_user=city_user)
    with pytest.raises(PermissionDenied):
        services.accept_analysis(analysis, acting_user=province.users[Role.PUBLIC])
    with pytest.raises(PermissionDenied):
        services.save_dataset(
            province.open_round,
            province.places["other_city"],
            synthetic.nanchang(side=6),
            name="x",
            format="synthetic",
            acting_user=city_user,
        )


def test_closed_round_refuses_acceptance(province, city_user):
    data = synthetic.nanchang(side=8, types=load_facility_types())
    dataset = services.save_dataset(
        province.published_round,
        province.places["city"],
        data,
        name="x",
        format="synthetic",
        acting_user=city_user,
    )
    analysis = services.run_analysis(dataset, acting_user=city_user)
    with pytest.raises(Exception, match="已截止"):
        services.accept_analysis(analysis, acting_user=city_user)
    assert not Value.objects.filter(source=Source.SPATIAL).exists()


def test_homes_of_another_city_are_refused(province, city_user):
    data = synthetic.nanchang(side=6)
    data.homes.loc[0, "county"] = "360402"
    with pytest.raises(services.SpatialError, match="360402"):
        services.save_dataset(
            province.open_round,
            province.places["city"],
            data,
            name="x",
            format="synthetic",
            acting_user=city_user,
        )


def test_osm_import_for_a_county_records_the_file_digest(province):
    """pyrosm's ``test_pbf`` extract (© OpenStreetMap contributors, ODbL 1.0)."""
    import hashlib

    import pyrosm

    path = pyrosm.get_data("test_pbf")
    county_user = province.users[Role.COUNTY_ADMIN]
    dataset = services.import_files(
        province.open_round, province.places["county"], acting_user=county_user, osm=path
    )
    assert dataset.format == "osm" and dataset.datum == "EPSG:4326"
    with open(path, "rb") as handle:
        assert dataset.files[0]["sha256"] == hashlib.sha256(handle.read()).hexdigest()
    assert dataset.counts["nodes"] > 100 and set(
        services.load_frames(dataset)["homes"]["county"]
    ) == {"360102"}
    with pytest.raises(services.SpatialError, match="OSM 数据不带区县"):
        services.import_files(
            province.open_round,
            province.places["city"],
            acting_user=province.users[Role.CITY_ADMIN],
            osm=path,
        )


def test_the_job_on_the_cluster_named_by_the_setting_equals_single_machine(
    dataset, city_user, settings
):
    """Partitioned by county on dask.distributed (a LocalCluster here, a real cluster
    given CITYCHECK_DASK_SCHEDULER): the same distances for every home and the same shares."""
    from dask.distributed import LocalCluster

    single = services.run_analysis(dataset, acting_user=city_user)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        settings.CITYCHECK_DASK_SCHEDULER = cluster.scheduler_address
        job = services.start_analysis(dataset, acting_user=city_user)
    assert job.status == Job.Status.SUCCEEDED, job.error
    distributed = Analysis.objects.get(pk=job.result["analysis"])
    assert distributed.summary["cluster"] and not single.summary["cluster"]
    assert distributed.digest == single.digest

    def shares(analysis):
        return sorted(
            analysis.results.values_list("level", "area", "facility_type", "band", "covered")
        )

    assert shares(distributed) == shares(single)
    pd.testing.assert_frame_equal(
        services.home_distances(distributed), services.home_distances(single)
    )
    # The pieces are real partitions: border homes reach facilities across the county line.
    assert services.home_distances(single)["bus_stop"].notna().mean() > 0.8
