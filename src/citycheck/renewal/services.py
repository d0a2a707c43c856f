"""Treatment workflow: propose, adopt, import and export projects; monthly progress.

The only module that writes projects and progress reports. The numbers come from
:mod:`citycheck.engine.renewal`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from citycheck.accounts.models import Department, department_names, name_departments
from citycheck.assessment.models import Release, ReleaseStatus
from citycheck.collection.models import Round, RoundKind, RoundStatus, Source, Value
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.language import localized, unit_label
from citycheck.core.models import record_event
from citycheck.diagnosis.models import Problem, ProblemStatus
from citycheck.diagnosis.services import published_releases, round_data
from citycheck.engine import renewal as engine
from citycheck.engine.effects import difference_in_differences, what_if
from citycheck.engine.index import compute_index
from citycheck.indicators.models import Indicator
from citycheck.places.models import Place

from .models import ProgressReport, ProjectStatus, RenewalProject

MEASURES_FILE = Path(settings.DATA_DIR) / "renewal" / "measures.yaml"
TEMPLATE_SHEET = "项目库"
# Column headers of the import template, in order, and the field each fills.
TEMPLATE_COLUMNS = (
    ("地区代码", "place"),
    ("项目名称", "name"),
    ("项目类型", "project_type"),
    ("计划年度", "year"),
    ("总投资（万元）", "budget"),
    ("开工时间", "start"),
    ("完工时间", "end"),
    ("责任单位", "unit"),
    ("经度", "longitude"),
    ("纬度", "latitude"),
    ("目标指标", "targets"),
    ("资金来源", "funding"),
    ("问题编号", "problems"),
)


class ProjectImportError(ValueError):
    """A template with errors; ``issues`` lists (row, column, message); nothing was written."""

    def __init__(self, issues: list[tuple[int, str, str]]):
        self.issues = issues
        lines = [f"{TEMPLATE_SHEET}!{column}{row}: {message}" for row, column, message in issues]
        super().__init__("\n".join(lines))


@cache
def project_types() -> dict[str, engine.ProjectType]:
    return {kind.code: kind for kind in engine.load_measures(MEASURES_FILE)}


def project_type_names() -> dict[str, str]:
    """Project type code → name in the active language (English when English is active,
    else Chinese), for pages and exports."""
    return {code: localized(kind.name_zh, kind.name_en) for code, kind in project_types().items()}


# Departments in ``RenewalProject.unit`` are joined by this mark (as proposals write them).
UNIT_SEPARATOR = "、"


def with_names(projects) -> list[RenewalProject]:
    """The projects, each with what pages show instead of stored codes, in the active
    language: ``type_name`` (project type), ``unit_name`` (registered departments, written
    as codes or Chinese names, by name; other text as written) and ``target_rows`` (each
    target with the indicator's ``name`` and a ``label``, “name +1.5 unit”)."""
    projects = list(projects)
    type_names = project_type_names()
    departments = department_names()
    codes = {t["indicator"] for p in projects for t in p.targets}
    indicators = {  # a code in several systems: the latest system's name
        code: (localized(name_zh, name_en), unit_label(unit))
        for code, name_zh, name_en, unit in Indicator.objects.filter(code__in=codes)
        .order_by("system_id")
        .values_list("code", "name_zh", "name_en", "unit")
    }
    for project in projects:
        project.type_name = type_names.get(project.project_type, project.project_type)
        project.unit_name = _("、").join(
            name_departments(project.unit.split(UNIT_SEPARATOR), departments)
        )
        project.target_rows = []
        for target in project.targets:
            name, unit = indicators.get(target["indicator"], (target["indicator"], ""))
            label = _("%(indicator)s %(change)s%(unit)s") % {
                "indicator": name,
                "change": f"{target['expected_change']:+g}",
                "unit": unit,
            }
            # English spaces the unit, so a target without one would end in a space.
            project.target_rows.append({**target, "name": name, "label": label.rstrip()})
    return projects


# Weights of the priority components (sum 1), given to the engine and stored with each
# scored project so that its explanation can be rebuilt in any language.
PRIORITY_WEIGHTS = {"severity": 0.4, "demand": 0.25, "urgency": 0.2, "cost": 0.15}


# Statuses of the projects that make up a year's annual construction plan (年度建设计划).
PLAN_STATUSES = (ProjectStatus.ADOPTED, ProjectStatus.IN_PROGRESS, ProjectStatus.FINISHED)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def _priority_fields(row: dict) -> dict:
    """The priority fields of a project from one row of the engine's
    :func:`~citycheck.engine.renewal.priority_scores`."""
    return {
        "priority": round(float(row["priority"]), 1),
        "priority_components": {k: round(float(row[f"priority_{k}"]), 3) for k in PRIORITY_WEIGHTS},
        "priority_explanation": row["priority_explanation"],
        "priority_basis": {
            "weights": PRIORITY_WEIGHTS,
            # No demand figures are passed, so the engine used the survey or 0.5.
            "demand_source": "unknown" if pd.isna(row["satisfaction"]) else "survey",
            "budget": float(row["budget"]),
        },
    }


def _candidates(problems: list[Problem], kinds) -> pd.DataFrame:
    """The engine's candidates of project types ``kinds`` for ``problems`` (whatever their
    review status), in the order of ``kinds``."""
    frame = pd.DataFrame(
        [{k: v for k, v in p.as_engine_row().items() if k != "status"} for p in problems]
    )
    return engine.propose_projects(
        frame,
        project_types=tuple(kinds),
        place_names={p.place.code: p.place.name_zh for p in problems},
    )


def _scored(candidates: pd.DataFrame) -> pd.DataFrame:
    return engine.priority_scores(candidates, weights=PRIORITY_WEIGHTS)


@transaction.atomic
def propose_projects(round_: Round, *, acting_user=None) -> list[RenewalProject]:
    """Candidate projects for the round's confirmed problems, with their priority.

    One candidate per place and project type (addressing all its problems), planned for
    the following year; a candidate that already exists is left as it is. With an
    ``acting_user``, only the problems of places the user may change are proposed for.
    """
    confirmed = round_.problems.filter(status=ProblemStatus.CONFIRMED)
    if acting_user is not None:
        confirmed = access.restrict(confirmed, acting_user, Action.CHANGE)
    problems = list(confirmed.select_related("place", "round"))
    if not problems:
        return []
    scored = _scored(_candidates(problems, project_types().values()))
    places = {p.place.code: p.place for p in problems}
    year = round_.year + 1
    created = []
    for row in scored.to_dict("records"):
        exists = RenewalProject.objects.filter(
            place=places[row["place"]], project_type=row["project_type"], year=year
        ).exists()
        if exists:
            continue
        start = dt.date(year, 1, 1)
        project = RenewalProject.objects.create(
            place=places[row["place"]],
            year=year,
            name=row["name"],
            project_type=row["project_type"],
            targets=row["targets"],
            budget=row["budget"],
            start=start,
            end=_add_months(start, row["months"] - 1),
            unit=UNIT_SEPARATOR.join(row["departments"]),
            **_priority_fields(row),
        )
        project.problems.set(row["problems"])
        created.append(project)
    record_event(
        round_, "projects_proposed", acting_user=acting_user, data={"projects": len(created)}
    )
    return created


def may_propose_for(user, place: Place) -> bool:
    """Whether ``user`` may propose projects for ``place`` (change data of the place)."""
    return Place.objects.restrict(user, Action.CHANGE).filter(pk=place.pk).exists()


def _targets_for_problem(problem: Problem, kind: engine.ProjectType) -> list[dict]:
    """Expected changes of a project addressing ``problem``: each indicator of the
    problem's evidence that falls short of its standard first, by the project type's typical
    change where the type moves it, else by the shortfall (closing the gap to the
    standard); then the type's other typical changes of indicators in the problem's system."""
    in_system = set(problem.round.system.all_indicators().values_list("code", flat=True))
    typical = dict(kind.targets)
    targets = {}
    for item in problem.evidence:
        code = item.get("indicator")
        if not code or code in targets:
            continue
        if code in typical:
            targets[code] = typical[code]
        elif item.get("gap"):
            targets[code] = round(
                item["gap"] if item.get("direction") == "higher" else -item["gap"], 4
            )
    for code, change in kind.targets:
        if code in in_system:
            targets.setdefault(code, change)
    return [{"indicator": code, "expected_change": change} for code, change in targets.items()]


def _department_codes(items) -> list[str]:
    """Departments given by code or Chinese name, as registered codes; text naming no
    registered department kept as written."""
    codes = {}
    for code, name_zh in Department.objects.values_list("code", "name_zh"):
        codes[code] = codes[name_zh] = code
    return list(
        dict.fromkeys(codes.get(item.strip(), item.strip()) for item in items if item.strip())
    )


@transaction.atomic
def propose_project_for_problem(problem: Problem, *, acting_user) -> tuple[RenewalProject, bool]:
    """A candidate project for one problem (open or confirmed), planned for the year after
    its round: of the project types addressing the problem's disease, the one whose typical
    changes cover most of the problem's indicators (the catalogue's first on a tie), with
    the problem's place, its indicators as targets (see :func:`_targets_for_problem`) and
    its responsible departments, linked to it.

    Where the place already has a project of that type for that year, the problem is
    linked to it instead; returns the project and whether it was created.
    """
    if problem.status == ProblemStatus.DISMISSED:
        raise CandidateError(_("该问题已排除，不能据此生成项目。"))
    candidates = _candidates([problem], project_types().values())
    if candidates.empty:
        raise CandidateError(
            _("项目类型目录中没有针对“%(disease)s”的项目类型；请通过项目库导入项目。")
            % {"disease": problem.title}
        )
    kinds = project_types()
    evidence = {item.get("indicator") for item in problem.evidence}
    chosen = max(  # the type moving most of the problem's indicators; ties: catalogue order
        candidates.to_dict("records"),
        key=lambda row: len(evidence & {code for code, _c in kinds[row["project_type"]].targets}),
    )
    row = _scored(pd.DataFrame([chosen])).iloc[0].to_dict()
    year = problem.round.year + 1
    existing = RenewalProject.objects.filter(
        place=problem.place, project_type=row["project_type"], year=year
    ).first()
    if existing is not None:
        existing.problems.add(problem)
        record_event(
            existing, "problem_linked", acting_user=acting_user, data={"problem": problem.pk}
        )
        return existing, False
    kind = kinds[row["project_type"]]
    start = dt.date(year, 1, 1)
    project = RenewalProject.objects.create(
        place=problem.place,
        year=year,
        name=row["name"],
        project_type=kind.code,
        targets=_targets_for_problem(problem, kind),
        budget=row["budget"],
        start=start,
        end=_add_months(start, row["months"] - 1),
        unit=UNIT_SEPARATOR.join(_department_codes(problem.departments or kind.departments)),
        **_priority_fields(row),
    )
    project.problems.set([problem])
    record_event(
        project, "proposed_from_problem", acting_user=acting_user, data={"problem": problem.pk}
    )
    return project, True


def _rescore(project: RenewalProject) -> None:
    """Recompute the priority of ``project`` (not saved) from its problems and its current
    budget, as the proposal would score it; a project without problems keeps what it has."""
    problems = list(project.problems.select_related("place", "round"))
    if not problems:
        return
    kind = project_types()[project.project_type]
    # The project addresses its own problems, whatever the type's usual diseases.
    own = dataclasses.replace(kind, diseases=tuple({p.disease for p in problems}))
    scored = _scored(_candidates(problems, [own]).assign(budget=project.budget))
    for field, value in _priority_fields(scored.iloc[0].to_dict()).items():
        setattr(project, field, value)


@transaction.atomic
def set_project_status(project: RenewalProject, status: str, *, acting_user) -> RenewalProject:
    """Adopt a candidate into the library, start, finish or cancel a project."""
    if status not in ProjectStatus.values:
        raise ValueError(_("未知的项目状态：%(status)s") % {"status": status})
    project.snapshot()
    project.status = status
    project.save()
    record_event(project, status, acting_user=acting_user)
    return project


class CandidateError(ValueError):
    """A candidate edit or a proposal from a problem that is refused; the message says why
    (naming the field for an edit)."""


@transaction.atomic
def update_candidate(
    project: RenewalProject,
    *,
    name: str,
    budget: float,
    start: dt.date,
    end: dt.date,
    unit: str,
    targets: list[dict],
    acting_user,
) -> RenewalProject:
    """Edit a candidate before adoption (name, budget, dates, unit, expected changes).

    Only candidates can be edited this way; an adopted project is the plan of record.
    The priority and its explanation are recomputed with the new budget.
    """
    if project.status != ProjectStatus.CANDIDATE:
        raise CandidateError(
            _("只有候选项目可以修改；该项目状态为“%(status)s”。")
            % {"status": project.get_status_display()}
        )
    if not name.strip():
        raise CandidateError(_("项目名称不能为空"))
    if budget < 0:
        raise CandidateError(_("总投资（万元）应为非负数；收到 %(value)s") % {"value": budget})
    if end < start:
        raise CandidateError(_("完工时间早于开工时间"))
    project.snapshot()
    project.name = name.strip()
    project.budget = budget
    project.start, project.end = start, end
    project.unit = unit.strip()
    project.targets = targets
    _rescore(project)  # the budget is part of the priority
    project.save()
    record_event(project, "edited", acting_user=acting_user)
    return project


def target_indicator_choices(project: RenewalProject) -> list[tuple[str, str]]:
    """(code, "name（unit）") in the active language of the indicators ``project`` may
    target: those of the indicator system of its problems' round (else of the latest annual
    round before its year), and any it already targets."""
    problem = project.problems.select_related("round__system").order_by("-round__year").first()
    # Rounds run over the project's place (its province's, in a national instance).
    rounds = (
        Round.objects.run_over(project.place).filter(kind=RoundKind.ANNUAL).select_related("system")
    )
    # The latest year first; within a year, the lowest runner (``run_over``'s order).
    latest = ("-year", F("scope__path").desc(nulls_last=True), "-pk")
    round_ = (
        problem.round
        if problem is not None
        else rounds.filter(year__lt=project.year).order_by(*latest).first()
        or rounds.order_by(*latest).first()
    )
    indicators = list(round_.system.all_indicators()) if round_ is not None else []
    listed = {i.code for i in indicators}
    indicators += Indicator.objects.filter(
        code__in=[t["indicator"] for t in project.targets if t["indicator"] not in listed]
    ).order_by("code", "-system_id")
    # A stored code no indicator has (an import of another system) stays choosable.
    choices = {t["indicator"]: t["indicator"] for t in project.targets}
    for indicator in indicators:
        name = localized(indicator.name_zh, indicator.name_en)
        unit = unit_label(indicator.unit)
        if choices.get(indicator.code, indicator.code) == indicator.code:
            choices[indicator.code] = (
                _("%(name)s（%(unit)s）") % {"name": name, "unit": unit} if unit else name
            )
    return list(choices.items())


class ProgressError(ValueError):
    """A monthly report that is refused; ``field`` names the form field to correct."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@transaction.atomic
def report_progress(
    project: RenewalProject,
    *,
    month: dt.date,
    percent_complete: float,
    investment: float | None = None,
    milestones: str = "",
    blockers: str = "",
    lowered_reason: str = "",
    acting_user=None,
) -> ProgressReport:
    """Record (or correct) one month's progress; a report of 100 % finishes the project.

    Progress below the latest earlier month's is taken only with ``lowered_reason`` (a
    re-measurement, rework after an inspection), which is kept in the audit record.
    """
    if not 0 <= percent_complete <= 100:
        raise ProgressError(
            "percent_complete",
            _("形象进度须在 0 到 100 之间；收到 %(value)s") % {"value": percent_complete},
        )
    month = month.replace(day=1)
    previous = (
        ProgressReport.objects.filter(project=project, month__lt=month).order_by("-month").first()
    )
    lowered = previous is not None and percent_complete < previous.percent_complete
    if lowered and not lowered_reason.strip():
        raise ProgressError(
            "lowered_reason",
            _(
                "形象进度 %(value)g%% 低于 %(month)s 的 %(previous)g%%；"
                "如确需下调（如重新核定、返工），请填写下调原因。"
            )
            % {
                "value": percent_complete,
                "month": f"{previous.month:%Y-%m}",
                "previous": previous.percent_complete,
            },
        )
    report, _created = ProgressReport.objects.get_or_create(
        project=project, month=month, defaults={"percent_complete": percent_complete}
    )
    report.snapshot()
    report.percent_complete = percent_complete
    report.investment = investment
    report.milestones = milestones
    report.blockers = blockers
    report.save()
    if lowered:
        record_event(
            report,
            "progress_lowered",
            acting_user=acting_user,
            note=lowered_reason.strip(),
            data={"previous": previous.percent_complete, "percent_complete": percent_complete},
        )
    if project.status == ProjectStatus.ADOPTED:
        set_project_status(project, ProjectStatus.IN_PROGRESS, acting_user=acting_user)
    if percent_complete >= 100 and project.status != ProjectStatus.FINISHED:
        set_project_status(project, ProjectStatus.FINISHED, acting_user=acting_user)
    return report


@dataclass(frozen=True)
class ProgressBoard:
    """The monthly dispatch: flags per project and roll-ups."""

    flags: pd.DataFrame  # indexed by project id
    by_city: pd.DataFrame
    by_project_type: pd.DataFrame
    by_disease: pd.DataFrame


def progress_board(*, as_of: dt.date, user=None, year: int | None = None) -> ProgressBoard:
    """Late and stalled projects at ``as_of`` and the roll-ups, within ``user``'s reach."""
    projects = RenewalProject.objects.exclude(
        status__in=[ProjectStatus.CANDIDATE, ProjectStatus.CANCELLED]
    ).select_related("place", "place__parent")
    if user is not None:
        projects = projects.restrict(user, Action.VIEW)
    if year is not None:
        projects = projects.filter(year=year)
    projects = list(projects.prefetch_related("problems"))
    table = pd.DataFrame(
        [
            {
                "project": p.pk,
                "start": p.start,
                "end": p.end,
                "budget": p.budget,
                "project_type": p.project_type,
                "city": _city_of(p.place),
                "diseases": sorted({problem.disease for problem in p.problems.all()}) or ["—"],
            }
            for p in projects
        ],
        columns=["project", "start", "end", "budget", "project_type", "city", "diseases"],
    )
    reports = pd.DataFrame(
        list(
            ProgressReport.objects.filter(project__in=[p.pk for p in projects]).values(
                "project", "month", "percent_complete", "investment"
            )
        ),
        columns=["project", "month", "percent_complete", "investment"],
    )
    flags = engine.progress_flags(table, reports, as_of=as_of)
    flags["flag_reason"] = [flag_reason(row) for row in flags.to_dict("records")]
    return ProgressBoard(
        flags=flags,
        by_city=engine.rollup_progress(table, flags, by="city"),
        by_project_type=engine.rollup_progress(table, flags, by="project_type"),
        by_disease=engine.rollup_progress(table, flags, by="disease"),
    )


def flag_reason(flags: dict) -> str:
    """Why a project is flagged, in the active language, from one row of the engine's
    progress flags (its own ``flag_reason`` is Chinese only); empty when not flagged."""
    parts = []
    if flags["late"]:
        parts.append(
            _("进度滞后：计划应完成 %(expected).0f%%，实际 %(actual).0f%%，落后 %(lag).0f 个百分点")
            % {
                "expected": flags["expected_percent"],
                "actual": flags["percent_complete"],
                "lag": flags["lag"],
            }
        )
    if flags["stalled"]:
        months = int(flags["months_without_progress"])
        parts.append(
            ngettext("已连续 %(months)d 个月无进展", "已连续 %(months)d 个月无进展", months)
            % {"months": months}
        )
    return _("；").join(parts)


def _city_of(place: Place) -> str:
    return place.parent.code if place.level == "county" and place.parent else place.code


def _cell_date(value, column, row, issues) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        issues.append(
            (row, column, _("日期格式应为 YYYY-MM-DD；收到 %(value)r") % {"value": value})
        )
        return None


def _pairs(text, column, row, issues, *, key_name) -> list[tuple[str, float]]:
    """``a:1; b:-0.5`` → [("a", 1.0), ("b", -0.5)]."""
    pairs = []
    for part in str(text or "").replace("；", ";").split(";"):
        if not part.strip():
            continue
        key, _sep, number = part.replace("：", ":").partition(":")
        try:
            pairs.append((key.strip(), float(number)))
        except ValueError:
            issues.append(
                (
                    row,
                    column,
                    _("应写成“%(key)s:数值”，用分号分隔；收到 %(part)r")
                    % {"key": key_name, "part": part},
                )
            )
    return pairs


def import_projects(path: str | Path, *, acting_user=None) -> list[RenewalProject]:
    """Load projects from the Excel template (sheet 项目库) into the library as adopted.

    Every row is checked first; any error (named by sheet, row and column) refuses the
    whole file and nothing is written. With ``acting_user`` only places the user may change
    are accepted (another place's code is refused like an unknown one).
    """
    from zipfile import ZipFile

    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    from citycheck.core.excel import is_formula_text, parts_declaring_doctype, unescape_text

    with ZipFile(path) as archive:
        if declaring := parts_declaring_doctype(archive):
            message = _("文件的 %(part)s 含有文档类型声明（DOCTYPE），Excel 文件不应含有，已拒绝。")
            raise ProjectImportError([(1, "A", message % {"part": declaring[0]})])
    workbook = load_workbook(path, read_only=True, data_only=True)
    if TEMPLATE_SHEET not in workbook.sheetnames:
        raise ProjectImportError([(1, "A", _("缺少工作表“%(sheet)s”") % {"sheet": TEMPLATE_SHEET})])
    try:
        rows = list(workbook[TEMPLATE_SHEET].iter_rows(values_only=True))
    except Exception as bad:  # damaged sheet XML (undefined entity, bad markup …)
        raise ProjectImportError(
            [(1, "A", _("无法读取工作表：%(error)s") % {"error": bad})]
        ) from bad
    header = [str(h).strip() if h is not None else "" for h in (rows[0] if rows else [])]
    expected = [label for label, _field in TEMPLATE_COLUMNS]
    issues: list[tuple[int, str, str]] = []
    if header[: len(expected)] != expected:
        for index, label in enumerate(expected):
            if index >= len(header) or header[index] != label:
                issues.append(
                    (1, get_column_letter(index + 1), _("表头应为“%(label)s”") % {"label": label})
                )
                break
        raise ProjectImportError(issues)
    letter = {field: get_column_letter(i + 1) for i, (_label, field) in enumerate(TEMPLATE_COLUMNS)}
    places = Place.objects.all()
    if acting_user is not None:
        places = places.restrict(acting_user, Action.CHANGE)
    places = {p.code: p for p in places}
    kinds = project_types()
    parsed = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c not in (None, "") for c in cells):
            continue
        raw = dict(
            zip(
                [f for _l, f in TEMPLATE_COLUMNS],
                list(cells) + [None] * len(TEMPLATE_COLUMNS),
                strict=False,
            )
        )
        row_issues: list[tuple[int, str, str]] = [
            (
                number,
                letter[field],
                _("含有公式（或以 =、+、-、@ 开头的文字），请只填写数值，文字请改写。"),
            )
            for field, value in raw.items()
            if is_formula_text(value)
        ]
        raw = {field: unescape_text(value) for field, value in raw.items()}
        place = places.get(str(raw["place"] or "").strip())
        if place is None:
            row_issues.append(
                (
                    number,
                    letter["place"],
                    _("未知的行政区划代码或无权填报该地区：%(value)r") % {"value": raw["place"]},
                )
            )
        if not str(raw["name"] or "").strip():
            row_issues.append((number, letter["name"], _("项目名称不能为空")))
        kind = kinds.get(str(raw["project_type"] or "").strip())
        if kind is None:
            row_issues.append(
                (
                    number,
                    letter["project_type"],
                    _("未知的项目类型：%(value)r") % {"value": raw["project_type"]},
                )
            )
        numbers = {}
        for field in ("year", "budget"):
            try:
                numbers[field] = float(raw[field])
                if numbers[field] < 0:
                    raise ValueError
            except (TypeError, ValueError):
                row_issues.append(
                    (number, letter[field], _("应为非负数；收到 %(value)r") % {"value": raw[field]})
                )
        start = _cell_date(raw["start"], letter["start"], number, row_issues)
        end = _cell_date(raw["end"], letter["end"], number, row_issues)
        if start and end and end < start:
            row_issues.append((number, letter["end"], _("完工时间早于开工时间")))
        location = None
        if raw["longitude"] not in (None, "") or raw["latitude"] not in (None, ""):
            try:
                lon, lat = float(raw["longitude"]), float(raw["latitude"])
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ValueError
                location = {"type": "Point", "coordinates": [lon, lat]}
            except (TypeError, ValueError):
                row_issues.append((number, letter["longitude"], _("经纬度应为有效数值")))
        targets = _pairs(
            raw["targets"], letter["targets"], number, row_issues, key_name=_("指标代码")
        )
        funding = _pairs(
            raw["funding"], letter["funding"], number, row_issues, key_name=_("资金来源")
        )
        problem_ids = []
        for part in str(raw["problems"] or "").replace("，", ",").split(","):
            if part.strip():
                try:
                    problem_ids.append(int(float(part)))
                except ValueError:
                    row_issues.append(
                        (
                            number,
                            letter["problems"],
                            _("问题编号应为整数：%(value)r") % {"value": part},
                        )
                    )
        if problem_ids and place is not None:
            found = set(
                Problem.objects.filter(pk__in=problem_ids, place=place).values_list("pk", flat=True)
            )
            missing = [i for i in problem_ids if i not in found]
            if missing:
                row_issues.append(
                    (
                        number,
                        letter["problems"],
                        _("问题 %(ids)s 不存在或不属于该地区") % {"ids": missing},
                    )
                )
        issues.extend(row_issues)
        if not row_issues:
            parsed.append(
                (place, raw, kind, numbers, start, end, location, targets, funding, problem_ids)
            )
    if issues:
        raise ProjectImportError(issues)
    with transaction.atomic():
        created = []
        for (
            place,
            raw,
            kind,
            numbers,
            start,
            end,
            location,
            targets,
            funding,
            problem_ids,
        ) in parsed:
            project = RenewalProject.objects.create(
                place=place,
                year=int(numbers["year"]),
                name=str(raw["name"]).strip(),
                project_type=kind.code,
                location=location,
                targets=[
                    {"indicator": code, "expected_change": change} for code, change in targets
                ],
                budget=numbers["budget"],
                funding=[{"source": source, "amount": amount} for source, amount in funding],
                start=start,
                end=end,
                unit=str(raw["unit"] or "").strip(),
                status=ProjectStatus.ADOPTED,
            )
            project.problems.set(problem_ids)
            record_event(project, "imported", acting_user=acting_user, note=str(Path(path).name))
            created.append(project)
    return created


def export_projects(path, *, user=None, year: int | None = None, projects=None) -> int:
    """Write the project library (in ``user``'s reach) in the import template's layout.

    ``path`` is a file name or a writable binary file; ``projects`` (a queryset, e.g. the
    library page's filtered rows or a year's plan) narrows what is written.
    """
    from openpyxl import Workbook

    from citycheck.core.excel import append_row

    if projects is None:
        projects = RenewalProject.objects.all()
    projects = projects.select_related("place").prefetch_related("problems")
    if user is not None:
        projects = projects.restrict(user, Action.VIEW)
    if year is not None:
        projects = projects.filter(year=year)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = TEMPLATE_SHEET
    append_row(
        sheet,
        [label for label, _field in TEMPLATE_COLUMNS] + [_("状态"), _("优先级"), _("优先级说明")],
    )
    count = 0
    for p in projects:
        point = (
            (p.location or {}).get("coordinates")
            if (p.location or {}).get("type") == "Point"
            else None
        )
        append_row(
            sheet,
            [
                p.place.code,
                p.name,
                p.project_type,
                p.year,
                p.budget,
                p.start,
                p.end,
                p.unit,
                point[0] if point else None,
                point[1] if point else None,
                "; ".join(f"{t['indicator']}:{t['expected_change']:g}" for t in p.targets),
                "; ".join(f"{f['source']}:{f['amount']:g}" for f in p.funding),
                ", ".join(str(problem.pk) for problem in p.problems.all()),
                p.get_status_display(),
                p.priority,
                p.explain_priority(),
            ],
        )
        count += 1
    workbook.save(path)
    return count


def _project_frame(projects) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "project": p.pk,
                "place": p.place.code,
                "project_type": p.project_type,
                "targets": p.targets,
                "start_year": p.start.year,
                "end_year": p.end.year,
                "status": p.status,
            }
            for p in projects
        ],
        columns=["project", "place", "project_type", "targets", "start_year", "end_year", "status"],
    )


def effects_rounds(user) -> QuerySet[Round]:
    """The annual rounds whose every place ``user`` sees: the effect estimate pools the
    round's places, so only users with the whole round in reach may read it."""
    outside = Place.objects.exclude(pk__in=Place.objects.restrict(user, Action.VIEW).values("pk"))
    return Round.objects.filter(kind=RoundKind.ANNUAL).exclude(places__in=outside)


def project_effects(round_: Round, *, min_places: int = 3) -> pd.DataFrame:
    """Difference-in-differences per project type and targeted indicator over the
    round's places (peers: same level and city class), with the engine's plain message."""
    data = round_data(round_)
    projects = RenewalProject.objects.filter(place__code__in=list(data.places)).select_related(
        "place"
    )
    if not projects.exists():
        return pd.DataFrame(columns=["project_type", "indicator", "message"])
    return difference_in_differences(
        data.values,
        _project_frame(projects),
        peer_groups=data.peer_groups,
        indicators=data.indicators,
        min_places=min_places,
    )


def simple_index(frame: pd.DataFrame, indicators: pd.DataFrame) -> pd.Series:
    """Equal-weight index (min-max normalised, arithmetic mean per dimension and overall)
    of the places in ``frame``: the yardstick of the what-if page, not the published
    method. Range-optimal and constant indicators are left out; gaps get the median."""
    meta = indicators.set_index("code")
    usable = [
        code
        for code in frame.columns
        if code in meta.index
        and meta.at[code, "direction"] != "range"
        and frame[code].nunique(dropna=True) > 1
    ]
    if not usable:
        return pd.Series(float("nan"), index=frame.index)
    data = frame[usable].fillna(frame[usable].median())
    return compute_index(
        data,
        tree={
            **{code: meta.at[code, "dimension"] for code in usable},
            **{meta.at[code, "dimension"]: "index" for code in usable},
        },
        directions=[1 if meta.at[code, "direction"] == "higher" else -1 for code in usable],
    ).index


def rounds_with_values(rounds: QuerySet[Round]) -> QuerySet[Round]:
    """The ``rounds`` whose own year has values to start from, as :func:`round_data` reads
    them: adopted values, or a published release (an open round being filled has neither)."""
    adopted = Value.objects.filter(round=OuterRef("pk"), source=Source.ADOPTED, value__isnull=False)
    published = Release.objects.filter(round=OuterRef("pk"), status=ReleaseStatus.PUBLISHED)
    return rounds.filter(Exists(adopted) | Exists(published))


class WhatIfUnavailable(ValueError):
    """The round, or the place in it, has no values to project from; ``field`` names the
    request parameter to change."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def what_if_for_place(round_: Round, place: Place) -> dict:
    """Projected next-year values, warning colours and index of ``place`` from its adopted
    and in-progress projects (expected changes added to the round's values).

    The index is :func:`simple_index` over the places of the same level, before and after.
    """
    data = round_data(round_)
    if data.values.empty or round_.year not in set(data.values.index.get_level_values("year")):
        raise WhatIfUnavailable(
            "round",
            _("%(year)d 年体检还没有采信值或已发布的评价结果，无法推演；请选择已有结果的体检年度。")
            % {"year": round_.year},
        )
    if (place.code, round_.year) not in data.values.index:
        raise WhatIfUnavailable(
            "place",
            _("%(place)s在 %(year)d 年体检中没有采信值，无法推演；请选择其他地区或年度。")
            % {"place": place.name_zh, "year": round_.year},
        )
    planned = list(
        RenewalProject.objects.filter(
            place=place, status__in=[ProjectStatus.ADOPTED, ProjectStatus.IN_PROGRESS]
        )
    )
    frame = pd.DataFrame(
        [{"place": place.code, "targets": p.targets} for p in planned], columns=["place", "targets"]
    )
    peers = [code for code, other in data.places.items() if other.level == place.level]
    values = data.values[data.values.index.get_level_values("place").isin(peers)]
    result = what_if(
        values,
        frame,
        indicators=data.indicators,
        standards=data.standards,
        city_classes=data.city_classes,
        index_function=lambda wide: simple_index(wide, data.indicators),
        year=round_.year,
    )
    rows = result.values.merge(result.warnings, on=["place", "indicator"], how="left")
    names = data.indicators.set_index("code")[["name_zh", "unit"]]
    rows = rows.join(names, on="indicator")
    index = result.index.set_index("place").loc[place.code] if result.index is not None else None
    compared = values.xs(round_.year, level="year").index.nunique()
    index_missing = ""
    if index is not None and pd.isna(index["current"]):
        index = None
        index_missing = (
            _(
                "同级地区中只有 %(done)d 个有 %(year)d 年的数值，没有可比较的地区，无法计算相对指数。"
            )
            if compared < 2
            else _("同级地区 %(year)d 年的数值没有差异，无法计算相对指数。")
        ) % {"done": compared, "year": round_.year}
    if round_.year in published_releases(round_):
        basis = _("%(year)d 年已发布的评价结果") % {"year": round_.year}
    elif round_.status != RoundStatus.OPEN:
        basis = _("%(year)d 年体检的采信值（填报已截止）") % {"year": round_.year}
    else:
        basis = _(
            "%(year)d 年体检截至目前已采信的数值（同级 %(count)d 个地区中已有 %(done)d 个）；"
            "尚未采信的数值和地区不在其中，结果会随采信而变化"
        ) % {"year": round_.year, "count": len(peers), "done": compared}
    return {
        "place": place.code,
        "base_year": round_.year,
        "basis": basis,
        "final": round_.status != RoundStatus.OPEN,
        "projects": [p.pk for p in planned],
        "indicators": json.loads(rows.to_json(orient="records")),
        "index": None if index is None else json.loads(index.to_json()),
        "index_missing": index_missing,
        "index_method": _(
            "等权、极差标准化的简化指数，反映在同级地区中的相对位置：只有超过其他地区时指数才会变化；"
            "仅用于比较情景，不是正式发布的评价方法。"
        ),
    }
