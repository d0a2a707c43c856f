"""The provincial summary report (省级汇总报告) and the quarterly bulletin (季度通报) of a
release: rankings, map, common problems and renewal progress by city.

Builders only read, in the active language, as ``content`` does.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.utils.translation import gettext as _

from citycheck.assessment.labels import peer_group_name
from citycheck.assessment.models import Level, Release, Result
from citycheck.places.models import Place

from .document import Document, Figure, Paragraph, Section, Table
from .parts import (
    document_marks,
    new_document,
    number_text,
    place_map,
    place_name,
    release_dimensions,
    release_label,
    report_title,
    summary_subject,
)


def province_summary(release: Release) -> Document:
    """The provincial summary report: rankings, map, common problems, project progress."""
    year = release.round.year
    document = new_document(
        release,
        report_title(release),
        place_name(summary_subject(release)),
    )
    index_rows = list(
        Result.objects.filter(release=release, level=Level.INDEX)
        .select_related("place")
        .order_by("place__level", "rank", "place__code")
    )
    dimensions = release_dimensions(release)
    dimension_scores: dict[int, dict[str, float]] = {}
    for place_id, code, score in Result.objects.filter(
        release=release, level=Level.DIMENSION
    ).values_list("place_id", "code", "score"):
        dimension_scores.setdefault(place_id, {})[code] = score
    overview = Section(_("总体情况"))
    overview.blocks.append(
        Paragraph(
            _("%(year)d年度共%(count)d个地区参加城市体检并参与城市健康指数排名。")
            % {"year": year, "count": len(index_rows)}
        )
    )
    document.sections.append(overview)
    for level, title in (("city", _("设区市排名")), ("county", _("县（市、区）排名"))):
        rows = [r for r in index_rows if r.place.level == level]
        if not rows:
            continue
        section = Section(title)
        section.blocks.append(
            Table(
                caption=title,
                columns=[_("排名"), _("地区"), _("指数"), _("排名区间"), _("同类组"), _("同类排名")]
                + [d.name for d in dimensions],
                rows=[
                    [
                        str(r.rank),
                        place_name(r.place),
                        number_text(r.score),
                        f"{r.rank_low}–{r.rank_high}",
                        peer_group_name(r.peer_group),
                        str(r.peer_rank or "—"),
                    ]
                    + [
                        number_text(dimension_scores.get(r.place_id, {}).get(d.code), 1)
                        for d in dimensions
                    ]
                    for r in rows
                ],
                note=_("来源：%(label)s") % {"label": release_label(release)},
            )
        )
        if level == "city":
            section.blocks.append(
                Figure(
                    caption=_("设区市城市健康指数"),
                    kind="bars",
                    data={
                        "labels": [place_name(r.place) for r in rows],
                        "values": [r.score for r in rows],
                        "xlabel": _("城市健康指数"),
                    },
                )
            )
            map_figure = place_map(release, summary_subject(release), _("设区市城市健康指数分布"))
            if map_figure:
                section.blocks.append(map_figure)
        document.sections.append(section)
    document.sections.append(_common_problems(release))
    document.sections.append(
        _progress_section(dt.date(year, 12, 31), year, _("项目进展"), summary_subject(release))
    )
    return document


def _common_problems(release: Release) -> Section:
    section = Section(_("共性问题"))
    if not apps.is_installed("citycheck.diagnosis"):
        section.blocks.append(Paragraph(_("本轮尚无问题清单。")))
        return section
    from django.db.models import Count

    from citycheck.diagnosis.models import Problem, ProblemStatus

    counts = list(
        Problem.objects.filter(round=release.round, status=ProblemStatus.CONFIRMED)
        .values("disease_name")
        .annotate(places=Count("place", distinct=True))
        .order_by("-places", "disease_name")
    )
    if not counts:
        section.blocks.append(Paragraph(_("本轮尚无问题清单。")))
        return section
    section.blocks.append(
        Table(
            caption=_("各类城市病涉及地区数"),
            columns=[_("城市病"), _("涉及地区数")],
            rows=[[row["disease_name"], str(row["places"])] for row in counts],
        )
    )
    return section


def _progress_section(as_of: dt.date, year: int, title: str, subject: Place) -> Section:
    """Progress of the year's projects by city under ``subject`` (the province; in a
    national instance the other provinces' cities are left out), the slow cities named."""
    section = Section(title)
    if not apps.is_installed("citycheck.renewal"):
        section.blocks.append(Paragraph(_("本轮尚无城市更新项目。")))
        return section
    from citycheck.renewal.services import progress_board

    board = progress_board(as_of=as_of, year=year)
    names = {
        place.code: place_name(place)
        for place in Place.objects.subtree_of(subject).filter(code__in=list(board.by_city.index))
    }
    table = board.by_city[board.by_city.index.isin(list(names))].sort_index()
    if table.empty:
        section.blocks.append(Paragraph(_("本轮尚无城市更新项目。")))
        return section
    rows, warnings, slow = [], [], []
    for code, row in table.iterrows():
        behind = int(row.get("late", 0)) + int(row.get("stalled", 0))
        rows.append(
            [
                names.get(code, str(code)),
                str(int(row["projects"])),
                number_text(row["budget"], 0),
                number_text(row["investment_to_date"], 0),
                number_text(row["percent_complete"], 1),
                str(int(row.get("late", 0))),
                str(int(row.get("stalled", 0))),
            ]
        )
        warnings.append("red" if behind else "")
        if behind:
            slow.append(names.get(code, str(code)))
    section.blocks.append(
        Paragraph(
            _("截至%(date)s，进度滞后或停滞的地区：%(names)s。")
            % {"date": as_of.isoformat(), "names": document_marks().items.join(slow)}
            if slow
            else _("截至%(date)s，各地区项目均按计划推进。") % {"date": as_of.isoformat()}
        )
    )
    section.blocks.append(
        Table(
            caption=_("分地区项目进展"),
            columns=[
                _("地区"),
                _("项目数"),
                _("总投资（万元）"),
                _("累计完成投资（万元）"),
                _("投资加权形象进度（%）"),
                _("滞后项目"),
                _("停滞项目"),
            ],
            rows=rows,
            row_warnings=warnings,
            note=_("来源：城市更新项目月度调度。"),
        )
    )
    return section


def quarterly_bulletin(release: Release, quarter: int) -> Document:
    """The quarterly bulletin (季度通报) of the year after ``release``'s round: project
    progress by city at the quarter's end, slow places named."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter: must be 1–4, got {quarter!r}")
    year = release.round.year + 1  # projects of a round are built in the following year
    as_of = dt.date(year, 3 * quarter, 1) + dt.timedelta(days=31)
    as_of = as_of.replace(day=1) - dt.timedelta(days=1)
    document = new_document(
        release,
        _("%(year)d年第%(quarter)d季度城市更新工作通报") % {"year": year, "quarter": quarter},
        place_name(summary_subject(release)),
    )
    document.date = f"{as_of.isoformat()}T00:00:00"
    document.sections.append(
        _progress_section(as_of, year, _("分地区进展"), summary_subject(release))
    )
    return document
