"""The annual city report (城市体检报告) of one place in a release, and the sections of it
that other pages show on their own (peer means, year-end renewal projects, the method).

Builders only read. The caller decides who may see the release (views and commands go
through ``access.restrict``; services refuse unpublished releases unless previewing).
Sections whose data come from later steps (diagnosis, renewal) read them when those apps
are installed and say "本轮尚无…" when there is nothing to show.

A document is written in the active language (``Document.language``): names of places,
dimensions, indicators and departments in English when English is active and the data
record one, punctuation and section numbers to match. Files are built in Chinese
(``services.REPORT_LANGUAGE``); the on-screen preview follows the reader's language.
The provincial summary and the quarterly bulletin are in ``summaries``; the pieces every
report uses (names, numbers, the cover, the map) in ``parts``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml
from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from citycheck.accounts.models import department_names
from citycheck.assessment.labels import peer_group_name, standard_label
from citycheck.assessment.methods import choice_name, weighting_name
from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.assessment.services import data_decisions
from citycheck.core.language import localized
from citycheck.engine import formulas
from citycheck.indicators.models import BaseFigure, Dimension, Indicator
from citycheck.places.models import Place

from . import readings
from .document import Document, Figure, Paragraph, Section, Table
from .life_circle_section import life_circle_section
from .models import ReportReading
from .parts import (
    basis_text,
    department_name,
    departments_text,
    document_marks,
    level_name,
    new_document,
    number_text,
    place_map,
    place_name,
    release_dimensions,
    release_indicators,
    release_label,
    report_title,
)
from .survey_section import survey_section

if TYPE_CHECKING:
    from citycheck.renewal.models import RenewalProject

WARNING_NAMES = {
    "green": gettext_noop("绿"),
    "yellow": gettext_noop("黄"),
    "red": gettext_noop("红"),
    "": "—",
}


def _met(row) -> str:
    if row.meets_standard is None:
        return "—"
    text = _("达标") if row.meets_standard else _("未达标")
    return text + (_("（底线）") if row.bottom_line_failed else "")


def _name_nodes(node) -> list[formulas.Name]:
    if isinstance(node, formulas.Name):
        return [node]
    if isinstance(node, formulas.Unary):
        return _name_nodes(node.operand)
    if isinstance(node, formulas.Binary):
        return _name_nodes(node.left) + _name_nodes(node.right)
    if isinstance(node, formulas.Call):
        return [name for arg in node.args for name in _name_nodes(arg)]
    return []


def formula_text(formula: str, names: dict[str, str]) -> str:
    """``formula`` with each base figure or indicator code it uses replaced by its name
    (codes without a name stay); a formula that does not parse is shown as written."""
    if not formula:
        return "—"
    try:
        tree = formulas.parse(formula).tree
    except formulas.FormulaError:
        return formula
    text = formula
    # From the last name back, so the positions of earlier names still hold.
    for node in sorted(_name_nodes(tree), key=lambda node: node.position, reverse=True):
        end = node.position + len(node.name)
        text = text[: node.position] + names.get(node.name, node.name) + text[end:]
    return text


def formula_names(indicators: dict[str, Indicator]) -> dict[str, str]:
    """Code → name of every base figure and of ``indicators``, in the active language."""
    names = {
        code: localized(name_zh, name_en)
        for code, name_zh, name_en in BaseFigure.objects.values_list("code", "name_zh", "name_en")
    }
    return names | {code: indicator.name for code, indicator in indicators.items()}


def _trend(release: Release, place: Place, names: dict[str, str]) -> dict:
    """Index and dimension scores of ``place`` over this release and the published
    releases of the same method in other rounds."""
    others = (
        Release.objects.published()
        .filter(method_code=release.method_code, status=ReleaseStatus.PUBLISHED)
        .exclude(round=release.round)
    )
    rows = Result.objects.filter(
        release__in=[*others.values_list("pk", flat=True), release.pk],
        place=place,
        level__in=[Level.INDEX, Level.DIMENSION],
    ).values_list("release__round__year", "code", "score")
    years = sorted({year for year, _code, _score in rows})
    series: dict[str, dict[int, float]] = {}
    for year, code, score in rows:
        series.setdefault(names.get(code, code), {})[year] = score
    ordered = sorted(series, key=lambda name: (name != names["index"], name))
    return {
        "years": years,
        "series": {name: [series[name].get(y) for y in years] for name in ordered},
        "ylabel": _("得分"),
    }


def city_report(release: Release, place: Place) -> Document:
    """The annual city health-check report (城市体检报告) of ``place`` in ``release``."""
    results = list(Result.objects.filter(release=release, place=place).order_by("level", "code"))
    if not results:
        raise ValueError(
            f"place: {place.code} {place.name_zh} has no results in release #{release.pk}"
        )
    index = next((r for r in results if r.level == Level.INDEX), None)
    by_dimension = {r.code: r for r in results if r.level == Level.DIMENSION}
    indicator_rows = [r for r in results if r.level == Level.INDICATOR]
    dimensions = [d for d in release_dimensions(release) if d.code in by_dimension] or [
        Dimension(code=code, name_zh=row.name_zh) for code, row in by_dimension.items()
    ]
    meta = release_indicators(release)
    dimension_names = {d.code: d.name for d in dimensions}
    names = {**{code: i.name for code, i in meta.items()}, **dimension_names}
    subject = place_name(place)
    edits = {
        r.section: r
        for r in ReportReading.objects.filter(release=release, place=place).select_related("author")
    }
    place_level = level_name(place)
    year = release.round.year
    document = new_document(release, report_title(release, place), subject)

    def reading(key: str, generated: str) -> Paragraph:
        edit = edits.get(key)
        if edit is None:
            return Paragraph(generated, reading_key=key)
        author = edit.author.get_full_name() or edit.author.username if edit.author else ""
        return Paragraph(
            edit.text,
            reading_key=key,
            edited_by=_("解读经%(author)s于%(date)s修改")
            % {"author": author, "date": edit.edited.date().isoformat()},
        )

    # 一、概况
    parent = place_name(place.parent) if place.parent else ""
    overview = Section(_("城市概况"))
    overview.blocks.append(
        Paragraph(
            _(
                "%(place)s（行政区划代码%(code)s）为%(parent)s所辖%(level)s，参加%(year)d年度城市体检，"
                "采用%(system)s。"
            )
            % {
                "place": subject,
                "code": place.code,
                "parent": parent,
                "level": place.get_level_display(),
                "year": year,
                "system": localized(release.round.system.name_zh, release.round.system.name_en),
            }
        )
    )
    map_figure = place_map(release, place, _("%(place)s城市健康指数分布") % {"place": subject})
    if map_figure:
        overview.blocks.append(map_figure)
    document.sections.append(overview)

    # 二、城市健康指数
    health = Section(_("城市健康指数"))
    health.blocks.append(
        reading(
            "overall",
            readings.overall_reading(
                subject,
                index,
                [by_dimension[d.code] for d in dimensions],
                place_level,
                names=names,
            ),
        )
    )
    if index is not None:
        health.blocks.append(
            Table(
                caption=_("城市健康指数与排名"),
                columns=[_("指数"), _("排名"), _("排名区间（5%–95%）"), _("同类组"), _("同类排名")],
                rows=[
                    [
                        number_text(index.score),
                        f"{index.rank}/{index.place_count}",
                        f"{index.rank_low}–{index.rank_high}",
                        peer_group_name(index.peer_group),
                        f"{index.peer_rank}/{index.peer_count}" if index.peer_rank else "—",
                    ]
                ],
                note=_("排名区间来自蒙特卡洛不确定性分析；来源：%(label)s")
                % {"label": release_label(release)},
            )
        )
    means = peer_means(release, place, index)
    health.blocks.append(
        Figure(
            caption=_("各维度得分雷达图"),
            kind="radar",
            data={
                "labels": [dimension_names[d.code] for d in dimensions],
                "series": {
                    subject: [by_dimension[d.code].score or 0 for d in dimensions],
                    _("同类平均"): [means.get(d.code, 0) for d in dimensions],
                },
            },
        )
    )
    trend_names = {"index": _("城市健康指数"), **dimension_names}
    health.blocks.append(
        Figure(
            caption=_("城市健康指数历年趋势"),
            kind="trend",
            data=_trend(release, place, trend_names),
        )
    )
    document.sections.append(health)

    # 三、分维度评价
    per_dimension = Section(_("分维度评价"))
    for dimension in dimensions:
        rows = [r for r in indicator_rows if r.dimension_code == dimension.code]
        part = Section(dimension_names[dimension.code])
        part.blocks.append(
            reading(
                f"dimension:{dimension.code}",
                readings.dimension_reading(
                    subject, by_dimension[dimension.code], rows, place_level, names=names
                ),
            )
        )
        part.blocks.append(_indicator_table(dimension_names[dimension.code], rows, meta, names))
        per_dimension.subsections.append(part)
    document.sections.append(per_dimension)

    document.sections.extend(_renewal_sections(release, place))
    document.sections.append(survey_section(release, place, dimension_names))
    document.sections.append(life_circle_section(release, place))
    document.sections.append(method_section(release))
    return document


def peer_means(release: Release, place: Place, index) -> dict[str, float]:
    if index is None:
        return {}
    peers = Result.objects.filter(
        release=release, level=Level.INDEX, peer_group=index.peer_group, place__level=place.level
    ).values("place")
    totals: dict[str, list[float]] = {}
    for code, score in Result.objects.filter(
        release=release, level=Level.DIMENSION, place__in=peers
    ).values_list("code", "score"):
        if score is not None:
            totals.setdefault(code, []).append(score)
    return {code: sum(s) / len(s) for code, s in totals.items()}


def _indicator_table(dimension_name: str, rows, meta, names: dict[str, str]) -> Table:
    marks = document_marks()
    table_rows, warnings, citations = [], [], []
    for row in rows:
        indicator = meta.get(row.code)
        unit = indicator.unit if indicator else ""
        name = names.get(row.code, row.name_zh)
        table_rows.append(
            [
                name,
                unit or "—",
                number_text(row.value),
                standard_label(row.standard),
                _met(row),
                _(WARNING_NAMES.get(row.warning, "—")),
                number_text(row.score, 1),
                department_name(indicator),
            ]
        )
        warnings.append(row.warning)
        if indicator and indicator.citation:
            citations.append(f"{name}{marks.colon}{basis_text(indicator.citation)}")
    note = _("数据来源：城市自体检与第三方评估的采用值；得分为标准化得分（1–100）。")
    if citations:
        note += marks.gap + _("标准依据：") + marks.clauses.join(citations) + marks.stop
    return Table(
        caption=_("%(dimension)s维度指标") % {"dimension": dimension_name},
        columns=[
            _("指标"),
            _("单位"),
            _("数值"),
            _("标准值"),
            _("达标"),
            _("预警"),
            _("得分"),
            _("责任单位"),
        ],
        rows=table_rows,
        note=note,
        row_warnings=warnings,
    )


def _renewal_sections(release: Release, place: Place) -> list[Section]:
    """Problem list, treatment plan and projects, re-check of last year's problems."""
    year = release.round.year
    departments = department_names()
    problems_section = Section(_("问题清单"))
    plan_section = Section(_("治理措施与项目清单"))
    recheck_section = Section(_("上年度问题复查"))
    if not apps.is_installed("citycheck.diagnosis"):
        problems_section.blocks.append(Paragraph(_("本轮尚无问题清单。")))
        recheck_section.blocks.append(Paragraph(_("本轮尚无复查结果。")))
    else:
        from citycheck.diagnosis.models import Problem, ProblemStatus

        problems = list(
            Problem.objects.filter(round=release.round, place=place, status=ProblemStatus.CONFIRMED)
            .select_related("round")
            .order_by("-points", "disease")
        )
        if problems:
            problems_section.blocks.append(
                Table(
                    caption=_("问题清单"),
                    columns=[_("城市病"), _("严重程度"), _("状态"), _("证据与成因"), _("责任单位")],
                    rows=[
                        [
                            p.title,
                            p.get_severity_display(),
                            p.get_status_display(),
                            p.description,
                            departments_text(p.departments, departments),
                        ]
                        for p in problems
                    ],
                    note=_("来源：%(year)d年度城市体检诊断（问题清单）。") % {"year": year},
                    row_warnings=[
                        {"severe": "red", "moderate": "yellow"}.get(p.severity, "")
                        for p in problems
                    ],
                )
            )
        else:
            problems_section.blocks.append(Paragraph(_("本轮尚无问题清单。")))
        rechecked = list(Problem.objects.filter(place=place, recheck_year=year).order_by("disease"))
        if rechecked:
            recheck_section.blocks.append(
                Table(
                    caption=_("上年度问题复查结果"),
                    columns=[_("城市病"), _("发现年度"), _("复查结论"), _("说明")],
                    rows=[
                        [
                            p.disease_name,
                            str(p.first_year),
                            p.get_recheck_status_display(),
                            p.recheck_explanation,
                        ]
                        for p in rechecked
                    ],
                )
            )
        else:
            recheck_section.blocks.append(Paragraph(_("本轮尚无复查结果。")))
    projects = renewal_projects(place, year)
    if projects:
        from citycheck.renewal.services import project_type_names

        type_names = project_type_names()
        plan_section.blocks.append(
            Table(
                caption=_("城市更新项目清单"),
                columns=[
                    _("项目"),
                    _("年度"),
                    _("类型"),
                    _("总投资（万元）"),
                    _("工期"),
                    _("年末状态"),
                    _("年末形象进度（%）"),
                    _("责任单位"),
                ],
                rows=[
                    [
                        p.project.name,
                        str(p.project.year),
                        type_names.get(p.project.project_type, p.project.project_type),
                        number_text(p.project.budget, 0),
                        f"{p.project.start.isoformat()}—{p.project.end.isoformat()}",
                        p.status,
                        number_text(p.percent_complete, 1),
                        departments_text(p.project.unit.split("、"), departments),
                    ]
                    for p in projects
                ],
                note=_(
                    "来源：城市更新项目库，%(year)d年及以前计划年度的入库项目；"
                    "状态与形象进度为截至%(date)s的月度调度。"
                )
                % {"year": year, "date": dt.date(year, 12, 31).isoformat()},
            )
        )
    else:
        plan_section.blocks.append(Paragraph(_("本轮尚无治理措施与项目。")))
    return [problems_section, plan_section, recheck_section]


@dataclass(frozen=True)
class YearEndProject:
    """A renewal project as it stood on 31 December of a report's year."""

    project: RenewalProject
    status: str  # 未开工, 在建 or 已完工, from the monthly reports up to that day
    percent_complete: float | None  # of the last report up to that day


def renewal_projects(place: Place, year: int) -> list[YearEndProject]:
    """The place's projects as they stood at the end of ``year``, so that a report
    regenerated later says what it said when published.

    Adopted projects (not candidates, not cancelled) of plan year ``year`` or earlier: the
    project library records no adoption date, so the plan year stands for it. Status and
    progress come from the last monthly report on or before 31 December; a project without
    one had not started.
    """
    if not apps.is_installed("citycheck.renewal"):
        return []
    from citycheck.renewal.models import ProgressReport, ProjectStatus

    projects = list(
        place.renewal_projects.filter(year__lte=year)
        .exclude(status__in=[ProjectStatus.CANDIDATE, ProjectStatus.CANCELLED])
        .order_by("year", "-priority", "name")
    )
    last_percent = dict(
        ProgressReport.objects.filter(project__in=projects, month__lte=dt.date(year, 12, 31))
        .order_by("project", "month")
        .values_list("project", "percent_complete")
    )  # ordered by month: each project keeps its last report
    rows = []
    for project in projects:
        percent = last_percent.get(project.pk)
        if percent is None:
            status = _("未开工")
        elif percent >= 100:
            status = str(ProjectStatus.FINISHED.label)
        else:
            status = str(ProjectStatus.IN_PROGRESS.label)
        rows.append(YearEndProject(project, status, percent))
    return rows


def method_section(release: Release) -> Section:
    """Data sources and method: the release, the method's steps, each indicator's
    definition and source."""
    meta = release_indicators(release)
    names = formula_names(meta)
    method = yaml.safe_load(release.method_text) or {}
    steps = method.get("steps", {})
    weights = steps.get("weights", {})
    aggregate = steps.get("aggregate", {})
    section = Section(_("数据来源与评价方法"))
    section.blocks.append(
        Paragraph(
            _(
                "评价结果出自已发布的%(label)s，程序版本%(code)s。"
                "评价方法为%(name)s（%(method)s v%(version)d）：标准化采用%(normalise)s，"
                "指标权重采用%(iw)s，维度权重采用%(dw)s，指标合成维度采用%(da)s，"
                "维度合成指数采用%(ia)s。"
            )
            % {
                "label": release_label(release),
                "code": release.code_version,
                "name": method.get("name_zh", release.method_code),
                "method": release.method_code,
                "version": release.method_version,
                "normalise": choice_name("normalise", steps.get("normalise", {}).get("method")),
                "iw": weighting_name(weights.get("indicators", {})),
                "dw": weighting_name(weights.get("dimensions", {})),
                "da": choice_name("aggregate", aggregate.get("dimension")),
                "ia": choice_name("aggregate", aggregate.get("index")),
            }
        )
    )
    section.blocks.append(
        Paragraph(
            _(
                "数据来源为城市自体检、第三方评估和满意度调查（如开展），经审核后的采用值进入评价；"
                "同一版本重新生成的报告内容完全一致。"
            )
        )
    )
    for level in data_decisions(release):
        section.blocks.append(
            Paragraph(
                _(
                    "%(level)s：未参与排名的地区（数据可得性不足）：%(places)s；未计入指数的指标：%(left)s。"
                )
                % {
                    "level": level.level_name,
                    "places": _("、").join(item["place"] for item in level.screened_out) or _("无"),
                    "left": _("；").join(
                        f"{item['name']}（{item['reason']}）" for item in level.left_out
                    )
                    or _("无"),
                }
            )
        )
        if level.imputations:
            section.blocks.append(
                Table(
                    caption=_("%(level)s插补的数值") % {"level": level.level_name},
                    columns=[_("地区"), _("指标"), _("插补值"), _("插补方法")],
                    rows=[
                        [item["place"], item["indicator"], f"{item['value']:.4g}", item["method"]]
                        for item in level.imputations
                    ],
                )
            )
    codes = sorted(
        set(
            Result.objects.filter(release=release, level=Level.INDICATOR).values_list(
                "code", flat=True
            )
        )
    )
    section.blocks.append(
        Table(
            caption=_("指标口径与来源"),
            columns=[_("指标"), _("单位"), _("计算公式"), _("责任单位"), _("依据")],
            rows=[
                [
                    meta[c].name,
                    meta[c].unit or "—",
                    formula_text(meta[c].formula, names),
                    department_name(meta[c]),
                    basis_text(meta[c].citation),
                ]
                for c in codes
                if c in meta
            ],
        )
    )
    return section
