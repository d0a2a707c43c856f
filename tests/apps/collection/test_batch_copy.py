"""A round's first batch: on PostgreSQL copied straight into the values table with its
audit rows from the same arrays; the same stored rows on SQLite (ORM path)."""

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from citycheck.collection import batch, services, workflow
from citycheck.collection.models import ChangeChannel, Source, Value, ValueChange
from citycheck.core import bulk
from citycheck.places.models import Place

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db

CODES = ("360102", "360103")
# Notes of different lengths (the binary COPY groups rows by width), one value missing.
NOTES = {
    ("360102", "schools"): "含民办学校",
    ("360103", "share_a"): "估算",
    ("360103", "schools"): "",
}


def first_batch() -> pd.DataFrame:
    rows = [
        {"place": c, "indicator": k, "value": v, "note": NOTES.get((c, k), "")}
        for c in CODES
        for k, v in GOOD_VALUES.items()
    ]
    rows[1]["value"] = None
    return pd.DataFrame(rows)


@pytest.fixture
def copy_every_batch(monkeypatch):
    monkeypatch.setattr(batch, "COPY_THRESHOLD", 1)


def test_first_batch_stores_every_value_with_one_audit_row_each(province, copy_every_batch):
    frame = first_batch()
    user = province.users["city"]
    result = batch.submit_batch(province.round, frame, acting_user=user, reason="年报导入")
    expected_method = "copy" if connection.vendor == "postgresql" else "orm"
    assert (result.records, result.changed, result.method) == (12, 12, expected_method)

    stored = {
        (v.place.code, v.indicator.code): v
        for v in Value.objects.filter(round=province.round).select_related("place", "indicator")
    }
    assert len(stored) == 12
    for row in frame.itertuples():
        value = stored[(row.place, row.indicator)]
        assert value.value == (None if pd.isna(row.value) else row.value)
        assert (value.note, value.version, value.source) == (row.note, 1, Source.SELF_CHECK)
        assert value.updated_by == user
        change = value.changes.get()
        assert (change.old_value, change.new_value) == (None, value.value)
        assert (change.old_note, change.new_note, change.version) == ("", row.note, 1)
        assert (change.user, change.channel, change.reason) == (
            user,
            ChangeChannel.BATCH,
            "年报导入",
        )
    if connection.vendor == "postgresql":  # the transaction's time, as now() in SQL
        times = {v.created for v in stored.values()} | {v.last_updated for v in stored.values()}
        changed_at = set(ValueChange.objects.values_list("time", flat=True))
        assert len(times) == 1 and changed_at == times

    # The ids were taken from the table's sequence: rows written afterwards get new ones,
    # and the next batch of the same round and source updates what changed.
    services.write_values(
        province.round,
        Source.THIRD_PARTY,
        province.entries("360102"),
        acting_user=province.users["evaluator"],
        channel=ChangeChannel.FORM,
    )
    frame.loc[0, "value"] = 37.0
    again = batch.submit_batch(province.round, frame, acting_user=user)
    assert again.changed == 1
    assert Value.objects.filter(round=province.round).count() == 18
    assert ValueChange.objects.count() == 12 + 6 + 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
def test_first_load_failing_midway_leaves_nothing(province, copy_every_batch, monkeypatch):
    """The audit copy fails after the values were copied: the batch is one transaction."""
    copies = []
    real_copy = bulk.copy_arrays

    def copy_then_fail(cursor, model, columns, count):
        copies.append(model)
        if model is ValueChange:
            raise RuntimeError("connection lost")
        real_copy(cursor, model, columns, count)

    monkeypatch.setattr(bulk, "copy_arrays", copy_then_fail)
    with pytest.raises(RuntimeError):
        batch.submit_batch(province.round, first_batch(), acting_user=province.users["city"])
    assert copies == [Value, ValueChange]
    assert not Value.objects.exists() and not ValueChange.objects.exists()


def test_binary_rows_group_rows_by_width():
    """NULLs and texts of different lengths give rows of different widths: one block each,
    every row's fields in PostgreSQL's binary layout."""
    rows = bulk.binary_rows(
        [("int8", [1, 2, 3]), ("float8", [1.5, float("nan"), 2.5]), ("text", ["", "ab", ""])], 3
    )
    by_width = {block.dtype.itemsize: block for block in rows}
    assert sorted(by_width) == [2 + 12 + 4 + 6, 2 + 12 + 12 + 4]
    plain = by_width[30]
    assert plain["value0"].tolist() == [1, 3] and plain["value1"].tolist() == [1.5, 2.5]
    assert plain["length2"].tolist() == [0, 0]
    odd = by_width[24]
    assert (odd["value0"][0], odd["length1"][0], odd["value2"][0]) == (2, -1, b"ab")
    assert odd.tobytes()[:2] == b"\x00\x03"  # three fields, big-endian


def test_refusals_name_the_place_out_of_reach_and_the_locked_one(province, copy_every_batch):
    """Reach (a path prefix, the evaluator's assignments), round membership and locks are
    checked with the batch's places as one array: the same refusals as with IN lists."""
    frame = first_batch()
    frame.loc[1, "value"] = GOOD_VALUES[frame.loc[1, "indicator"]]  # complete, to submit
    with pytest.raises(PermissionDenied, match="您无权填报 西湖区（360103） 的数据"):
        batch.submit_batch(province.round, frame, acting_user=province.users["county"])
    own = frame[frame["place"] == "360102"]
    outside = own.assign(place="360402")  # 濂溪区: in the round, not assigned to it
    with pytest.raises(PermissionDenied, match="您无权填报 濂溪区（360402） 的数据"):
        batch.submit_batch(
            province.round,
            outside,
            source=Source.THIRD_PARTY,
            acting_user=province.users["evaluator"],
        )
    assert not Value.objects.exists()

    batch.submit_batch(province.round, own, acting_user=province.users["county"])
    workflow.submit_submission(province.submission("360102"), acting_user=province.users["county"])
    with pytest.raises(services.LockedError, match="东湖区（360102） 的数据处于“已提交”状态"):
        batch.submit_batch(province.round, frame, acting_user=province.users["city"])
    assert Value.objects.count() == len(own)


def test_in_array_keeps_the_rows_of_the_listed_keys(province):
    """One array parameter on PostgreSQL, a plain IN elsewhere; NumPy integers, None and
    an empty list as ``__in`` takes them."""
    places = province.places
    ids = np.array([places["360102"].pk, places["360103"].pk, -1])
    by_array = Place.objects.filter(bulk.in_array("pk", ids))
    assert sorted(by_array.values_list("code", flat=True)) == ["360102", "360103"]
    assert list(Place.objects.filter(bulk.in_array("code", ["360104", None]))) == [places["360104"]]
    assert not Place.objects.filter(bulk.in_array("pk", [])).exists()
    if connection.vendor == "postgresql":
        assert "= ANY(" in str(by_array.query)
