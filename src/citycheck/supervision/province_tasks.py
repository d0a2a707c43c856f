"""The province's own task list (1 mechanism, 6 programmes, 22 tasks, §二) and the
monthly status its responsible departments report: the only writer of both.

The list is a data file (``data/supervision/plan_tasks.yaml``) checked with file, line and
field; a department reports only on the tasks that name it (the province's
administrator may report for any of them).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from citycheck.accounts.models import Department
from citycheck.core.choices import Role
from citycheck.indicators.yaml_files import Issue, load_yaml
from citycheck.places.models import PlaceLevel

from .appraisals import SchemeError
from .dispatch import may_run
from .models import ProvinceTask, ProvinceTaskReport, TaskStatus


def tasks_path() -> Path:
    return settings.DATA_DIR / "supervision" / "plan_tasks.yaml"


class TaskReportError(ValueError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def read_tasks(path: Path) -> list[dict]:
    """The tasks of the file, checked; :class:`SchemeError` lists every problem."""
    name = str(path)
    data, issues = load_yaml(Path(path))
    if issues:
        raise SchemeError(issues)
    known = set(Department.objects.values_list("code", flat=True))
    programmes = data.get("programmes") if isinstance(data, dict) else None
    if not isinstance(programmes, list) or not programmes:
        raise SchemeError([Issue(name, None, "programmes", _("须列出工程及其任务"))])
    tasks, numbers = [], set()
    for programme in programmes:
        for field in ("number", "name", "tasks"):
            if not programme.get(field):
                issues.append(Issue(name, programme.line_of(field), field, _("缺少此项")))
        for task in programme.get("tasks") or []:
            number = task.get("number")
            if not isinstance(number, int) or number in numbers:
                issues.append(
                    Issue(name, task.line_of("number"), "number", _("序号须为不重复的整数"))
                )
            numbers.add(number)
            if not str(task.get("title", "")).strip():
                issues.append(Issue(name, task.line_of("title"), "title", _("缺少任务名称")))
            departments = task.get("departments") or []
            unknown = [code for code in departments if code not in known]
            if unknown or not departments:
                issues.append(
                    Issue(
                        name,
                        task.line_of("departments"),
                        "departments",
                        _("未知部门代码：%(codes)s") % {"codes": ", ".join(map(str, unknown))}
                        if unknown
                        else _("须至少列出一个责任单位"),
                    )
                )
            tasks.append(
                {
                    "number": number,
                    "programme_number": programme.get("number"),
                    "programme": programme.get("name"),
                    "title": str(task.get("title", "")).strip(),
                    "departments": departments,
                    "others": list(task.get("others") or []),
                }
            )
    if issues:
        raise SchemeError(issues)
    return tasks


@transaction.atomic
def load_tasks(path: Path | None = None, *, acting_user) -> int:
    """Load (or update) the province's task list; nothing is written if the file is refused."""
    if not may_run(acting_user):
        raise PermissionDenied(_("只有省级管理员可以导入省级任务清单。"))
    rows = read_tasks(path or tasks_path())
    departments = {d.code: d for d in Department.objects.all()}
    for row in rows:
        task = ProvinceTask.objects.filter(number=row["number"]).first() or ProvinceTask(
            number=row["number"]
        )
        if task.pk:
            task.snapshot()
        task.programme_number = row["programme_number"]
        task.programme = row["programme"]
        task.title = row["title"]
        task.others = row["others"]
        task.save()
        task.departments.set([departments[c] for c in row["departments"]])
    return len(rows)


def may_report(user, task: ProvinceTask, department: Department) -> bool:
    if may_run(user):
        return True
    return (
        getattr(user, "role", "") == Role.DEPARTMENT_FILLER
        and user.department_id == department.pk
        and user.place_id is not None
        and user.place.level == PlaceLevel.PROVINCE
        and task.departments.filter(pk=department.pk).exists()
    )


@transaction.atomic
def report_status(
    task: ProvinceTask,
    *,
    month: dt.date,
    department: Department,
    status: str,
    note: str = "",
    acting_user,
) -> ProvinceTaskReport:
    """A department's status of ``task`` for ``month`` (a correction replaces it)."""
    if not may_report(acting_user, task, department):
        raise PermissionDenied(
            _("%(department)s不是任务“%(task)s”的责任单位，或您的账号不能代其报送。")
            % {"department": department, "task": task.title}
        )
    if not task.departments.filter(pk=department.pk).exists():
        raise TaskReportError("department", _("%(d)s不是该任务的责任单位") % {"d": department})
    if status not in TaskStatus.values:
        raise TaskReportError("status", _("未知状态：%(status)s") % {"status": status})
    report = ProvinceTaskReport.objects.filter(
        task=task, month=month.replace(day=1), department=department
    ).first()
    if report is None:
        report = ProvinceTaskReport(task=task, month=month.replace(day=1), department=department)
    else:
        report.snapshot()
    report.status, report.note, report.reported_by = status, note.strip(), acting_user
    report.save()
    return report


def month_table(month: dt.date) -> list[tuple[ProvinceTask, list, dict]]:
    """Each task, its departments and their status this month and the month before."""
    month = month.replace(day=1)
    before = (month - dt.timedelta(days=1)).replace(day=1)
    reports = {}
    for report in ProvinceTaskReport.objects.filter(month__in=[month, before]):
        reports[(report.task_id, report.department_id, report.month)] = report
    out = []
    for task in ProvinceTask.objects.prefetch_related("departments"):
        departments = list(task.departments.all())
        cells = {
            d.pk: (reports.get((task.pk, d.pk, month)), reports.get((task.pk, d.pk, before)))
            for d in departments
        }
        out.append((task, departments, cells))
    return out
