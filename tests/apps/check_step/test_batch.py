"""The batch path: field errors name the API field, all or nothing, audit rows, COPY on PostgreSQL."""

import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from citycheck.collection import batch, services, workflow
from citycheck.collection.models import ChangeChannel, Source, Value, ValueChange

pytestmark = pytest.mark.django_db

COUNTY = "360102"


def records(province, codes=("360102", "360103"), **override):
    from .conftest import GOOD_VALUES

    rows = [{"place": c, "indicator": k, "value": v} for c in codes for k, v in GOOD_VALUES.items()]
    for (place, indicator), value in override.items():
        next(r for r in rows if (r["place"], r["indicator"]) == (place, indicator))["value"] = value
    return rows


def test_batch_stores_and_audits(province):
    result = batch.submit_batch(
        province.round, records(province), acting_user=province.users["city"], reason="统计年报导入"
    )
    assert (result.records, result.changed) == (12, 12)
    assert Value.objects.filter(source=Source.SELF_CHECK).count() == 12
    change = ValueChange.objects.filter(
        value__place__code=COUNTY, value__indicator__code="schools"
    ).get()
    assert (
        change.old_value,
        change.new_value,
        change.channel,
        change.reason,
        change.user.username,
    ) == (None, 40.0, ChangeChannel.BATCH, "统计年报导入", "city")
    rows = records(province)
    rows[0]["value"] = 39.0
    again = batch.submit_batch(province.round, rows, acting_user=province.users["city"])
    assert again.changed == 1
    assert Value.objects.get(place__code=COUNTY, indicator__code="green_space_rate").version == 2


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda rows: rows[3].update(place="999999"), "records[3].place"),
        (lambda rows: rows[1].update(indicator="no_such"), "records[1].indicator"),
        (lambda rows: rows[2].update(value="forty"), "records[2].value"),
        (lambda rows: rows[2].update(value=-4.0), "records[2].value"),  # a negative count
        (lambda rows: rows[0].update(value=0.38), "records[0].value"),  # a share as a fraction
        (lambda rows: rows.append(dict(rows[0])), "records[12].indicator"),
    ],
    ids=["place", "indicator", "text", "negative", "unit-scale", "duplicate"],
)
def test_bad_records_refuse_the_whole_batch(province, mutate, field):
    rows = records(province)
    mutate(rows)
    with pytest.raises(batch.BatchError) as refused:
        batch.submit_batch(province.round, rows, acting_user=province.users["city"])
    assert field in refused.value.errors
    assert not Value.objects.exists() and not ValueChange.objects.exists()


def test_missing_and_unknown_fields(province):
    with pytest.raises(batch.BatchError, match=r"records\[\]\.value"):
        batch.submit_batch(
            province.round,
            [{"place": COUNTY, "indicator": "schools"}],
            acting_user=province.users["city"],
        )
    with pytest.raises(batch.BatchError, match=r"records\[\]\.colour"):
        batch.submit_batch(
            province.round,
            [{"place": COUNTY, "indicator": "schools", "value": 1, "colour": "red"}],
            acting_user=province.users["city"],
        )


def test_batch_permissions_and_locks(province):
    with pytest.raises(PermissionDenied):
        batch.submit_batch(province.round, records(province), acting_user=province.users["county"])
    with pytest.raises(PermissionDenied):
        batch.submit_batch(
            province.round, records(province, codes=[COUNTY]), acting_user=province.users["housing"]
        )
    batch.submit_batch(
        province.round, records(province, codes=[COUNTY]), acting_user=province.users["county"]
    )
    workflow.submit_submission(province.submission(COUNTY), acting_user=province.users["county"])
    with pytest.raises(services.LockedError):
        batch.submit_batch(
            province.round, records(province, codes=[COUNTY]), acting_user=province.users["county"]
        )


def test_batch_with_versions_refuses_stale_records(province):
    batch.submit_batch(
        province.round, records(province, codes=[COUNTY]), acting_user=province.users["county"]
    )
    rows = [{"place": COUNTY, "indicator": "schools", "value": 41.0, "version": 0}]
    with pytest.raises(services.StaleValueError):
        batch.submit_batch(province.round, rows, acting_user=province.users["county"])
    rows[0]["version"] = 1
    batch.submit_batch(province.round, rows, acting_user=province.users["county"])
    assert Value.objects.get(place__code=COUNTY, indicator__code="schools").value == 41.0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
def test_copy_path_upserts_and_audits(province, monkeypatch):
    monkeypatch.setattr(batch, "COPY_THRESHOLD", 1)
    frame = pd.DataFrame(records(province))
    first = batch.submit_batch(province.round, frame, acting_user=province.users["city"])
    assert first.method == "copy" and first.changed == 12
    frame.loc[0, "value"] = 37.0
    second = batch.submit_batch(province.round, frame, acting_user=province.users["city"])
    assert second.changed == 1
    value = Value.objects.get(place__code=COUNTY, indicator__code="green_space_rate")
    assert (value.value, value.version) == (37.0, 2)
    change = value.changes.first()
    assert (change.old_value, change.new_value, change.version, change.channel) == (
        38.0,
        37.0,
        2,
        ChangeChannel.BATCH,
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
def test_copy_path_inserts_new_rows_and_updates_changed_ones(province, monkeypatch):
    """New rows are inserted, existing ones updated only when they change; each change
    audited once with its old and new value."""
    monkeypatch.setattr(batch, "COPY_THRESHOLD", 1)
    frame = pd.DataFrame(records(province))
    batch.submit_batch(province.round, frame.iloc[:6], acting_user=province.users["city"])
    frame.loc[0, "value"] = frame.loc[0, "value"] + 1
    mixed = batch.submit_batch(province.round, frame, acting_user=province.users["city"])
    assert mixed.changed == 6 + 1
    assert ValueChange.objects.filter(value__round=province.round).count() == 12 + 1
    assert Value.objects.filter(round=province.round, version=2).count() == 1


def test_values_keep_their_place_indicator_and_round(province):
    """The value table's keys are guarded by Django, not the database (see Value): deleting
    a place or an indicator that holds values is refused, deleting a round takes its values."""
    from django.db.models import ProtectedError

    batch.submit_batch(province.round, records(province), acting_user=province.users["city"])
    stored = Value.objects.filter(round=province.round).count()
    value = Value.objects.filter(round=province.round).select_related("place", "indicator").first()
    with pytest.raises(ProtectedError):
        value.place.delete()
    with pytest.raises(ProtectedError):
        value.indicator.delete()
    assert Value.objects.filter(round=province.round).count() == stored == 12
    province.round.delete()
    assert not Value.objects.filter(pk=value.pk).exists()
