"""The per-save value check keeps a system's indicators and rules between saves and builds
its frames without pivot tables: it never shows an issue a save, an edited indicator or
new rules have made stale, and its frames hold what a pivot table would."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycheck.collection import services
from citycheck.collection.models import Source, Value
from citycheck.collection.validation import _grid, load_rules, validate_round_values

from .conftest import GOOD_VALUES

COUNTY = "360102"


def check(province, stage="save"):
    return validate_round_values(
        province.round,
        source=Source.SELF_CHECK,
        place_ids=[province.places[COUNTY].pk],
        stage=stage,
    )


def save(province, **values):
    services.save_values(
        province.round,
        province.entries(COUNTY, values),
        acting_user=province.users["county"],
    )


def rules_of(issues) -> set:
    return set(zip(issues["indicator"], issues["rule"], strict=True))


@pytest.mark.django_db
def test_each_save_is_checked_against_what_it_stored(province):
    """Errors and nothing else (once, a blank warning came with every error-only check)."""
    save(province, **GOOD_VALUES)
    assert check(province).empty
    save(province, share_b=30.0, schools=12.5)
    assert rules_of(check(province)) == {("share_a", "shares_sum"), ("schools", "integer")}
    save(province, share_b=40.0, schools=12.0)
    assert check(province).empty


@pytest.mark.django_db
def test_an_edited_indicator_is_checked_by_its_new_unit_and_named_by_its_new_name(province):
    save(province, **{**GOOD_VALUES, "resident_total": 50.5})
    assert check(province).empty  # 万人: no integer rule
    indicator = province.indicators["resident_total"]
    indicator.unit, indicator.name_zh = "个", "常住人口数"
    indicator.save()
    issues = check(province)
    assert rules_of(issues) == {("resident_total", "integer")}
    assert issues["message"].iloc[0].startswith("常住人口数：")


@pytest.mark.django_db
def test_new_rules_apply_at_once(province, tmp_path, settings):
    save(province, **GOOD_VALUES)
    assert check(province).empty
    with open(settings.CITYCHECK_VALIDATION_RULES, encoding="utf-8") as shipped_file:
        shipped = shipped_file.read()
    stricter = tmp_path / "stricter.yaml"
    stricter.write_text(
        shipped.replace("\nindicators:\n", "\nindicators:\n  schools: {plausible_low: 50}\n"),
        encoding="utf-8",
    )
    settings.CITYCHECK_VALIDATION_RULES = str(stricter)
    load_rules.cache_clear()
    assert rules_of(check(province)) == {("schools", "plausible")}


@pytest.mark.django_db
def test_last_year_is_the_adopted_value_where_there_is_one(province):
    """2023: the province adopted 10 where the county had reported 20; 16 in 2024 is +60 %
    against what was adopted (beyond the 30 % of the rules), −20 % against the report."""
    earlier = services.open_round(
        year=2023,
        system=province.system,
        places=[province.places[COUNTY]],
        deadline=dt.date(2023, 6, 30),
        acting_user=province.users["province"],
    )
    indicator = province.indicators["park_green_area_per_capita"]
    Value.objects.bulk_create(
        Value(
            round=earlier,
            place=province.places[COUNTY],
            indicator=indicator,
            source=source,
            value=value,
        )
        for source, value in [(Source.SELF_CHECK, 20.0), (Source.ADOPTED, 10.0)]
    )
    save(province, **{**GOOD_VALUES, "park_green_area_per_capita": 16.0})
    issues = check(province)
    change = issues[issues["indicator"] == indicator.code]
    assert change[["rule", "value", "previous"]].values.tolist() == [["year_on_year", 16.0, 10.0]]


CODES = st.sampled_from(["a", "b", "c", "d"])
PLACES = st.sampled_from(["p1", "p2", "p3"])
VALUE = st.one_of(st.none(), st.just(float("nan")), st.floats(-1e6, 1e6))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(PLACES, CODES, VALUE), max_size=20))
def test_the_grid_holds_what_a_pivot_table_takes_first(rows):
    """Every cell is the first value given for it (missing values skipped), as the pivot
    table the check used before had it, and NaN where none was given."""
    index, columns = ["p1", "p2", "p3"], ["a", "b", "c", "d"]
    expected = np.full((3, 4), np.nan)
    if rows:
        long = pd.DataFrame(rows, columns=["place", "indicator", "value"]).astype({"value": float})
        pivot = long.pivot_table(
            index="place", columns="indicator", values="value", aggfunc="first", dropna=False
        )
        expected = pivot.reindex(index=index, columns=columns).to_numpy()
    np.testing.assert_array_equal(_grid(rows, index, columns), expected)
