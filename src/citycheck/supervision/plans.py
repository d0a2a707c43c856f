"""Local implementation plans (实施方案): the only writer of plans, targets, tasks and yearly
plans, and the progress of targets against the trend of adopted values.

A target names an indicator of the platform's indicator systems and a year within its
plan's period; anything else is refused naming the field. Progress follows the rule of
:func:`citycheck.engine.appraisal.target_status` (met / on track / at risk / off track).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from citycheck.collection.models import Source, Value
from citycheck.core.access import check_place
from citycheck.core.choices import Action
from citycheck.core.models import record_event
from citycheck.core.numbers import NumberError, parse_number
from citycheck.engine.appraisal import target_status
from citycheck.indicators.models import Direction, Indicator
from citycheck.places.models import Place, PlaceLevel

from .models import Comparison, LocalPlan, PlanTarget, PlanTask, TaskStatus, YearlyPlan

# The years a plan may cover (the platform's rounds start in 2021; the plan runs to 2035).
FIRST_YEAR, LAST_YEAR = 2021, 2035


class PlanError(ValueError):
    """A plan entry that is refused; ``field`` names the field to correct."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def status_label(status: str) -> str:
    return {
        "met": _("已达标"),
        "on_track": _("按期可达"),
        "at_risk": _("存在风险"),
        "off_track": _("难以按期完成"),
        "no_data": _("暂无数据"),
    }[status]


def _year(value, field: str) -> int:
    try:
        year = int(parse_number(value))
    except (NumberError, ValueError, OverflowError) as exc:
        raise PlanError(field, _("年度须为数字：%(error)s") % {"error": exc}) from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PlanError(
            field,
            _("年度 %(year)s 不在 %(first)d–%(last)d 之间")
            % {"year": year, "first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return year


@transaction.atomic
def save_plan(
    place: Place, *, title: str, start_year, end_year, summary: str = "", acting_user
) -> LocalPlan:
    """Create or update ``place``'s plan (a city or county, within the user's reach)."""
    check_place(acting_user, place, Action.CHANGE)
    if place.level not in (PlaceLevel.CITY, PlaceLevel.COUNTY):
        raise PlanError("place", _("实施方案由设区市或县（市、区）编制"))
    if not title.strip():
        raise PlanError("title", _("请填写方案名称"))
    start, end = _year(start_year, "start_year"), _year(end_year, "end_year")
    if end < start:
        raise PlanError("end_year", _("目标年度不能早于起始年度"))
    plan = LocalPlan.objects.filter(place=place).first()
    if plan is None:
        plan = LocalPlan(place=place)
    else:
        plan.snapshot()
        outside = plan.targets.exclude(year__range=(start, end))
        if outside.exists():
            raise PlanError(
                "end_year",
                _("已有目标年度在新的期限之外：%(years)s")
                % {"years": ", ".join(sorted({str(t.year) for t in outside}))},
            )
    plan.title, plan.start_year, plan.end_year = title.strip(), start, end
    plan.summary = summary
    plan.save()
    return plan


def find_indicator(code: str) -> Indicator:
    """The indicator ``code`` of the newest system that has it; :class:`PlanError` if no
    system has it."""
    indicator = (
        Indicator.objects.filter(code=code.strip())
        .select_related("system")
        .order_by("-system__version", "-pk")
        .first()
    )
    if indicator is None:
        raise PlanError("indicator", _("未知指标：%(code)s") % {"code": code})
    return indicator


@transaction.atomic
def set_target(plan: LocalPlan, *, indicator: str, year, value, comparison: str = "", acting_user):
    """Set the target for ``indicator`` (a code) in ``year``: refused for an unknown
    indicator, a year outside the plan, a value that is not a number or a range indicator
    without a comparison."""
    check_place(acting_user, plan.place, Action.CHANGE)
    found = find_indicator(indicator)
    year = _year(year, "year")
    if not plan.start_year <= year <= plan.end_year:
        raise PlanError(
            "year",
            _("目标年度 %(year)d 不在方案期限 %(start)d–%(end)d 内")
            % {"year": year, "start": plan.start_year, "end": plan.end_year},
        )
    try:
        number = parse_number(value)
    except NumberError as exc:
        raise PlanError("value", str(exc)) from None
    if not comparison:
        comparison = {
            Direction.HIGHER: Comparison.AT_LEAST,
            Direction.LOWER: Comparison.AT_MOST,
        }.get(found.direction, "")
    if comparison not in Comparison.values:
        raise PlanError("comparison", _("区间类指标须指明目标是“≥”还是“≤”"))
    target = PlanTarget.objects.filter(plan=plan, indicator__code=found.code, year=year).first()
    if target is None:
        target = PlanTarget(plan=plan, year=year)
    else:
        target.snapshot()
    target.indicator, target.value, target.comparison = found, number, comparison
    target.save()
    return target


@transaction.atomic
def add_task(plan: LocalPlan, *, title: str, department: str, deadline: dt.date, acting_user):
    check_place(acting_user, plan.place, Action.CHANGE)
    if not title.strip():
        raise PlanError("title", _("请填写任务"))
    if not department.strip():
        raise PlanError("department", _("请填写责任单位"))
    return PlanTask.objects.create(
        plan=plan, title=title.strip(), department=department.strip(), deadline=deadline
    )


@transaction.atomic
def set_task_status(task: PlanTask, *, status: str, note: str = "", acting_user) -> PlanTask:
    check_place(acting_user, task.plan.place, Action.CHANGE)
    if status not in TaskStatus.values:
        raise PlanError("status", _("未知状态：%(status)s") % {"status": status})
    task.snapshot()
    task.status, task.note = status, note
    task.save()
    return task


@transaction.atomic
def set_yearly_plan(plan: LocalPlan, *, year, text: str, acting_user) -> YearlyPlan:
    check_place(acting_user, plan.place, Action.CHANGE)
    year = _year(year, "year")
    if not plan.start_year <= year <= plan.end_year:
        raise PlanError("year", _("年度不在方案期限内"))
    if not text.strip():
        raise PlanError("text", _("请填写年度计划"))
    yearly, created = YearlyPlan.objects.get_or_create(
        plan=plan, year=year, defaults={"text": text.strip()}
    )
    if not created:
        yearly.snapshot()
        yearly.text = text.strip()
        yearly.save()
    record_event(plan, "yearly_plan_set", acting_user=acting_user, data={"year": year})
    return yearly


def target_progress(plans, *, as_of: int | None = None) -> pd.DataFrame:
    """One row per target of ``plans`` with the trend's status (engine rule) over the
    adopted values (采信值) of the plan's place, up to year ``as_of``."""
    targets = list(
        PlanTarget.objects.filter(plan__in=plans).select_related("plan__place", "indicator")
    )
    columns = ["target_id", "place", "indicator", "year", "target", "comparison"]
    frame = pd.DataFrame(
        [
            {
                "target_id": t.pk,
                "place": t.plan.place.code,
                "indicator": t.indicator.code,
                "year": t.year,
                "target": t.value,
                "comparison": t.comparison,
            }
            for t in targets
        ],
        columns=columns,
    )
    if as_of is not None:
        frame["as_of"] = as_of
    observed = pd.DataFrame(
        list(
            Value.objects.filter(
                source=Source.ADOPTED,
                place__code__in=set(frame["place"]),
                indicator__code__in=set(frame["indicator"]),
                value__isnull=False,
            ).values_list("place__code", "indicator__code", "round__year", "value")
        ),
        columns=["place", "indicator", "year", "value"],
    )
    observed = observed.groupby(["place", "indicator", "year"], as_index=False)["value"].last()
    return target_status(observed, frame)
