"""Writes of the check step (体检): rounds, assignments, values, comments, evidence,
adjudication. Adopted values are in :mod:`citycheck.collection.adoption`, roll-ups in
:mod:`citycheck.collection.rollup`.

Every write takes a keyword-only ``acting_user``, runs in one transaction, decides
permission through :mod:`citycheck.core.access` and leaves an audit row: a
:class:`~citycheck.collection.models.ValueChange` per value changed (every path, bulk
included) and a :class:`~citycheck.core.models.ChangeRecord` event per workflow step.
The workflow transitions themselves are in :mod:`citycheck.collection.workflow`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.accounts.models import Department
from citycheck.core import bulk
from citycheck.core.access import check_place, may, place_filter, reach
from citycheck.core.choices import Action, Role
from citycheck.core.context import acting
from citycheck.core.models import record_event
from citycheck.indicators.models import Indicator
from citycheck.places.models import Place, PlaceLevel

from .models import (
    LOCKED_STATUSES,
    Adjudication,
    Assignment,
    AssignmentKind,
    ChangeChannel,
    Evidence,
    Round,
    RoundStatus,
    Source,
    Submission,
    Value,
    ValueChange,
    ValueComment,
)

# The sources a filler enters; adopted values are written by acceptance and adjudication.
ENTERED_SOURCES = (Source.SELF_CHECK, Source.THIRD_PARTY)
# Sources the province may adopt a value from: the entered ones, the satisfaction survey's
# weighted figures and the life-circle analysis's shares (written by citycheck.survey and
# citycheck.spatial, never typed).
ADJUDICABLE_SOURCES = (*ENTERED_SOURCES, Source.SURVEY, Source.SPATIAL)


class CheckStepError(Exception):
    """A refused check-step operation; ``message`` is shown to the user as is."""

    def __init__(self, message: str, *, issues=None):
        self.message = message
        self.issues = issues if issues is not None else []
        super().__init__(message)


class RoundClosedError(CheckStepError):
    pass


class LockedError(CheckStepError):
    pass


class StaleValueError(CheckStepError):
    """A save carrying versions that are no longer stored; ``conflicts`` say who changed
    what to which value and when."""

    def __init__(self, conflicts: list[dict]):
        self.conflicts = conflicts
        lines = [
            _(
                "指标 %(indicator)s（%(place)s）已被 %(user)s 于 %(time)s 修改为 %(value)s"
                "（版本 %(stored)s，您读取的是版本 %(read)s），请刷新后核对再保存。"
            )
            % conflict
            for conflict in conflicts
        ]
        super().__init__("\n".join(lines))


# --------------------------------------------------------------------------- rounds


@transaction.atomic
def open_round(
    *, year, system, places, deadline=None, kind="annual", is_synthetic=False, acting_user
) -> Round:
    """Open a round for ``system`` over ``places`` (and create their empty submissions);
    ``is_synthetic`` labels a demonstration round."""
    if not may(acting_user, Action.MANAGE):
        raise PermissionDenied(_("只有省级管理员可以开启体检轮次。"))
    with acting(acting_user):
        round_ = Round.objects.create(
            year=year,
            kind=kind,
            system=system,
            scope=Place.objects.governing(places),
            deadline=deadline,
            is_synthetic=is_synthetic,
        )
    round_.places.set(places)
    Submission.objects.bulk_create(
        Submission(round=round_, place=place, source=Source.SELF_CHECK) for place in places
    )
    record_event(round_, "opened", acting_user=acting_user, data={"places": len(places)})
    return round_


@transaction.atomic
def set_round_status(round_: Round, status: str, *, acting_user) -> Round:
    """Close (or reopen, or publish) a round."""
    if not may(acting_user, Action.MANAGE):
        raise PermissionDenied(_("只有省级管理员可以修改体检轮次状态。"))
    round_.status = status
    with acting(acting_user):
        round_.save(update_fields=["status", "last_updated"])
    return round_


@transaction.atomic
def assign_department(round_: Round, indicator: Indicator, department, *, acting_user):
    """Make ``department`` responsible for ``indicator`` in this round."""
    if not may(acting_user, Action.MANAGE):
        raise PermissionDenied(_("只有省级管理员可以分派指标。"))
    with acting(acting_user):
        assignment, _created = Assignment.objects.update_or_create(
            round=round_,
            kind=AssignmentKind.DEPARTMENT,
            indicator=indicator,
            defaults={"department": department},
        )
    return assignment


@transaction.atomic
def assign_evaluator(round_: Round, place: Place, evaluator, *, acting_user):
    """Commission ``evaluator`` for ``place``: it may then enter third-party values there."""
    if not may(acting_user, Action.MANAGE):
        raise PermissionDenied(_("只有省级管理员可以委托第三方评估。"))
    if evaluator.role != Role.EVALUATOR:
        raise CheckStepError(_("用户 %(user)s 不是第三方评估机构。") % {"user": evaluator})
    with acting(acting_user):
        assignment, _created = Assignment.objects.update_or_create(
            round=round_,
            kind=AssignmentKind.EVALUATOR,
            place=place,
            defaults={"evaluator": evaluator},
        )
    evaluator.assigned_places.add(place)
    Submission.objects.get_or_create(round=round_, place=place, source=Source.THIRD_PARTY)
    return assignment


def responsible_departments(round_: Round) -> dict[int, int | None]:
    """Indicator id → responsible department id for the round (assignments override)."""
    departments = dict(round_.system.all_indicators().values_list("pk", "department_id"))
    departments.update(
        round_.assignments.filter(kind=AssignmentKind.DEPARTMENT).values_list(
            "indicator_id", "department_id"
        )
    )
    return departments


def indicators_owed(
    round_: Round, *, department=None, source: str = Source.SELF_CHECK
) -> list[Indicator]:
    """The round's indicators in form order, only ``department``'s when given (with their
    dimension and department); which are owed is :func:`owed_indicator_ids`'s rule."""
    indicators = list(round_.system.all_indicators().select_related("department"))
    rows = [(i.pk, i.source_kind) for i in indicators]
    owed = set(_owed(round_, rows, department=department, source=source))
    return [i for i in indicators if i.pk in owed]


def owed_indicator_ids(
    round_: Round, *, department=None, source: str = Source.SELF_CHECK
) -> list[int]:
    """The ids of :func:`indicators_owed`, read as rows rather than model objects."""
    rows = round_.system.all_indicators().values_list("pk", "source_kind")
    return _owed(round_, list(rows), department=department, source=source)


def _owed(round_: Round, rows, *, department, source: str) -> list[int]:
    """Of the round's indicators (``rows``: id and source kind, in form order), the ids
    owed for ``source``, only ``department``'s when given.

    A third-party evaluator owes, for each place it is commissioned for, the indicators
    of the source kinds the rules file names (``third_party.source_kinds``: spatial,
    survey and big data — what it measures itself; statistics come through the
    self-check). Without that entry it owes every indicator.
    """
    from .validation import load_rules

    if source == Source.THIRD_PARTY:
        kinds = load_rules().third_party_source_kinds
        if kinds:
            rows = [row for row in rows if row[1] in kinds]
    if department is None:
        return [pk for pk, _kind in rows]
    departments = responsible_departments(round_)
    return [pk for pk, _kind in rows if departments.get(pk) == department.pk]


def submission_for(round_: Round, place: Place, source: str, department=None) -> Submission:
    submission, _created = Submission.objects.get_or_create(
        round=round_, place=place, source=source, department=department
    )
    return submission


def obligations(user) -> pd.DataFrame:
    """What ``user`` owes in open rounds, and by when: one row per submission it fills.

    Columns: round (id), year, place, place_name, source, department, status, deadline,
    indicators (how many it owes there). A department filler sees its own indicators only;
    an evaluator its third-party submissions.
    """
    columns = [
        "round",
        "year",
        "place",
        "place_name",
        "source",
        "department",
        "status",
        "deadline",
        "indicators",
    ]
    if not may(user, Action.CHANGE):
        return pd.DataFrame(columns=columns)
    source = Source.THIRD_PARTY if user.role == Role.EVALUATOR else Source.SELF_CHECK
    submissions = (
        Submission.objects.restrict(user, Action.CHANGE)
        .filter(round__status=RoundStatus.OPEN, source=source, department__isnull=True)
        .select_related("round", "place")
        .order_by("round__deadline", "place__code")
    )
    rows, owed_counts = [], {}
    department = user.department if user.role == Role.DEPARTMENT_FILLER else None
    for submission in submissions:
        round_ = submission.round
        if round_.pk not in owed_counts:
            owed_counts[round_.pk] = len(
                indicators_owed(round_, department=department, source=source)
            )
        rows.append(
            [
                round_.pk,
                round_.year,
                submission.place.code,
                submission.place.name_zh,
                source,
                department.code if department else "",
                submission.status,
                round_.deadline,
                owed_counts[round_.pk],
            ]
        )
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- permissions


def places_out_of_reach(user, places: Iterable[Place] | QuerySet) -> list[Place]:
    """The places of ``places`` outside ``user``'s reach, in one query; ``places`` are
    Place objects, or a queryset of them, of which only the places outside are read."""
    if user.is_superuser:
        return []
    # The reach as a condition on the place (a path prefix, the assignment table), not a
    # list of its ids (a province's 14,286 places); None where the role may not view (an
    # interviewer), whose reach is its few assigned places.
    within = place_filter(user, Action.VIEW, "pk")
    if within is None:
        within = Q(pk__in=reach(user))
    if isinstance(places, QuerySet):
        return list(places.exclude(within))
    places = list(places)
    if not places:
        return []
    outside = set(
        Place.objects.filter(bulk.in_array("pk", [p.pk for p in places]))
        .exclude(within)
        .values_list("pk", flat=True)
    )
    return [p for p in places if p.pk in outside]


def check_may_enter(
    user, round_: Round, places: Iterable[Place] | QuerySet, indicator_ids, source: str
):
    """Refuse unless ``user`` may enter ``source`` values of these indicators for these places
    (Place objects or a queryset of them).

    A county enters only its own place (its reach); a department filler only the
    indicators its department is responsible for; an evaluator only third-party values of
    its assigned places; nobody but the evaluator (and the province) third-party values.
    """
    if source not in ENTERED_SOURCES:
        raise PermissionDenied(_("来源 %(source)s 的数值不能直接填报。") % {"source": source})
    if not may(user, Action.CHANGE):
        raise PermissionDenied(_("您的角色不能填报数据。"))
    role = None if user.is_superuser else user.role
    if source == Source.THIRD_PARTY and role not in (None, Role.EVALUATOR, Role.PROVINCE_ADMIN):
        raise PermissionDenied(_("只有受托的第三方评估机构可以填报第三方评估值。"))
    if source == Source.SELF_CHECK and role == Role.EVALUATOR:
        raise PermissionDenied(_("第三方评估机构不能填报城市自体检值。"))
    outside = places_out_of_reach(user, places)
    if outside:
        raise PermissionDenied(_("您无权填报 %(place)s 的数据。") % {"place": outside[0]})
    if role == Role.DEPARTMENT_FILLER:
        departments = responsible_departments(round_)
        foreign = [i for i in indicator_ids if departments.get(i) != user.department_id]
        if foreign:
            codes = Indicator.objects.filter(pk__in=foreign[:5]).values_list("code", flat=True)
            raise PermissionDenied(
                _("指标 %(codes)s 不属于您的部门，不能填报。") % {"codes": "、".join(codes)}
            )


def check_writable(round_: Round, place_ids, indicator_ids, source: str) -> None:
    """Refuse when the round is closed, a place is not in the round, an indicator not in
    its system, or a submission covering these values is locked."""
    if round_.status != RoundStatus.OPEN:
        raise RoundClosedError(_("体检轮次 %(round)s 已截止，不能再修改数据。") % {"round": round_})
    place_ids = list(place_ids)
    outside = Place.objects.filter(bulk.in_array("pk", place_ids)).exclude(rounds=round_).first()
    if outside is not None:
        raise CheckStepError(
            _("%(place)s 不在 %(round)s 的参与地区中。") % {"place": outside, "round": round_}
        )
    foreign = (
        Indicator.objects.filter(pk__in=list(indicator_ids))
        .exclude(pk__in=round_.system.all_indicators().values("pk"))
        .first()
    )
    if foreign is not None:
        raise CheckStepError(
            _("指标 %(indicator)s 不属于 %(round)s 的指标体系。")
            % {"indicator": foreign.code, "round": round_}
        )
    departments = responsible_departments(round_)
    locked = Submission.objects.filter(
        bulk.in_array("place_id", place_ids),
        round=round_,
        source=source,
        status__in=LOCKED_STATUSES,
    ).select_related("place", "department")
    wanted = {departments.get(i) for i in indicator_ids}
    for submission in locked:
        if submission.department_id is None or submission.department_id in wanted:
            raise LockedError(
                _("%(place)s 的数据处于“%(status)s”状态，已锁定；如需修改请提出修改申请。")
                % {"place": submission.place, "status": submission.get_status_display()}
            )


# --------------------------------------------------------------------------- values


@dataclass
class ValueEntry:
    """One value as a form or an upload carries it.

    ``read_version`` is the version the user saw: 0 when there was no stored value,
    None for machine submissions that do not take part in optimistic concurrency.
    """

    place: Place
    indicator: Indicator
    value: float | None
    note: str = ""
    read_version: int | None = None


@dataclass
class SaveResult:
    values: list[Value]
    changed: int
    issues: pd.DataFrame = field(default_factory=pd.DataFrame)


def write_values(
    round_: Round,
    source: str,
    entries: Sequence[ValueEntry],
    *,
    acting_user,
    channel: str,
    reason: str = "",
) -> tuple[list[Value], int]:
    """Store ``entries`` and their audit rows; no permission check (callers do it).

    Rows are locked for the transaction; an entry whose ``read_version`` differs from the
    stored version refuses the whole write with :class:`StaleValueError`. Unchanged
    entries are not rewritten. Returns the stored rows and how many changed.
    """
    now = timezone.now()
    keys = {(e.place.pk, e.indicator.pk) for e in entries}
    stored_rows = (
        Value.objects.select_for_update(of=("self",))
        .filter(
            round=round_,
            source=source,
            place_id__in={k[0] for k in keys},
            indicator_id__in={k[1] for k in keys},
        )
        .select_related("updated_by", "indicator", "place")
    )
    stored = {(v.place_id, v.indicator_id): v for v in stored_rows}
    conflicts = []
    for entry in entries:
        row = stored.get((entry.place.pk, entry.indicator.pk))
        version = row.version if row else 0
        if entry.read_version is not None and entry.read_version != version:
            conflicts.append(
                {
                    "indicator": entry.indicator.code,
                    "place": entry.place.code,
                    "user": (row.updated_by.username if row and row.updated_by else _("未知用户")),
                    "time": timezone.localtime(row.last_updated).strftime("%Y-%m-%d %H:%M:%S")
                    if row
                    else "",
                    "value": row.value if row else _("（已删除）"),
                    "stored": version,
                    "read": entry.read_version,
                }
            )
    if conflicts:
        raise StaleValueError(conflicts)

    created, updated, audit = [], [], []
    for entry in entries:
        row = stored.get((entry.place.pk, entry.indicator.pk))
        if row is None:
            row = Value(
                round=round_,
                place=entry.place,
                indicator=entry.indicator,
                source=source,
                value=entry.value,
                note=entry.note,
                version=1,
                updated_by=acting_user,
                created=now,
                last_updated=now,
            )
            created.append(row)
            audit.append((row, None, "", entry))
        elif not _same(row.value, entry.value) or row.note != entry.note:
            audit.append((row, row.value, row.note, entry))
            row.value, row.note = entry.value, entry.note
            row.version += 1
            row.updated_by, row.last_updated = acting_user, now
            updated.append(row)
        stored[(entry.place.pk, entry.indicator.pk)] = row
    Value.objects.bulk_create(created)
    if updated:
        Value.objects.bulk_update(
            updated, ["value", "note", "version", "updated_by", "last_updated"]
        )
    ValueChange.objects.bulk_create(
        ValueChange(
            value=row,
            old_value=old,
            new_value=entry.value,
            old_note=old_note,
            new_note=entry.note,
            version=row.version,
            user=acting_user,
            time=now,
            channel=channel,
            reason=reason,
        )
        for row, old, old_note, entry in audit
    )
    return [stored[(e.place.pk, e.indicator.pk)] for e in entries], len(audit)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.isclose(a, b, rtol=0, atol=0) or a == b)


@transaction.atomic
def save_values(
    round_: Round,
    entries: Sequence[ValueEntry],
    *,
    source: str = Source.SELF_CHECK,
    acting_user,
    channel: str = ChangeChannel.FORM,
    reason: str = "",
) -> SaveResult:
    """Save a form's values (a draft): permission, lock and concurrency checks, audit,
    then validation whose issues are returned (errors block submission, not saving)."""
    from .validation import validate_round_values

    places = {e.place.pk: e.place for e in entries}
    indicator_ids = {e.indicator.pk for e in entries}
    check_may_enter(acting_user, round_, places.values(), indicator_ids, source)
    check_writable(round_, places, indicator_ids, source)
    for place in places.values():
        submission_for(round_, place, source)
    values, changed = write_values(
        round_, source, entries, acting_user=acting_user, channel=channel, reason=reason
    )
    issues = validate_round_values(
        round_,
        source=source,
        place_ids=list(places),
        stage="save",
        indicator_ids=indicator_ids,
    )
    return SaveResult(values=values, changed=changed, issues=issues)


def value_history(value: Value, *, acting_user):
    """The audit trail shown beside a value: every change, newest first."""
    check_place(acting_user, value.place, Action.VIEW)
    return value.changes.select_related("user")


def values_frame(round_: Round, *, source: str = Source.SELF_CHECK, place_ids=None) -> pd.DataFrame:
    """Stored values as a long frame: place, indicator (codes), value, note, version."""
    rows = Value.objects.filter(round=round_, source=source)
    if place_ids is not None:
        rows = rows.filter(place_id__in=list(place_ids))
    frame = pd.DataFrame.from_records(
        rows.values_list("place__code", "indicator__code", "value", "note", "version"),
        columns=["place", "indicator", "value", "note", "version"],
    )
    frame["value"] = frame["value"].astype(float)
    return frame


# --------------------------------------------------------------------------- comments, evidence


@transaction.atomic
def add_comment(submission: Submission, text: str, *, indicator=None, acting_user, event=""):
    """A comment on a submission or one of its indicators (anyone who may view it)."""
    check_place(acting_user, submission.place, Action.VIEW)
    if not text.strip():
        raise CheckStepError(_("意见不能为空。"))
    return ValueComment.objects.create(
        submission=submission,
        indicator=indicator,
        author=acting_user,
        text=text.strip(),
        event=event,
    )


# Allowed evidence files by magic bytes: kind → (leading bytes, file extensions).
EVIDENCE_KINDS = {
    "pdf": (b"%PDF-", (".pdf",)),
    "png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "jpg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "xlsx": (b"PK\x03\x04", (".xlsx",)),
    "docx": (b"PK\x03\x04", (".docx",)),
}
OFFICE_MAIN_PART = {"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}


def evidence_kind(name: str, content: bytes) -> str:
    """The allowed kind of an evidence file, judged by its bytes, not only its name.

    Raises :class:`CheckStepError` naming the file for anything else.
    """
    import io
    import zipfile

    from django.conf import settings

    lower = name.lower()
    limit = getattr(settings, "CITYCHECK_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    if len(content) > limit:
        raise CheckStepError(
            _("佐证材料 %(name)s 超过大小上限 %(limit)s 字节。") % {"name": name, "limit": limit}
        )
    for kind, (magic, extensions) in EVIDENCE_KINDS.items():
        if lower.endswith(extensions) and content.startswith(magic):
            if kind in OFFICE_MAIN_PART:
                try:
                    with zipfile.ZipFile(io.BytesIO(content)) as archive:
                        if OFFICE_MAIN_PART[kind] not in archive.namelist():
                            break
                except zipfile.BadZipFile:
                    break
            return kind
    raise CheckStepError(
        _(
            "佐证材料 %(name)s 的类型不允许：只接受 PDF、JPG、PNG、XLSX、DOCX 文件（按文件内容判断）。"
        )
        % {"name": name}
    )


@transaction.atomic
def attach_evidence(
    submission: Submission, name: str, content: bytes, *, indicator=None, acting_user
):
    """Attach an evidence file to a submission (or one indicator of it)."""
    from django.core.files.base import ContentFile

    check_may_enter(
        acting_user,
        submission.round,
        [submission.place],
        [indicator.pk] if indicator else [],
        submission.source,
    )
    kind = evidence_kind(name, content)
    evidence = Evidence(
        submission=submission,
        indicator=indicator,
        original_name=name[:200],
        content_kind=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=acting_user,
    )
    evidence.file.save(name, ContentFile(content), save=False)
    evidence.save()
    record_event(submission, "evidence_attached", acting_user=acting_user, note=name)
    return evidence


# --------------------------------------------------------------------------- third party, adoption


def _tolerances(round_: Round) -> dict[str, float]:
    from .validation import load_rules

    rules = load_rules()
    return {
        i.code: rules.for_indicator(i.code, i.unit).tolerance
        for i in round_.system.all_indicators()
    }


def discrepancies(round_: Round, *, acting_user) -> pd.DataFrame:
    """Self-check against third-party values per place and indicator.

    Columns: place, indicator, self_check, third_party, relative_difference, tolerance,
    exceeds, adopted (the adjudicated value where one exists). Only places the user may
    see are included.
    """
    rows = Value.objects.restrict(acting_user, Action.VIEW).filter(
        round=round_, source__in=[Source.SELF_CHECK, Source.THIRD_PARTY, Source.ADOPTED]
    )
    long = pd.DataFrame.from_records(
        rows.values_list("place__code", "indicator__code", "source", "value"),
        columns=["place", "indicator", "source", "value"],
    )
    columns = ["self_check", "third_party", "adopted"]
    if long.empty:
        wide = pd.DataFrame(columns=["place", "indicator", *columns])
    else:
        wide = (
            long.pivot_table(
                index=["place", "indicator"], columns="source", values="value", aggfunc="first"
            )
            .reindex(columns=columns)
            .reset_index()
        )
    wide.columns.name = None
    wide = wide[wide["third_party"].notna()].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        base = wide["self_check"].abs().where(wide["self_check"] != 0, wide["third_party"].abs())
        wide["relative_difference"] = ((wide["third_party"] - wide["self_check"]) / base).astype(
            float
        )
    wide["tolerance"] = wide["indicator"].map(_tolerances(round_)).astype(float)
    wide["exceeds"] = (
        wide["relative_difference"].abs().gt(wide["tolerance"]) | wide["self_check"].isna()
    )
    return wide[
        [
            "place",
            "indicator",
            "self_check",
            "third_party",
            "relative_difference",
            "tolerance",
            "exceeds",
            "adopted",
        ]
    ].reset_index(drop=True)


@transaction.atomic
def adjudicate(
    round_: Round,
    place: Place,
    indicator: Indicator,
    *,
    chosen_source: str,
    reason: str,
    value: float | None = None,
    acting_user,
) -> Adjudication:
    """Record the adopted value (采信值) and who chose it and why.

    ``chosen_source`` self_check, third_party or survey takes that source's stored value;
    ``adopted`` takes ``value`` as given (e.g. after a site visit).
    """
    check_place(acting_user, place, Action.APPROVE)
    if not _is_province_user(acting_user):
        raise PermissionDenied(_("只有省级用户可以裁定采信值。"))
    if not reason.strip():
        raise CheckStepError(_("请填写采信理由。"))
    stored = dict(
        Value.objects.filter(
            round=round_, place=place, indicator=indicator, source__in=ADJUDICABLE_SOURCES
        ).values_list("source", "value")
    )
    if chosen_source in ADJUDICABLE_SOURCES:
        if stored.get(chosen_source) is None:
            raise CheckStepError(
                _("%(place)s 的指标 %(indicator)s 没有该来源的数值。")
                % {"place": place, "indicator": indicator.code}
            )
        value = stored[chosen_source]
    elif chosen_source != Source.ADOPTED or value is None:
        raise CheckStepError(_("采信来源须为自体检值、第三方值、满意度调查值，或给出核定的数值。"))
    adjudication, _created = Adjudication.objects.update_or_create(
        round=round_,
        place=place,
        indicator=indicator,
        defaults={
            "self_check_value": stored.get(Source.SELF_CHECK),
            "third_party_value": stored.get(Source.THIRD_PARTY),
            "chosen_source": chosen_source,
            "adopted_value": value,
            "reason": reason.strip(),
            "decided_by": acting_user,
        },
    )
    write_values(
        round_,
        Source.ADOPTED,
        [ValueEntry(place, indicator, value, reason.strip())],
        acting_user=acting_user,
        channel=ChangeChannel.ADJUDICATION,
        reason=reason.strip(),
    )
    record_event(
        adjudication,
        "adjudicated",
        acting_user=acting_user,
        note=reason.strip(),
        data={"chosen_source": chosen_source, "value": value},
    )
    return adjudication


def _is_province_user(user) -> bool:
    return user.is_superuser or (
        user.place_id is not None and user.place.level == PlaceLevel.PROVINCE
    )


def department_by_code(code: str | None):
    if not code:
        return None
    try:
        return Department.objects.get(code=code)
    except Department.DoesNotExist as missing:
        raise CheckStepError(_("没有代码为 %(code)s 的责任单位。") % {"code": code}) from missing
