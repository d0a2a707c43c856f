"""Values and rounds through the REST API: writes go through the check-step service with
optimistic versions; reads are restricted like the pages."""

import pytest

from citycheck.collection.models import Source, Value, ValueChange
from citycheck.core.choices import Role
from citycheck.testing import build_small_province

VALUES = "/api/collection/values/"


@pytest.fixture
def province(db):
    return build_small_province()


@pytest.fixture
def county_client(client, province):
    client.force_login(province.users[Role.COUNTY_ADMIN])
    return client


def test_update_with_current_version_saves_audits_and_bumps_version(county_client, province):
    value = province.value(province.open_round, "county")
    response = county_client.patch(
        f"{VALUES}{value.pk}/",
        {"value": 42.5, "note": "复核", "version": value.version},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["value"] == 42.5 and body["version"] == value.version + 1
    assert body["updated_by"] == Role.COUNTY_ADMIN
    change = ValueChange.objects.get(value=value)
    assert (change.old_value, change.new_value, change.channel) == (value.value, 42.5, "batch")


def test_stale_version_is_refused_with_409_and_nothing_changes(county_client, province):
    value = province.value(province.open_round, "county")
    url = f"{VALUES}{value.pk}/"
    first = county_client.patch(
        url, {"value": 1.0, "version": value.version}, content_type="application/json"
    )
    assert first.status_code == 200
    second = county_client.patch(
        url, {"value": 2.0, "version": value.version}, content_type="application/json"
    )
    assert second.status_code == 409
    value.refresh_from_db()
    assert value.value == 1.0


def test_update_without_version_names_the_field(county_client, province):
    value = province.value(province.open_round, "county")
    response = county_client.patch(
        f"{VALUES}{value.pk}/", {"value": 3.0}, content_type="application/json"
    )
    assert response.status_code == 400 and "version" in response.json()


def test_update_cannot_move_a_value_to_another_place(county_client, province):
    value = province.value(province.open_round, "county")
    response = county_client.patch(
        f"{VALUES}{value.pk}/",
        {"place": province.places["sibling_county"].code, "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 400 and "place" in response.json()


def test_values_of_a_published_round_are_closed(client, province):
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    value = province.value(province.published_round, "county")
    response = client.patch(
        f"{VALUES}{value.pk}/",
        {"value": 5.0, "version": value.version},
        content_type="application/json",
    )
    assert response.status_code == 409


def test_create_in_reach_and_out_of_reach(county_client, province):
    indicator = province.indicators["green_space"]
    Value.objects.filter(round=province.open_round, indicator=indicator).delete()
    payload = {
        "round": province.open_round.pk,
        "indicator": indicator.pk,
        "source": Source.SELF_CHECK,
        "value": 7.0,
    }
    created = county_client.post(
        VALUES,
        {**payload, "place": province.places["county"].code},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["version"] == 1
    # An out-of-reach code reads exactly like an unknown one.
    for code in (province.places["sibling_county"].code, "999999"):
        refused = county_client.post(
            VALUES, {**payload, "place": code}, content_type="application/json"
        )
        assert refused.status_code == 400
        assert "place" in refused.json()
    assert Value.objects.filter(round=province.open_round, indicator=indicator).count() == 1


def test_department_filler_cannot_write_another_departments_indicator(client, province):
    client.force_login(province.users[Role.DEPARTMENT_FILLER])
    value = province.value(province.open_round, "county", indicator="built_density")
    response = client.patch(
        f"{VALUES}{value.pk}/",
        {"value": 1.0, "version": value.version},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_anonymous_reads_only_published_adopted_values(client, province):
    response = client.get(VALUES, {"limit": 1000})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows and {(r["round"], r["source"]) for r in rows} == {
        (province.published_round.pk, Source.ADOPTED)
    }
    assert client.post(VALUES, {}, content_type="application/json").status_code in (401, 403)


def test_value_filters(county_client, province):
    response = county_client.get(
        VALUES, {"round": province.open_round.pk, "source": "self_check", "place": "360102"}
    )
    rows = response.json()["results"]
    assert len(rows) == len(province.indicators)
    assert {r["place"] for r in rows} == {"360102"}


def test_rounds_list_what_is_in_reach_or_published(client, province):
    client.force_login(province.users[Role.PUBLIC])
    years = {r["year"] for r in client.get("/api/collection/rounds/").json()["results"]}
    assert years == {province.published_round.year}
    client.force_login(province.users[Role.COUNTY_ADMIN])
    rows = client.get("/api/collection/rounds/").json()["results"]
    assert {r["year"] for r in rows} == {2023, 2024}
    assert all(r["is_synthetic"] for r in rows)
