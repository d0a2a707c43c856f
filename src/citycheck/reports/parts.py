"""Pieces every report builder uses: names and numbers in the document's language, the
cover of a document, the place a provincial summary is about, the release's dimensions and
indicators over the system's lineage, and the index map.

Builders only read; see ``content`` for the city report and ``summaries`` for the
provincial summary and the quarterly bulletin.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from citycheck.accounts.models import name_departments
from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.indicators.models import Dimension, Indicator, IndicatorSystem
from citycheck.places.models import Boundary, Place

from .document import Document, Figure, Punctuation, active_language, punctuation

# Marked here, translated where used (in the language of the request or job).
# The authority issuing a province's reports unless CITYCHECK_REPORT_ISSUER names another.
PROVINCIAL_ISSUER = gettext_noop("%(province)s住房和城乡建设厅")
CITY_REPORT_TITLE = gettext_noop("%(year)d年度城市体检报告")
SUMMARY_TITLE = gettext_noop("%(year)d年度城市体检省级汇总报告")
# The citation of a definition or standard whose source citycheck holds only as a reprint
# (data/systems/*.yaml, ``sources``): the report names no reprint, the province owns the value.
PROVINCE_SETTING = gettext_noop("本省设定")


def place_name(place: Place) -> str:
    """The place's name in the active language."""
    return place.name


def document_marks() -> Punctuation:
    """Punctuation of the active language."""
    return punctuation(active_language())


def basis_text(citation: str) -> str:
    """What a report prints as the basis of a definition or standard: the primary document
    (issuer, title, number or year) as the indicator system file cites it, or "本省设定"
    where the file holds only a reprint. A web address (a system loaded from an older file)
    is never printed: it counts as a reprint. "—" when there is no citation."""
    if not citation:
        return "—"
    if citation == PROVINCE_SETTING or "://" in citation:
        return _(PROVINCE_SETTING)
    return citation


def number_text(value, digits=2) -> str:
    """``value`` with ``digits`` decimals; "—" for a missing value."""
    return "—" if value is None else f"{value:.{digits}f}"


def issuer(release: Release) -> str:
    """The authority issuing the reports of ``release``, for the cover: the setting
    ``CITYCHECK_REPORT_ISSUER``, else the housing department of the release's province."""
    return settings.CITYCHECK_REPORT_ISSUER or _(PROVINCIAL_ISSUER) % {
        "province": place_name(summary_subject(release))
    }


def release_label(release: Release) -> str:
    return _("数据版本：评价结果 #%(pk)d（%(method)s v%(version)d，输入摘要 %(digest)s）") % {
        "pk": release.pk,
        "method": release.method_code,
        "version": release.method_version,
        "digest": release.input_digest[:12],
    }


def new_document(release: Release, title: str, subject: str) -> Document:
    """An empty document with the cover of ``release``: issuer, date, draft and synthetic
    marks. The data
    version (with the input digest) is stated in the body, where the data are described."""
    published = release.published_at or release.created
    return Document(
        title=title,
        subject=subject,
        issuer=issuer(release),
        date=published.replace(microsecond=0).isoformat(),
        draft=release.status == ReleaseStatus.DRAFT,
        synthetic=release.round.is_synthetic,
    )


def report_title(release: Release, place: Place | None = None) -> str:
    """The title of ``place``'s report in the active language: the provincial summary's
    when ``place`` is None."""
    return _(SUMMARY_TITLE if place is None else CITY_REPORT_TITLE) % {"year": release.round.year}


def download_name(release: Release, place: Place | None) -> str:
    """The name a downloaded report file takes, without extension: the place's Chinese
    name and the report's Chinese title (report files are Chinese), e.g.
    ``南昌市2024年度城市体检报告``; ``（草稿）`` added to a draft's preview."""
    summary = summary_subject(release)
    is_summary = place is None or place.pk == summary.pk
    with translation.override(settings.LANGUAGE_CODE):
        name = (summary if is_summary else place).name_zh + report_title(
            release, None if is_summary else place
        )
        if release.status == ReleaseStatus.DRAFT:
            name += _("（草稿）")
    return name


def summary_subject(release: Release) -> Place:
    """The place a provincial summary is about: the province (or nation) running the
    round, else the root above the release's places."""
    if release.round.scope_id:
        return release.round.scope
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
