"""The city report's satisfaction-survey section (满意度调查), from the survey app's
weighted scores of the release's round: sample and weighting, the dimension scores of
the place with their 95 % intervals against the province, and the places and dimensions
where residents' satisfaction and the index disagree (the quadrant of
``citycheck.survey.comparison``). Kept apart from ``content.py``, which calls
:func:`survey_section` once."""

from __future__ import annotations

from django.utils.translation import gettext as _

from citycheck.assessment.models import Release
from citycheck.places.models import Place
from citycheck.survey.comparison import QUADRANTS, compare
from citycheck.survey.models import Kind, Response, Score, Survey

from .document import Figure, Paragraph, Section, Table
from .parts import number_text


def _interval(score: Score | None) -> str:
    if score is None:
        return "—"
    mark = " ⚠" if score.few_responses or score.wide_interval else ""
    return (
        f"{number_text(score.score, 1)}"
        f"（{number_text(score.low, 1)}–{number_text(score.high, 1)}）{mark}"
    )


def survey_section(release: Release, place: Place, dimension_names: dict[str, str]) -> Section:
    """The section; says so in one sentence when the round's survey was not weighted."""
    title = _("满意度调查")
    survey = (
        Survey.objects.filter(round=release.round, weighted_at__isnull=False)
        .select_related("questionnaire")
        .first()
    )
    if survey is None:
        return Section(title, [Paragraph(_("本轮未开展满意度调查。"))])
    scores = {
        (s.place_id, s.kind, s.code): s
        for s in Score.objects.filter(
            survey=survey, kind__in=[Kind.DIMENSION, Kind.OVERALL]
        ).filter(place__in=[place, release.scope])
    }
    overall = scores.get((place.pk, Kind.OVERALL, "overall"))
    responses = (
        Response.objects.filter(survey=survey, place__path__startswith=place.path).counted().count()
    )
    summary = survey.weighting or {}
    section = Section(title)
    if overall is None:
        section.blocks.append(Paragraph(_("本地区没有有效答卷，未计算满意度得分。")))
        return section
    section.blocks.append(
        Paragraph(
            _(
                "%(year)s 年人居环境满意度调查（问卷 %(code)s v%(version)s）在本地区收回有效答卷 "
                "%(n)d 份，按 2020 年第七次全国人口普查各县（市、区）成年人口的性别、年龄结构加权"
                "（全省设计效应 %(deff)s）。综合满意度 %(score).1f 分（0–100，95%% 置信区间 "
                "%(low)s–%(high)s）。"
            )
            % {
                "year": release.round.year,
                "code": survey.questionnaire.code,
                "version": survey.questionnaire.version,
                "n": responses,
                "deff": summary.get("deff", "—"),
                "score": overall.score,
                # No interval where the effective sample is too small to give one.
                "low": number_text(overall.low, 1),
                "high": number_text(overall.high, 1),
            }
        )
    )
    codes = sorted(
        {code for (pk, kind, code) in scores if kind == Kind.DIMENSION and pk == place.pk}
    )
    rows = [
        [
            dimension_names.get(code, code),
            _interval(scores.get((place.pk, Kind.DIMENSION, code))),
            _interval(scores.get((release.scope_id, Kind.DIMENSION, code))),
        ]
        for code in codes
    ]
    section.blocks.append(
        Table(
            caption=_("分维度满意度得分"),
            columns=[_("维度"), _("本地区（95% 置信区间）"), _("全省")],
            rows=rows,
            note=_("得分 0–100；⚠ 表示有效样本量不足 30 或区间宽于 10 分。数据为加权估计。"),
        )
    )
    section.blocks.append(
        Figure(
            caption=_("分维度满意度得分"),
            kind="bars",
            data={
                "labels": [row[0] for row in rows],
                "values": [scores[(place.pk, Kind.DIMENSION, c)].score for c in codes],
                "xlabel": _("满意度得分"),
            },
        )
    )
    frame = compare(survey, None, release=release)
    mine = frame[frame["place"].isin([place.code]) & frame["quadrant"].isin(["felt", "measured"])]
    if mine.empty:
        section.blocks.append(Paragraph(_("各维度的居民满意度与体检指数得分的排名基本一致。")))
    else:
        section.blocks.append(
            Table(
                caption=_("满意度与体检指数的差异"),
                columns=[_("维度"), _("满意度排名百分位"), _("指数排名百分位"), _("类型")],
                rows=[
                    [
                        dimension_names.get(row.dimension, row.dimension),
                        f"{row.satisfaction_rank * 100:.0f}",
                        f"{row.index_rank * 100:.0f}",
                        str(QUADRANTS[row.quadrant]),
                    ]
                    for row in mine.itertuples()
                ],
                note=_("排名为同级地区中的百分位；相差 40 个百分点以上列为差异。"),
            )
        )
    return section
