"""The city report's life-circle section (15分钟生活圈), from the spatial app's accepted
analysis of the place in the release's round: the gap map of the facility type worst
covered at the largest band (homes coloured by walking distance, those beyond it in red,
facilities in black) drawn as a static image, and the county table, the same figures as
the report page and the portal (``citycheck.spatial.views.report_context``). Kept apart
from ``content.py``, which calls :func:`life_circle_section` once.

The gap map is the chart kind ``gap_map``, registered here in ``charts.CHARTS``: this
module is imported by ``content.py``, so by every process that builds a document (the
render workers are forked from it)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from django.utils.translation import gettext as _

from citycheck.assessment.models import Release
from citycheck.places.models import Place
from citycheck.spatial.geodata import load_facility_types
from citycheck.spatial.models import Analysis, AreaResult
from citycheck.spatial.views import map_data, results_table

from . import charts
from .document import Figure, Paragraph, Section, Table


def gap_map(data: dict):
    """Homes ``[x, y, metres or None, population]`` coloured by ``bands`` (the last band's
    limit and unreachable homes in red), ``facilities`` ``[x, y]`` as black diamonds."""
    figure, axes = plt.subplots(figsize=(5.8, 5.2))
    homes = np.asarray(
        [[x, y, np.nan if d is None else d] for x, y, d, _p in data["homes"]], dtype=float
    ).reshape(-1, 3)
    bands = list(data["bands"])
    colours = ["#1a9850", "#91cf60", "#fee08b", "#f46d43"][-len(bands) :]
    size = float(np.clip(6000 / max(len(homes), 1), 1.5, 14))  # dense maps, smaller points
    lower = 0.0
    for band, colour in zip(bands, colours, strict=False):
        inside = (homes[:, 2] > lower) | (lower == 0)
        inside &= homes[:, 2] <= band
        axes.scatter(
            homes[inside, 0],
            homes[inside, 1],
            s=size,
            c=colour,
            linewidths=0,
            label=f"≤ {band:g} {data.get('metres', 'm')}",
        )
        lower = band
    gaps = np.isnan(homes[:, 2]) | (homes[:, 2] > bands[-1])
    axes.scatter(
        homes[gaps, 0], homes[gaps, 1], s=size * 1.5, c="#b2182b", marker="x", linewidths=0.8,
        label=data.get("gap_label", f"> {bands[-1]:g}"),
    )  # fmt: skip
    if data["facilities"]:
        facilities = np.asarray(data["facilities"], dtype=float)
        axes.scatter(
            facilities[:, 0], facilities[:, 1], s=22, c="#222222", marker="D",
            label=data.get("facility_label", ""),
        )  # fmt: skip
    axes.set_aspect("equal")
    axes.axis("off")
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=3)
    axes.set_title(data.get("note", ""), fontsize=8, loc="left")
    figure.tight_layout()
    return figure


charts.CHARTS["gap_map"] = gap_map


class LifeCircleSection(Section):
    """The section, marked so that the report page, which shows the interactive map and
    table of the spatial app in its place, can leave it out."""


def accepted_analysis(release: Release, place: Place) -> Analysis | None:
    """The analysis of ``place`` accepted for the release's round (the latest)."""
    return (
        Analysis.objects.filter(
            dataset__place=place, dataset__round=release.round, accepted__isnull=False
        )
        .select_related("dataset")
        .order_by("-accepted", "-pk")
        .first()
    )


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100):d}%"


def life_circle_section(release: Release, place: Place) -> Section:
    """The section; says so in one sentence when no analysis of the place was accepted."""
    title = _("15分钟生活圈")
    analysis = accepted_analysis(release, place)
    if analysis is None:
        return LifeCircleSection(title, [Paragraph(_("本轮未采用本地区的15分钟生活圈空间分析。"))])
    types = load_facility_types()
    worst = (
        AreaResult.objects.filter(analysis=analysis, level="city", band=max(types.bands))
        .order_by("share")
        .first()
    )
    facility_type = worst.facility_type if worst else types.codes[0]
    table = results_table(analysis, "county", types)
    gaps = map_data(analysis, facility_type, types)
    bands = table["bands"]
    section = LifeCircleSection(title)
    synthetic = analysis.dataset.format == "synthetic"
    section.blocks.append(
        Paragraph(
            _(
                "居民步行 %(bands)s 米（约 5 / 10 / 15 分钟）可达各类设施的人口比例，"
                "来自已采用的空间分析（第 %(pk)d 号，数据“%(name)s”，输入摘要 %(digest)s）。"
                "%(type)s的覆盖最低：步行 %(limit)s 米内无此类设施的居民约 %(gap).0f 人。"
            )
            % {
                "bands": " / ".join(f"{b:g}" for b in bands),
                "pk": analysis.pk,
                "name": analysis.dataset.name,
                "digest": analysis.digest[:12],
                "type": gaps["label"],
                "limit": f"{max(bands):g}",
                "gap": gaps["gap_population"],
            }
            + (_("本分析使用演示用合成数据。") if synthetic else "")
        )
    )
    section.blocks.append(
        Figure(
            caption=_("%(type)s步行可达缺口分布") % {"type": gaps["label"]},
            kind="gap_map",
            data={
                "homes": gaps["homes"],
                "facilities": gaps["facilities"],
                "bands": bands,
                "metres": _("米"),
                "gap_label": _("%(limit)s 米外（缺口）") % {"limit": f"{max(bands):g}"},
                "facility_label": gaps["label"],
                "note": _("点为住宅，颜色为到最近设施的步行距离"),
            },
        )
    )
    section.blocks.append(
        Table(
            caption=_("各县（市、区）15分钟生活圈设施覆盖率"),
            columns=[
                _("地区"),
                _("设施类型"),
                _("人口"),
                *[_("≤ %(band)s 米") % {"band": f"{b:g}"} for b in bands],
                _("服务半径内"),
            ],
            rows=[
                [
                    row["area_name"],
                    str(row["label"]),
                    f"{row['population']:.0f}",
                    *[_percent(share) for share in row["cells"]],
                    _percent(row["radius"]),
                ]
                for row in table["rows"]
            ],
            note=_("覆盖率为步行距离内可达该类设施的居民占比；服务半径按设施类型（公园按面积）。"),
        )
    )
    return section
