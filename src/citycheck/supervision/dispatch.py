"""The monthly dispatch (每月调度): the only writer of dispatch months and city reports.

The province opens a month with a deadline; every prefecture-level city then has one
report for it. A city's report takes its figures from the platform when it is submitted
(its and its counties' renewal projects and their monthly progress, the tasks of their
local plans) beside the city's own words; the province reminds the cities that have not
reported and closes the month, which marks the rest overdue. The board compares each
city's figures with its report of the month before.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import CharField, Count, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from citycheck.core.access import check_place, may
from citycheck.core.choices import Action
from citycheck.core.excel import append_row
from citycheck.core.models import record_event
from citycheck.engine.renewal import progress_flags
from citycheck.places.models import Place, PlaceLevel
from citycheck.renewal.models import ProgressReport, ProjectStatus, RenewalProject

from .models import DispatchMonth, DispatchReport, DispatchStatus, PlanTask, TaskStatus

DEADLINE_DAY = 10  # of the following month, unless the province sets another
# The figures a report carries, in the order the board and the sheet show them.
FIGURES = (
    "projects",
    "reported",
    "percent_complete",
    "late",
    "stalled",
    "tasks",
    "tasks_done",
    "tasks_delayed",
    "warnings_handled",
    "warnings_overdue",
)


def figure_labels() -> dict[str, str]:
    return {
        "projects": _("在建项目"),
        "reported": _("本月报送进度的项目"),
        "percent_complete": _("平均形象进度（%）"),
        "late": _("滞后项目"),
        "stalled": _("停滞项目"),
        "tasks": _("方案任务"),
        "tasks_done": _("已完成任务"),
        "tasks_delayed": _("滞后任务"),
        "warnings_handled": _("本月处置预警"),
        "warnings_overdue": _("逾期未处置预警"),
    }


class DispatchError(ValueError):
    """A dispatch step that is refused; ``field`` names the field to correct."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def may_run(user) -> bool:
    """Province users with the manage action run the dispatch."""
    return may(user, Action.MANAGE) and (
        user.is_superuser or (user.place_id is not None and user.place.level == PlaceLevel.PROVINCE)
    )


def _require_runner(user) -> None:
    if not may_run(user):
        raise PermissionDenied(_("只有省级管理员可以组织月度调度。"))


def first_of(month: dt.date) -> dt.date:
    return month.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def cities():
    return Place.objects.filter(level=PlaceLevel.CITY).order_by("code")


@transaction.atomic
def open_month(
    month: dt.date, *, deadline: dt.date | None = None, acting_user, is_synthetic: bool = False
) -> DispatchMonth:
    """Open ``month``'s dispatch with a pending report for every city (an already open
    month is returned as it is)."""
    _require_runner(acting_user)
    month = first_of(month)
    deadline = deadline or (month_end(month) + dt.timedelta(days=DEADLINE_DAY))
    if deadline < month:
        raise DispatchError("deadline", _("截止日期不能早于调度月份"))
    dispatch, created = DispatchMonth.objects.get_or_create(
        month=month, defaults={"deadline": deadline, "is_synthetic": is_synthetic}
    )
    if created:
        DispatchReport.objects.bulk_create(
            [DispatchReport(month=dispatch, place=city) for city in cities()]
        )
        record_event(
            dispatch, "dispatch_opened", acting_user=acting_user, data={"deadline": deadline}
        )
    return dispatch


# The province's renewal figures of a month, per project, kept for the last few months and
# reused while the renewal records are as they were (see ``_renewal_rows``).
_RENEWAL_MEMO: OrderedDict = OrderedDict()
_RENEWAL_MEMO_SIZE = 4
_RENEWAL_LOCK = threading.Lock()


def _renewal_state() -> tuple:
    """A fingerprint of the records the renewal figures are taken from: it changes with
    any save (``last_updated``), addition or deletion (count, largest and summed keys).
    One plain query: it is taken at every report."""
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT {n}, COUNT(*), MAX({quote(model._meta.pk.column)}), SUM({quote(model._meta.pk.column)}), "
        f"MAX({quote('last_updated')}) FROM {quote(model._meta.db_table)}"
        for n, model in enumerate((RenewalProject, ProgressReport, Place))
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(sorted(tuple(row) for row in cursor.fetchall()))


def _renewal_rows(month: dt.date) -> list[tuple[str, float | None, bool, bool]]:
    """Every project of the province running in ``month``: its place's path, its progress
    report of the month (percent complete, or None) and the renewal board's late and
    stalled flags — all projects in one pass, reused by every city reporting that month
    until a renewal record changes."""
    key = (connection.alias, first_of(month), _renewal_state())
    with _RENEWAL_LOCK:
        if key in _RENEWAL_MEMO:
            _RENEWAL_MEMO.move_to_end(key)
            return _RENEWAL_MEMO[key]
    # projects started by the month's end and not finished before it began
    started = list(
        RenewalProject.objects.exclude(
            status__in=[ProjectStatus.CANDIDATE, ProjectStatus.CANCELLED]
        )
        .filter(start__lte=month_end(month))
        .filter(Q(end__gte=first_of(month)) | ~Q(status=ProjectStatus.FINISHED))
        .values("pk", "start", "end", "place__path")
    )
    project_ids = [p["pk"] for p in started]
    history = pd.DataFrame(
        list(
            ProgressReport.objects.filter(
                project__in=project_ids, month__lte=first_of(month)
            ).values("project", "month", "percent_complete", "investment")
        ),
        columns=["project", "month", "percent_complete", "investment"],
    )
    this_month = dict(
        history.loc[
            history["month"] == first_of(month), ["project", "percent_complete"]
        ].itertuples(index=False, name=None)
    )
    if project_ids:
        table = pd.DataFrame(
            [{"project": p["pk"], "start": p["start"], "end": p["end"]} for p in started],
            columns=["project", "start", "end"],
        )
        flags = progress_flags(table, history, as_of=month_end(month))
        late, stalled = flags["late"].to_dict(), flags["stalled"].to_dict()
    else:
        late = stalled = {}
    rows = [
        (
            p["place__path"],
            this_month.get(p["pk"]),
            bool(late.get(p["pk"], False)),
            bool(stalled.get(p["pk"], False)),
        )
        for p in started
    ]
    with _RENEWAL_LOCK:
        _RENEWAL_MEMO[key] = rows
        while len(_RENEWAL_MEMO) > _RENEWAL_MEMO_SIZE:
            _RENEWAL_MEMO.popitem(last=False)
    return rows


def city_figures(place: Place, month: dt.date) -> dict:
    """The platform's figures of ``place`` and its counties for ``month``."""
    subtree = Place.objects.subtree_of(place)
    mine = [row for row in _renewal_rows(month) if (row[0] or "").startswith(place.path)]
    percents = [row[1] for row in mine if row[1] is not None]
    tasks = dict(
        PlanTask.objects.filter(plan__place__in=subtree)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    handled, overdue = _warnings(subtree, month)
    return {
        "warnings_handled": handled,
        "warnings_overdue": overdue,
        "projects": len(mine),
        "reported": len(percents),
        "percent_complete": round(sum(percents) / len(percents), 1) if percents else None,
        "late": sum(row[2] for row in mine),
        "stalled": sum(row[3] for row in mine),
        "tasks": sum(tasks.values()),
        "tasks_done": tasks.get(TaskStatus.DONE, 0),
        "tasks_delayed": tasks.get(TaskStatus.DELAYED, 0),
    }


def _warnings(subtree, month: dt.date) -> tuple[int, int]:
    """Warnings of the monitoring app for the places of ``subtree``: handled during
    ``month`` (its ``handled`` events), and raised by the month's end, past their deadline
    then and still not handled when the report is made."""
    from citycheck.core.models import ChangeRecord
    from citycheck.monitoring.models import EarlyWarning, WarningStatus

    warnings = EarlyWarning.objects.filter(place__in=subtree)
    end = month_end(month)
    # the month's days in the current time zone, as times (so the indexes on times serve)
    since, until = (
        timezone.make_aware(dt.datetime.combine(day, dt.time()))
        for day in (first_of(month), end + dt.timedelta(days=1))
    )
    handled = ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(EarlyWarning),
        event="handled",
        object_id__in=warnings.annotate(key=Cast("pk", CharField())).values("key"),
        time__gte=since,
        time__lt=until,
    ).count()
    overdue = warnings.filter(
        status__in=[WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED],
        deadline__lt=end,
        raised__lt=until,
    ).count()
    return handled, overdue


@transaction.atomic
def submit_report(
    report: DispatchReport,
    *,
    summary: str,
    task_updates: dict[int, str] | None = None,
    acting_user,
    submitted_on: dt.date | None = None,
) -> DispatchReport:
    """Submit (or correct, while the month is open) a city's report: the plan tasks'
    statuses given in ``task_updates`` (task id → status) are recorded first, then the
    figures are taken. ``submitted_on`` is today unless a replay (the demo) says otherwise;
    a report after the deadline is marked late."""
    from .plans import set_task_status

    check_place(acting_user, report.place, Action.CHANGE)
    if report.month.status != DispatchMonth.Status.OPEN:
        raise DispatchError(
            "month", _("%(month)s 的调度已截止，不能再报送") % {"month": report.month}
        )
    if not summary.strip():
        raise DispatchError("summary", _("请填写本月工作情况"))
    subtree = Place.objects.subtree_of(report.place)
    updates = task_updates or {}
    own = {  # the city's tasks among those named, in one query
        str(task.pk): task
        for task in PlanTask.objects.filter(pk__in=list(updates), plan__place__in=subtree)
    }
    for task_id, status in updates.items():
        task = own.get(str(task_id))
        if task is None:
            raise DispatchError("tasks", _("任务 %(id)s 不属于本市的实施方案") % {"id": task_id})
        if task.status != status:
            set_task_status(task, status=status, note=task.note, acting_user=acting_user)
    day = submitted_on or timezone.localdate()
    report.snapshot()
    report.summary = summary.strip()
    report.figures = city_figures(report.place, report.month.month)
    report.status = DispatchStatus.SUBMITTED
    report.submitted_at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    report.submitted_by = acting_user
    report.late = day > report.month.deadline
    report.save()
    record_event(report, "dispatch_submitted", acting_user=acting_user, data={"late": report.late})
    return report


@transaction.atomic
def remind(dispatch: DispatchMonth, *, acting_user) -> list[DispatchReport]:
    """Remind every city that has not reported: each reminder is counted and recorded."""
    _require_runner(acting_user)
    if dispatch.status != DispatchMonth.Status.OPEN:
        raise DispatchError("month", _("%(month)s 的调度已截止") % {"month": dispatch})
    pending = list(dispatch.reports.filter(status=DispatchStatus.PENDING).select_related("place"))
    for report in pending:
        report.snapshot()
        report.reminders += 1
        report.save()
        record_event(
            report, "dispatch_reminded", acting_user=acting_user, data={"n": report.reminders}
        )
    return pending


@transaction.atomic
def close_month(dispatch: DispatchMonth, *, acting_user) -> list[DispatchReport]:
    """Close the month: reports still pending become overdue (returned)."""
    _require_runner(acting_user)
    if dispatch.status == DispatchMonth.Status.CLOSED:
        return []
    overdue = list(dispatch.reports.filter(status=DispatchStatus.PENDING).select_related("place"))
    for report in overdue:
        report.snapshot()
        report.status = DispatchStatus.OVERDUE
        report.save()
    dispatch.snapshot()
    dispatch.status = DispatchMonth.Status.CLOSED
    dispatch.closed_at = timezone.now()
    dispatch.save()
    record_event(
        dispatch, "dispatch_closed", acting_user=acting_user, data={"overdue": len(overdue)}
    )
    return overdue


@dataclass
class BoardRow:
    report: DispatchReport
    figures: list  # (key, value, change since last month or None)
    overdue: bool  # not reported and past the deadline (or closed)


def board(dispatch: DispatchMonth, *, today: dt.date | None = None) -> list[BoardRow]:
    """Every city's report of the month with its change since the month before."""
    today = today or timezone.localdate()
    previous = DispatchMonth.objects.filter(month__lt=dispatch.month).order_by("-month").first()
    before = (
        {r.place_id: r.figures for r in previous.reports.filter(status=DispatchStatus.SUBMITTED)}
        if previous
        else {}
    )
    rows = []
    for report in dispatch.reports.select_related("place", "submitted_by").order_by("place__code"):
        last = before.get(report.place_id, {})
        figures = []
        for key in FIGURES:
            value = report.figures.get(key)
            old = last.get(key)
            change = value - old if value is not None and old is not None else None
            figures.append((key, value, change))
        overdue = report.status == DispatchStatus.OVERDUE or (
            report.status == DispatchStatus.PENDING and today > dispatch.deadline
        )
        rows.append(BoardRow(report, figures, overdue))
    return rows


def overdue_places(dispatch: DispatchMonth, *, today: dt.date | None = None) -> list[Place]:
    return [row.report.place for row in board(dispatch, today=today) if row.overdue]


def export_sheet(dispatch: DispatchMonth, stream, *, today: dt.date | None = None) -> None:
    """The month's dispatch sheet as an Excel workbook written to ``stream``."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{dispatch.month:%Y-%m}"
    labels = figure_labels()
    append_row(
        sheet,
        [_("地区代码"), _("地区"), _("状态"), _("报送时间"), _("逾期"), _("催报次数")]
        + [labels[k] for k in FIGURES]
        + [_("较上月变化：") + labels[k] for k in FIGURES]
        + [_("本月工作情况")],
    )
    for row in board(dispatch, today=today):
        report = row.report
        append_row(
            sheet,
            [
                report.place.code,
                report.place.name_zh,
                report.get_status_display(),
                report.submitted_at.date().isoformat() if report.submitted_at else "",
                _("是") if row.overdue or report.late else "",
                report.reminders,
            ]
            + [value for _key, value, _change in row.figures]
            + [change for _key, _value, change in row.figures]
            + [report.summary],
        )
    book.save(stream)
