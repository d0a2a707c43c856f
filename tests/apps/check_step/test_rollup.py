"""County → city roll-up beside a city's own value, by every roll-up kind of the shipped
systems, with each formula's unit factor (a ratio declared in % is 100 × the quotient)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from django.conf import settings

from citycheck.collection import services
from citycheck.collection.models import BaseFigureValue, Source, Value
from citycheck.collection.rollup import rollup_comparison
from citycheck.engine import formulas
from citycheck.indicators.models import BaseFigure, Rollup
from citycheck.indicators.services import import_system_file, system_frame

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db

CITY = "360100"
COUNTY = "360102"
SHIPPED_SYSTEMS = sorted(
    path
    for path in (Path(settings.DATA_DIR) / "systems").glob("*.yaml")
    if "indicators" in (yaml.safe_load(path.read_text("utf-8")) or {})
)


def counties_of(province):
    return [p for p in province.places.values() if p.parent_id == province.places[CITY].pk]


def open_shipped_round(province, path):
    system = import_system_file(path)
    places = [province.places[CITY], *counties_of(province)]
    round_ = services.open_round(
        year=2024, system=system, places=places, acting_user=province.users["province"]
    )
    return system, round_


def store_figures(round_, place_values: dict) -> None:
    """``{place: {figure code: value}}`` as base figures of the round's year."""
    figures = {f.code: f for f in BaseFigure.objects.all()}
    BaseFigureValue.objects.bulk_create(
        BaseFigureValue(place=place, figure=figures[code], year=round_.year, value=value)
        for place, values in place_values.items()
        for code, value in values.items()
    )


def store_values(round_, system, place_values: dict) -> None:
    """``{place: {indicator code: value}}`` as self-check values."""
    indicators = {i.code: i for i in system.all_indicators()}
    Value.objects.bulk_create(
        Value(
            round=round_,
            place=place,
            indicator=indicators[code],
            source=Source.SELF_CHECK,
            value=value,
        )
        for place, values in place_values.items()
        for code, value in values.items()
    )


def test_rollup_beside_the_citys_own_value(province):
    for code, user in ((COUNTY, "county"), ("360103", "sibling")):
        services.save_values(
            province.round, province.entries(code, GOOD_VALUES), acting_user=province.users[user]
        )
    population = BaseFigure.objects.create(
        code="resident_population", name_zh="常住人口", unit="万人"
    )
    park = BaseFigure.objects.create(code="park_green_area", name_zh="公园绿地面积", unit="公顷")
    urban = BaseFigure.objects.create(
        code="urban_resident_population", name_zh="城区常住人口", unit="万人"
    )
    for code, people, hectares in ((COUNTY, 30.0, 30.0), ("360103", 10.0, 10.0)):
        for figure, value in ((population, people), (park, hectares), (urban, 2.0)):
            BaseFigureValue.objects.create(
                place=province.places[code], figure=figure, year=2024, value=value
            )
    services.save_values(
        province.round,
        province.entries("360103", {"green_space_rate": 30.0}),
        acting_user=province.users["sibling"],
    )
    city_values = {"green_space_rate": 36.0, "schools": 95.0}
    services.save_values(
        province.round, province.entries(CITY, city_values), acting_user=province.users["city"]
    )
    frame = rollup_comparison(
        province.round, province.places[CITY], acting_user=province.users["city"]
    ).set_index("indicator")
    assert frame.loc["schools", "counties"] == 80.0  # sum
    assert bool(frame.loc["schools", "disagrees"])
    assert frame.loc["green_space_rate", "counties"] == pytest.approx(
        (38 * 30 + 30 * 10) / 40
    )  # weighted
    assert not bool(frame.loc["green_space_rate", "disagrees"])
    # ratio of sums: the formula on the counties' summed base figures, (30 + 10) / (2 + 2) * 100
    # (公顷/万人 is already 平方米/人: unit factor 1)
    assert frame.loc["park_green_area_per_capita", "counties"] == pytest.approx(1000.0)


def test_a_ratio_of_sums_skips_counties_missing_one_of_its_figures(province):
    people = BaseFigure.objects.create(
        code="urban_resident_population", name_zh="城区人口", unit="万人"
    )
    park = BaseFigure.objects.create(code="park_green_area", name_zh="公园绿地面积", unit="公顷")
    store = {COUNTY: {park: 30.0, people: 2.0}, "360103": {park: 10.0, people: 2.0}}
    store["360104"] = {park: 500.0}  # no population: summing its area alone would be wrong
    for code, figures in store.items():
        for figure, value in figures.items():
            BaseFigureValue.objects.create(
                place=province.places[code], figure=figure, year=2024, value=value
            )
    frame = rollup_comparison(
        province.round, province.places[CITY], acting_user=province.users["city"]
    ).set_index("indicator")
    assert frame.loc["park_green_area_per_capita", "counties"] == pytest.approx(40 / 4 * 100)


def test_the_demo_case_no_longer_flags_a_percentage_ratio(province):
    """南昌市's development intensity: 74.4 km² built up of 1000 km² is 7.44 %, not 0.0744."""
    system, round_ = open_shipped_round(
        province, Path(settings.DATA_DIR) / "systems/national-2021.yaml"
    )
    counties = counties_of(province)
    built_up = [20.0, 14.4, 10.0, 18.0, 12.0]  # 74.4
    district = [300.0, 150.0, 250.0, 180.0, 120.0]  # 1000
    store_figures(
        round_,
        {
            place: {
                "built_up_area": b,
                "district_area": d,
                "cultural_building_area": 1.0,  # 万平方米
                "resident_population": 10.0,  # 万人
            }
            for place, b, d in zip(counties, built_up, district, strict=True)
        },
    )
    city = province.places[CITY]
    store_values(
        round_,
        system,
        {city: {"regional_development_intensity": 7.44, "cultural_building_area_per_10k": 1000.0}},
    )
    frame = rollup_comparison(round_, city, acting_user=province.users["city"]).set_index(
        "indicator"
    )
    intensity = frame.loc["regional_development_intensity"]
    assert intensity["counties"] == pytest.approx(100 * 74.4 / 1000)
    assert abs(intensity["relative_difference"]) < 1e-12 and not intensity["disagrees"]
    # 5 万平方米 for 50 万人: 1000 平方米 per 万人 (unit factor 10 000)
    culture = frame.loc["cultural_building_area_per_10k"]
    assert culture["counties"] == pytest.approx(1000.0) and not culture["disagrees"]


def test_the_shipped_systems_use_every_rollup_kind():
    kinds = {
        indicator.get("rollup")
        for path in SHIPPED_SYSTEMS
        for indicator in yaml.safe_load(path.read_text("utf-8"))["indicators"]
    }
    assert {Rollup.SUM, Rollup.POPULATION_WEIGHTED_MEAN, Rollup.RATIO_OF_SUMS} <= kinds


@pytest.mark.parametrize("path", SHIPPED_SYSTEMS, ids=lambda path: path.stem)
def test_counties_that_split_the_city_roll_up_to_its_own_value(province, path):
    """Counties whose base figures are an exact split of the city's, whose summed values
    add up to the city's and whose averaged values average to it: every indicator that
    rolls up gives the city's own value, computed as the city's own value is."""
    system, round_ = open_shipped_round(province, path)
    rng = np.random.default_rng(2024)
    city, counties = province.places[CITY], counties_of(province)
    city_figures = {f.code: float(rng.uniform(50, 5000)) for f in BaseFigure.objects.all()}
    shares = rng.dirichlet(np.ones(len(counties)), size=len(city_figures))  # one split per figure
    county_figures = {
        place: {
            code: value * share[i]
            for (code, value), share in zip(city_figures.items(), shares, strict=True)
        }
        for i, place in enumerate(counties)
    }
    store_figures(round_, county_figures)
    population = np.array([county_figures[p]["resident_population"] for p in counties])
    indicators = system_frame(system).set_index("code")
    own, county_values = {}, {place: {} for place in counties}
    for code, row in indicators.iterrows():
        if row["rollup"] == Rollup.RATIO_OF_SUMS:
            own[code] = float(
                formulas.evaluate(row["formula"], pd.DataFrame([city_figures])).iloc[0]
            )
            continue
        if row["rollup"] not in (Rollup.SUM, Rollup.POPULATION_WEIGHTED_MEAN):
            continue
        drawn = rng.uniform(1, 100, len(counties))
        for place, value in zip(counties, drawn, strict=True):
            county_values[place][code] = float(value)
        is_sum = row["rollup"] == Rollup.SUM
        own[code] = float(drawn.sum() if is_sum else np.average(drawn, weights=population))
    store_values(round_, system, {city: own, **county_values})

    frame = rollup_comparison(round_, city, acting_user=province.users["city"])
    checked = frame[frame["indicator"].isin(own)].set_index("indicator")
    assert set(checked.index) == set(own)
    assert checked["counties"].notna().all()
    assert checked["counties"].to_numpy() == pytest.approx(checked["own"].to_numpy(), rel=1e-9)
    assert (checked["relative_difference"].abs() < 1e-9).all()
    assert not checked["disagrees"].any()
    expected_kinds = set(indicators["rollup"]) & {
        Rollup.SUM,
        Rollup.POPULATION_WEIGHTED_MEAN,
        Rollup.RATIO_OF_SUMS,
    }
    assert set(checked["rollup"]) == expected_kinds
