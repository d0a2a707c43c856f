"""The quarterly bulletin (每季度通报) from the web: drafted (a job), edited, issued.

A draft ranks the cities on their renewal projects' progress at the quarter's end (the
same monthly progress the command-line bulletin of ``reports`` reads), names the slow
places and the praised ones, and proposes a text. Its text may be edited while it is a
draft; issuing gives it a document number and writes the Word and PDF files (the
``reports`` bulletin document, preceded by the ranking and the text), after which nothing
changes: a correction is a new bulletin that supersedes the issued one and says so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from citycheck.assessment.models import Release, ReleaseStatus
from citycheck.core.models import record_event
from citycheck.places.models import Place
from citycheck.renewal.services import progress_board
from citycheck.reports import summaries
from citycheck.reports.document import Paragraph, Section, Table
from citycheck.reports.parts import number_text
from citycheck.reports.services import REPORT_LANGUAGE, write_document

from .dispatch import may_run
from .models import Appraisal, Bulletin, IssueStatus

PRAISED_COUNT = 3  # the best cities with no late or stalled project
SLOW_COUNT = 3  # the cities with the most late and stalled projects
FORMATS = ("docx", "pdf")


class BulletinError(ValueError):
    """A bulletin step that is refused; ``field`` names the field to correct."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def quarter_end(year: int, quarter: int) -> dt.date:
    return dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1) - dt.timedelta(
        days=1
    )


def release_for(year: int) -> Release:
    """The published release whose projects are built in ``year`` (its round is the year
    before), as for the command-line bulletin."""
    release = (
        Release.objects.filter(round__year=year - 1, status=ReleaseStatus.PUBLISHED)
        .select_related("round", "scope")
        .order_by("-published_at", "-pk")
        .first()
    )
    if release is None:
        raise BulletinError(
            "year", _("%(year)d年度体检尚无已发布的评价结果，无法生成通报") % {"year": year - 1}
        )
    return release


def _require_runner(user) -> None:
    if not may_run(user):
        raise PermissionDenied(_("只有省级管理员可以起草和印发通报。"))


def ranking(year: int, quarter: int) -> list[dict]:
    """Cities ranked on their projects at the quarter's end: fewer late and stalled
    projects first, then the higher investment-weighted progress."""
    board = progress_board(as_of=quarter_end(year, quarter), year=year)
    if board.by_city.empty:
        return []
    names = {p.code: p.name_zh for p in Place.objects.filter(code__in=list(board.by_city.index))}
    rows = []
    for code, row in board.by_city.iterrows():
        rows.append(
            {
                "code": code,
                "name": names.get(code, code),
                "projects": int(row["projects"]),
                "percent_complete": round(float(row["percent_complete"]), 1),
                "late": int(row.get("late", 0)),
                "stalled": int(row.get("stalled", 0)),
            }
        )
    rows.sort(key=lambda r: (r["late"] + r["stalled"], -r["percent_complete"], r["code"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def next_number(year: int) -> str:
    """The next document number of the year, shared by bulletins and assessments."""
    issued = (
        Bulletin.objects.filter(issued_at__year=year).exclude(number="").count()
        + Appraisal.objects.filter(issued_at__year=year).exclude(number="").count()
    )
    return f"赣城检督〔{year}〕{issued + 1}号"


@transaction.atomic
def draft_bulletin(year: int, quarter: int, *, acting_user, supersedes: Bulletin | None = None):
    """A new draft bulletin of ``year``'s ``quarter`` (or a correction of ``supersedes``)."""
    _require_runner(acting_user)
    if quarter not in (1, 2, 3, 4):
        raise BulletinError("quarter", _("季度须为 1–4，收到 %(q)s") % {"q": quarter})
    if supersedes is not None and supersedes.status != IssueStatus.ISSUED:
        raise BulletinError("supersedes", _("只能替代已印发的通报"))
    release = release_for(year)
    rows = ranking(year, quarter)
    slow = [
        r
        for r in sorted(rows, key=lambda r: -(r["late"] + r["stalled"]))
        if r["late"] + r["stalled"]
    ]
    slow = slow[:SLOW_COUNT]
    praised = [r for r in rows if not r["late"] and not r["stalled"]][:PRAISED_COUNT]
    with translation.override(REPORT_LANGUAGE):
        title = _("%(year)d年第%(quarter)d季度城市更新工作通报") % {
            "year": year,
            "quarter": quarter,
        }
        parts = [
            _("截至%(date)s，全省%(count)d个设区市的城市更新项目按月调度。")
            % {"date": quarter_end(year, quarter).isoformat(), "count": len(rows)}
        ]
        if praised:
            parts.append(
                _("%(names)s项目推进有力，予以通报表扬。")
                % {"names": "、".join(r["name"] for r in praised)}
            )
        if slow:
            parts.append(
                _("%(names)s项目进度滞后，请加快推进，并于下月调度时报送整改情况。")
                % {"names": "、".join(r["name"] for r in slow)}
            )
    bulletin = Bulletin.objects.create(
        year=year,
        quarter=quarter,
        release=release,
        title=title,
        text="".join(parts),
        ranking=rows,
        slow=[r["code"] for r in slow],
        praised=[r["code"] for r in praised],
        supersedes=supersedes,
        is_synthetic=release.round.is_synthetic,
    )
    record_event(bulletin, "bulletin_drafted", acting_user=acting_user)
    return bulletin


@transaction.atomic
def edit_bulletin(bulletin: Bulletin, *, text: str, acting_user) -> Bulletin:
    _require_runner(acting_user)
    if bulletin.status != IssueStatus.DRAFT:
        raise BulletinError(
            "text", _("通报 %(n)s 已印发，不能修改；如需更正请印发替代通报") % {"n": bulletin}
        )
    if not text.strip():
        raise BulletinError("text", _("通报正文不能为空"))
    bulletin.snapshot()
    bulletin.text = text.strip()
    bulletin.save()
    return bulletin


def document(bulletin: Bulletin):
    """The bulletin's document (always Chinese): the number, the text and the ranking,
    then the progress by city of the ``reports`` bulletin."""
    with translation.override(REPORT_LANGUAGE):
        doc = summaries.quarterly_bulletin(bulletin.release, bulletin.quarter)
        head = Section(_("通报"))
        head.blocks.append(Paragraph(_("文号：%(n)s") % {"n": bulletin.number or _("（未印发）")}))
        if bulletin.supersedes_id:
            head.blocks.append(
                Paragraph(
                    _("本通报替代%(old)s，原通报同时废止。") % {"old": bulletin.supersedes.number}
                )
            )
        head.blocks.append(Paragraph(bulletin.text))
        head.blocks.append(
            Table(
                caption=_("设区市项目推进排名"),
                columns=[
                    _("名次"),
                    _("地区"),
                    _("项目数"),
                    _("形象进度（%）"),
                    _("滞后"),
                    _("停滞"),
                ],
                rows=[
                    [
                        str(r["rank"]),
                        r["name"],
                        str(r["projects"]),
                        number_text(r["percent_complete"], 1),
                        str(r["late"]),
                        str(r["stalled"]),
                    ]
                    for r in bulletin.ranking
                ],
                row_warnings=[
                    "red" if r["code"] in bulletin.slow else "" for r in bulletin.ranking
                ],
            )
        )
        doc.sections.insert(0, head)
        doc.draft = bulletin.status == IssueStatus.DRAFT
        doc.synthetic = bulletin.is_synthetic
    return doc


def files_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "supervision"


@transaction.atomic
def issue_bulletin(bulletin: Bulletin, *, acting_user) -> Bulletin:
    """Issue a draft: number, Word and PDF files; a superseded bulletin is marked so."""
    _require_runner(acting_user)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.status != IssueStatus.DRAFT:
        raise BulletinError("status", _("通报 %(n)s 已印发") % {"n": bulletin})
    now = timezone.now()
    bulletin.snapshot()
    bulletin.number = next_number(now.year)
    bulletin.status = IssueStatus.ISSUED
    bulletin.issued_at, bulletin.issued_by = now, acting_user
    stem = f"bulletin-{bulletin.year}-q{bulletin.quarter}-{bulletin.pk}"
    paths = write_document(document(bulletin), list(FORMATS), files_dir(), stem)
    bulletin.files = {p.suffix.lstrip("."): str(p.relative_to(settings.MEDIA_ROOT)) for p in paths}
    bulletin.save()
    if bulletin.supersedes_id:
        old = bulletin.supersedes
        old.snapshot()
        old.status = IssueStatus.SUPERSEDED
        old.save()
        record_event(old, "bulletin_superseded", acting_user=acting_user, note=bulletin.number)
    record_event(bulletin, "bulletin_issued", acting_user=acting_user, note=bulletin.number)
    return bulletin
