"""Pieces every report builder uses: names and numbers in the document's language, the
cover of a document, the place a provincial summary is about, the release's dimensions and
indicators over the system's lineage, and the index map.

Builders only read; see ``content`` for the city report and ``summaries`` for the
provincial summary and the quarterly bulletin.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from citycheck.accounts.models import name_departments
from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.indicators.models import Dimension, Indicator, IndicatorSystem
from citycheck.places.models import Boundary, Place

from .document import Document, Figure, Punctuation, active_language, punctuation

# Marked here, translated where used (in the language of the request or job).
ISSUER = gettext_noop("城市体检评估信息平台")


def place_name(place: Place) -> str:
    """The place's name in the active language."""
    return place.name


def document_marks() -> Punctuation:
    """Punctuation of the active language."""
    return punctuation(active_language())


def number_text(value, digits=2) -> str:
    """``value`` with ``digits`` decimals; "—" for a missing value."""
    return "—" if value is None else f"{value:.{digits}f}"


def release_label(release: Release) -> str:
    return _("数据版本：评价结果 #%(pk)d（%(method)s v%(version)d，输入摘要 %(digest)s）") % {
        "pk": release.pk,
        "method": release.method_code,
        "version": release.method_version,
        "digest": release.input_digest[:12],
    }


def new_document(release: Release, title: str, subject: str) -> Document:
    """An empty document with the cover of ``release``: issuer, date, data version, draft mark."""
    published = release.published_at or release.created
    return Document(
        title=title,
        subject=subject,
        issuer=_(ISSUER),
        date=published.replace(microsecond=0).isoformat(),
        release_label=release_label(release),
        draft=release.status == ReleaseStatus.DRAFT,
    )


def summary_subject(release: Release) -> Place:
    """The place a provincial summary is about: the root above the release's places."""
    place = (
        Result.objects.filter(release=release, level=Level.INDEX).select_related("place").first()
    )
    root = place.place if place else release.scope
    while root.parent_id:
        root = root.parent
    return root


def level_name(place: Place) -> str:
    """What the place is called as a level: 设区市 or 县（市、区）."""
    return _("设区市") if place.level == "city" else _("县（市、区）")


def _by_code_over_lineage(rows, system: IndicatorSystem) -> dict:
    """Rows of ``system`` and of the systems it extends, by code, base system first; where
    a system redefines an inherited code, its own row wins."""
    position = {s.pk: i for i, s in enumerate(system.lineage())}
    by_code = {}
    for row in sorted(rows, key=lambda row: (position[row.system_id], row.order, row.code)):
        by_code[row.code] = row
    return by_code


def release_dimensions(release: Release) -> list[Dimension]:
    system = release.round.system
    rows = Dimension.objects.filter(system__in=system.lineage())
    return list(_by_code_over_lineage(rows, system).values())


def release_indicators(release: Release) -> dict[str, Indicator]:
    """Every indicator the round's system holds, inherited ones included."""
    system = release.round.system
    return _by_code_over_lineage(system.all_indicators().select_related("department"), system)


def departments_text(departments: Iterable[str], names: dict[str, str]) -> str:
    """Departments given by code or name, joined as the document's language joins them."""
    return document_marks().items.join(name_departments(departments, names)) or "—"


def department_name(indicator: Indicator | None) -> str:
    """The name of the department responsible for ``indicator``; "—" when none."""
    if indicator is None or indicator.department is None:
        return "—"
    return indicator.department.name


def place_map(release: Release, place: Place, caption: str) -> Figure | None:
    """The place's counties coloured by index, or the place among its siblings."""
    index_rows = Result.objects.filter(release=release, level=Level.INDEX)
    children = index_rows.filter(place__parent=place)
    shown = children if children.exists() else index_rows.filter(place__parent=place.parent_id)
    scores = dict(shown.values_list("place_id", "score"))
    boundaries = Boundary.objects.filter(place_id__in=scores).select_related("place")
    features = [
        {"name": place_name(b.place), "geometry": b.geojson, "value": scores[b.place_id]}
        for b in sorted(boundaries, key=lambda b: b.place.code)
    ]
    if not features:
        return None
    datums = {b.get_datum_display() for b in boundaries}
    return Figure(
        caption=caption,
        kind="map",
        data={
            "features": features,
            "legend": _("城市健康指数"),
            "note": _("坐标系：%(datum)s，仅为示意")
            % {"datum": document_marks().items.join(sorted(datums))},
        },
    )
