"""The written readings (解读) of a report, generated from the numbers as Chinese template
sentences. Officials may replace them (``ReportReading``); these are the defaults.

``names`` (code → name) gives the names of dimensions and indicators to write, e.g. their
English names in an English document; without it the results' Chinese names are used.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from citycheck.assessment.labels import peer_group_name

from .document import active_language, punctuation


def _name(row, names: dict[str, str] | None) -> str:
    return (names or {}).get(row.code, row.name_zh)


def _names(rows, names: dict[str, str] | None, limit=3) -> str:
    shown = [_name(row, names) for row in rows[:limit]]
    more = _("等%(count)d项") % {"count": len(rows)} if len(rows) > limit else ""
    return punctuation(active_language()).items.join(shown) + more


def dimension_reading(
    place_name: str, dimension, indicators, level_name: str, *, names: dict[str, str] | None = None
) -> str:
    """One paragraph on a dimension: score, rank, 达标 share, red warnings, main shortfall."""
    parts = []
    if dimension is not None and dimension.score is not None:
        parts.append(
            _("%(place)s%(dimension)s维度得分%(score).1f，在%(count)d个%(level)s中排名第%(rank)d位")
            % {
                "place": place_name,
                "dimension": _name(dimension, names),
                "score": dimension.score,
                "count": dimension.place_count or 0,
                "level": level_name,
                "rank": dimension.rank or 0,
            }
        )
    measured = [row for row in indicators if row.meets_standard is not None]
    met = [row for row in measured if row.meets_standard]
    if measured:
        parts.append(
            _("有标准值的%(measured)d项指标中%(met)d项达标")
            % {"measured": len(measured), "met": len(met)}
        )
    red = [row for row in indicators if row.warning == "red"]
    if red:
        parts.append(_("%(names)s为红色预警") % {"names": _names(red, names)})
    obstacles = sorted(
        (row for row in indicators if row.obstacle_degree), key=lambda row: -row.obstacle_degree
    )
    if obstacles:
        parts.append(_("主要短板为%(name)s") % {"name": _name(obstacles[0], names)})
    if not parts:
        return _("本维度本轮无可用数据。")
    marks = punctuation(active_language())
    return marks.comma.join(parts) + marks.stop


def overall_reading(
    place_name: str, index, dimensions, level_name: str, *, names: dict[str, str] | None = None
) -> str:
    """The overall reading: index, rank and interval, strongest and weakest dimensions."""
    if index is None or index.score is None:
        return _("%(place)s本轮数据可得性不足，未参与城市健康指数排名。") % {"place": place_name}
    text = _(
        "%(place)s城市健康指数为%(score).2f，在%(count)d个%(level)s中排名第%(rank)d位"
        "（不确定性分析排名区间%(low)d–%(high)d位），在同类地区（%(peer)s）中排名第%(peer_rank)d位。"
    ) % {
        "place": place_name,
        "score": index.score,
        "count": index.place_count or 0,
        "level": level_name,
        "rank": index.rank or 0,
        "low": index.rank_low or 0,
        "high": index.rank_high or 0,
        "peer": peer_group_name(index.peer_group),
        "peer_rank": index.peer_rank or 0,
    }
    scored = sorted((d for d in dimensions if d.score is not None), key=lambda d: -d.score)
    if len(scored) >= 2:
        text += _(
            "各维度中%(best)s得分最高（%(best_score).1f），%(worst)s得分最低（%(worst_score).1f）。"
        ) % {
            "best": _name(scored[0], names),
            "best_score": scored[0].score,
            "worst": _name(scored[-1], names),
            "worst_score": scored[-1].score,
        }
    return text
