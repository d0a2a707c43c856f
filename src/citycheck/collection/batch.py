"""The batch path: many values from a machine (the batch API, a provincial data exchange).

:func:`submit_batch` takes records ``{place, indicator, value[, note][, version]}`` (place
division code, indicator code), checks every field and refuses the whole batch with errors
naming the API field (``records[12].value``), checks permission and locks as the form does,
applies the hard rules (range, negative, integer, unit scale) and stores everything in one
transaction with a :class:`~citycheck.collection.models.ValueChange` per changed value.

Storage: on PostgreSQL, a large batch that is the round's first load of its source (no
value of that round and source yet) is copied (binary ``COPY``) straight into the values
table with ids taken from its sequence, and the audit rows are copied from the same
arrays; other large batches are copied into a temporary staging table, new rows inserted
and existing rows updated where they change, each statement's ``RETURNING`` feeding the
audit insert. Elsewhere, and for records carrying a ``version`` (optimistic concurrency),
:func:`~citycheck.collection.services.write_values`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils.translation import gettext as _

from citycheck.core import bulk
from citycheck.engine import validation as checks
from citycheck.places.models import Place

from .models import ChangeChannel, Source, Submission, Value, ValueChange
from .services import CheckStepError, ValueEntry, check_may_enter, check_writable, write_values
from .validation import load_rules

REQUIRED_FIELDS = ("place", "indicator", "value")
OPTIONAL_FIELDS = ("note", "version")
# Batches at least this large go through COPY on PostgreSQL.
COPY_THRESHOLD = 2_000
MAX_REPORTED_ERRORS = 20


class BatchError(CheckStepError):
    """A refused batch; ``errors`` maps an API field path to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("\n".join(f"{path}: {message}" for path, message in errors.items()))


@dataclass
class BatchResult:
    records: int
    changed: int
    method: str  # "copy" or "orm"


def _frame(records) -> pd.DataFrame:
    frame = (
        records.copy()
        if isinstance(records, pd.DataFrame)
        else pd.DataFrame.from_records(list(records))
    )
    missing = [f for f in REQUIRED_FIELDS if f not in frame.columns]
    if missing:
        raise BatchError({f"records[].{f}": _("缺少字段。") for f in missing})
    unknown = set(frame.columns) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise BatchError({f"records[].{f}": _("未知字段。") for f in sorted(unknown)})
    return frame.reset_index(drop=True)


def _ids_of(codes: pd.Categorical, ids_by_code: dict) -> np.ndarray:
    """The id of each code, NaN where it has none: each distinct code looked up once (a
    million-row batch holds a few thousand)."""
    ids = [ids_by_code.get(code, np.nan) for code in codes.categories]
    return np.array([*ids, np.nan], dtype=float)[codes.codes]  # code -1: missing


def _errors_at(mask: np.ndarray, field: str, message: str, errors: dict) -> None:
    for position in np.flatnonzero(mask)[: MAX_REPORTED_ERRORS - len(errors)]:
        errors[f"records[{position}].{field}"] = message


@transaction.atomic
def submit_batch(
    round_, records, *, source: str = Source.SELF_CHECK, acting_user, reason: str = ""
) -> BatchResult:
    """Validate and store a batch of values; all or nothing.

    Parameters
    ----------
    records : DataFrame or iterable of mappings
        Fields ``place`` (division code), ``indicator`` (code), ``value`` (number or
        null); optional ``note`` and ``version`` (the version read, 0 for none).
    """
    frame = _frame(records)
    errors: dict[str, str] = {}
    place_codes = pd.Categorical(frame["place"].astype(str))
    # Read as (code, id) pairs, not model objects (0.3–0.7 s for a national batch's places).
    batch_places = round_.places.filter(bulk.in_array("code", place_codes.categories.tolist()))
    indicators = {i.code: i for i in round_.system.all_indicators()}
    frame["place_id"] = _ids_of(place_codes, dict(batch_places.values_list("code", "pk")))
    frame["indicator_id"] = _ids_of(
        pd.Categorical(frame["indicator"].astype(str)), {c: i.pk for c, i in indicators.items()}
    )
    _errors_at(
        frame["place_id"].isna().to_numpy(),
        "place",
        _("不是本轮次参与地区的行政区划代码。"),
        errors,
    )
    _errors_at(
        frame["indicator_id"].isna().to_numpy(),
        "indicator",
        _("不是本轮次指标体系的指标代码。"),
        errors,
    )
    numbers = pd.to_numeric(frame["value"], errors="coerce")
    bad_number = (numbers.isna() & frame["value"].notna()) | np.isinf(numbers.fillna(0))
    if not pd.api.types.is_numeric_dtype(frame["value"]) or frame["value"].dtype == bool:
        # (a column of numbers holds no text or true/false: no look at each value)
        bad_number |= frame["value"].map(lambda v: isinstance(v, bool | str)).to_numpy()
    _errors_at(bad_number.to_numpy(), "value", _("必须是数值。"), errors)
    duplicated = frame.duplicated(["place", "indicator"], keep="first").to_numpy()
    _errors_at(duplicated, "indicator", _("同一地区同一指标重复出现。"), errors)
    if errors:
        raise BatchError(errors)
    frame["value"] = numbers.astype(float)
    frame["note"] = frame["note"].fillna("").astype(str) if "note" in frame else ""
    frame["place_id"] = frame["place_id"].astype("int64")
    frame["indicator_id"] = frame["indicator_id"].astype("int64")

    indicator_ids = set(frame["indicator_id"].unique())
    check_may_enter(acting_user, round_, batch_places, indicator_ids, source)
    check_writable(round_, frame["place_id"].unique().tolist(), indicator_ids, source)
    _check_hard_rules(frame, indicators, errors)
    if errors:
        raise BatchError(errors)
    _ensure_submissions(round_, frame["place_id"].unique(), source)

    versioned = "version" in frame.columns and frame["version"].notna().any()
    if connection.vendor == "postgresql" and len(frame) >= COPY_THRESHOLD and not versioned:
        if not Value.objects.filter(round=round_, source=source).exists():
            changed = _copy_first_load(
                round_, source, frame, acting_user=acting_user, reason=reason
            )
        else:
            changed = _copy_upsert(round_, source, frame, acting_user=acting_user, reason=reason)
        return BatchResult(len(frame), changed, "copy")
    by_id = {i.pk: i for i in indicators.values()}
    place_objects = Place.objects.in_bulk(frame["place_id"].unique().tolist())
    entries = [
        ValueEntry(
            place_objects[p],
            by_id[i],
            None if np.isnan(v) else v,
            n,
            None if not versioned or pd.isna(r) else int(r),
        )
        for p, i, v, n, r in zip(
            frame["place_id"],
            frame["indicator_id"],
            frame["value"],
            frame["note"],
            frame["version"] if versioned else [None] * len(frame),
            strict=True,
        )
    ]
    _values, changed = write_values(
        round_, source, entries, acting_user=acting_user, channel=ChangeChannel.BATCH, reason=reason
    )
    return BatchResult(len(frame), changed, "orm")


def _check_hard_rules(frame: pd.DataFrame, indicators: dict, errors: dict) -> None:
    """Errors of the rules that refuse input outright: range, negative, integer, unit scale."""
    rules = load_rules()
    wide = frame.pivot(index="place", columns="indicator", values="value")
    rule_of = {c: rules.for_indicator(c, indicators[c].unit) for c in wide.columns}

    def limit(name):
        return {c: getattr(r, name) for c, r in rule_of.items() if getattr(r, name) is not None}

    found = [
        checks.check_range(wide, low=limit("low"), high=limit("high")),
        checks.check_integer(wide, [c for c, r in rule_of.items() if r.integer]),
        checks.check_unit_scale_by_range(
            wide[
                [
                    c
                    for c, r in rule_of.items()
                    if r.plausible_low is not None and r.plausible_high is not None and r.unit_scale
                ]
            ],
            low=limit("plausible_low"),
            high=limit("plausible_high"),
        ),
    ]
    issues = pd.concat(
        [f for f in found if not f.empty] or [checks.empty_issues()], ignore_index=True
    )
    if issues.empty:
        return
    position = pd.Series(frame.index, index=pd.MultiIndex.from_frame(frame[["place", "indicator"]]))
    messages = {
        "range": _("数值 %(value)s 超出允许范围（界限 %(reference)s）。"),
        "integer": _("数值 %(value)s 应为整数。"),
        "unit_scale": _("数值 %(value)s 疑似单位错误（应以 %(unit)s 填报）。"),
    }
    for issue in issues.head(MAX_REPORTED_ERRORS).itertuples():
        at = position[(issue.place, issue.indicator)]
        template = messages[issue.rule]
        if issue.rule == "range" and issue.reference == 0 and issue.value < 0:
            template = _("数值 %(value)s 不能为负数。")
        errors[f"records[{at}].value"] = template % {
            "value": f"{issue.value:g}",
            "reference": f"{issue.reference:g}",
            "unit": indicators[issue.indicator].unit,
        }


def _ensure_submissions(round_, place_ids, source: str) -> None:
    # The batch's places as one array parameter on PostgreSQL (``bulk.in_array``), not an
    # IN list of every id (Django's work per listed id) nor every submission of the round.
    existing = set(
        Submission.objects.filter(
            bulk.in_array("place_id", list(place_ids)),
            round=round_,
            source=source,
            department__isnull=True,
        ).values_list("place_id", flat=True)
    )
    Submission.objects.bulk_create(
        Submission(round=round_, place_id=int(p), source=source)
        for p in place_ids
        if p not in existing
    )


def _copy_first_load(round_, source: str, frame: pd.DataFrame, *, acting_user, reason: str) -> int:
    """The round's first values of ``source``: every row is new, so the rows are copied
    straight into the values table with ids reserved from its sequence, and their audit
    rows (created, version 1) copied from the same arrays; returns the rows written."""
    count = len(frame)
    user_id = acting_user.pk if acting_user is not None else None
    values = frame["value"].to_numpy(dtype=float)
    notes = frame["note"].to_numpy(dtype=object)
    with connection.cursor() as cursor:
        ids = bulk.reserve_ids(cursor, Value, count)
        cursor.execute("SELECT now()")  # the transaction's time, as now() in SQL
        moment = cursor.fetchone()[0]
        bulk.copy_arrays(
            cursor,
            Value,
            [
                ("id", "int8", ids),
                ("round_id", "int8", round_.pk),
                ("place_id", "int8", frame["place_id"].to_numpy()),
                ("indicator_id", "int8", frame["indicator_id"].to_numpy()),
                ("source", "text", source),
                ("value", "float8", values),
                ("note", "text", notes),
                ("version", "int4", 1),
                ("updated_by_id", "int8", user_id),
                ("created", "timestamptz", moment),
                ("last_updated", "timestamptz", moment),
            ],
            count,
        )
        bulk.copy_arrays(
            cursor,
            ValueChange,
            [
                ("value_id", "int8", ids),
                ("old_value", "float8", None),
                ("new_value", "float8", values),
                ("old_note", "text", ""),
                ("new_note", "text", notes),
                ("version", "int4", 1),
                ("user_id", "int8", user_id),
                ("time", "timestamptz", moment),
                ("channel", "text", ChangeChannel.BATCH),
                ("reason", "text", reason),
            ],
            count,
        )
    return count


def _copy_upsert(round_, source: str, frame: pd.DataFrame, *, acting_user, reason: str) -> int:
    """COPY into a staging table, merge into values, write the audit rows; returns changes."""
    value_table, change_table = Value._meta.db_table, ValueChange._meta.db_table
    buffer = io.StringIO()
    frame[["place_id", "indicator_id", "value", "note"]].to_csv(buffer, index=False, header=False)
    user_id = acting_user.pk if acting_user is not None else None
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE batch_stage (place_id bigint, indicator_id bigint, value double precision,"
            " note text) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY batch_stage FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        # The rows that exist already, with what they held and what they are given.
        cursor.execute(
            "CREATE TEMP TABLE batch_prior ON COMMIT DROP AS SELECT v.id, v.place_id,"
            " v.indicator_id, v.value, v.note, s.value AS new_value,"
            " coalesce(s.note, '') AS new_note"
            f" FROM {value_table} v JOIN batch_stage s USING (place_id, indicator_id)"
            " WHERE v.round_id = %s AND v.source = %s",
            [round_.pk, source],
        )
        # New rows: a plain insert (no conflict to look for), its RETURNING feeding the
        # audit directly instead of a join back to the staged rows.
        cursor.execute(
            f"WITH inserted AS (INSERT INTO {value_table} (round_id, place_id, indicator_id,"
            " source, value, note, version, updated_by_id, created, last_updated)"
            " SELECT %s, s.place_id, s.indicator_id, %s, s.value, coalesce(s.note, ''), 1, %s,"
            " now(), now() FROM batch_stage s WHERE NOT EXISTS (SELECT 1 FROM batch_prior p"
            " WHERE p.place_id = s.place_id AND p.indicator_id = s.indicator_id)"
            " RETURNING id, value, note)"
            f" INSERT INTO {change_table} (value_id, old_value, new_value, old_note, new_note,"
            " version, user_id, time, channel, reason)"
            " SELECT id, NULL, value, '', note, 1, %s, now(), %s, %s FROM inserted",
            [round_.pk, source, user_id, user_id, ChangeChannel.BATCH, reason],
        )
        changed = cursor.rowcount
        # Existing rows: updated only where the value or the note changes, audited likewise.
        cursor.execute(
            f"WITH updated AS (UPDATE {value_table} v SET value = p.new_value,"
            " note = p.new_note, version = v.version + 1, updated_by_id = %s,"
            " last_updated = now() FROM batch_prior p WHERE v.id = p.id"
            " AND (v.value IS DISTINCT FROM p.new_value OR v.note IS DISTINCT FROM p.new_note)"
            " RETURNING v.id, p.value AS old_value, p.new_value, p.note AS old_note,"
            " p.new_note, v.version)"
            f" INSERT INTO {change_table} (value_id, old_value, new_value, old_note, new_note,"
            " version, user_id, time, channel, reason)"
            " SELECT id, old_value, new_value, coalesce(old_note, ''), new_note, version, %s,"
            " now(), %s, %s FROM updated",
            [user_id, user_id, ChangeChannel.BATCH, reason],
        )
        changed += cursor.rowcount
        cursor.execute("DROP TABLE batch_stage, batch_prior")
    return changed
