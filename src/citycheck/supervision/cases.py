"""The outstanding cases library (优秀案例): the only writer of cases, their files,
reviews and the year's selection.

A city (or county) writes a case about its renewal projects; its before/after indicators
are taken from the platform's adopted values, not typed. Photos (JPEG, PNG) and documents
(PDF) are checked by their bytes and size, stored under a name of ours and served only to
those who may see the case (everybody, once it is selected). The province's reviewers
score submitted cases; the best are shortlisted; the decision selects (publishes) or not.
"""

from __future__ import annotations

import io
import uuid

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Avg
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from citycheck.collection.models import Source, Value
from citycheck.core.access import check_place, may
from citycheck.core.choices import Action
from citycheck.core.models import record_event
from citycheck.core.numbers import NumberError, parse_number
from citycheck.places.models import Place, PlaceLevel
from citycheck.renewal.models import RenewalProject

from .models import Case, CaseFile, CaseReview, CaseStatus, CaseType

PHOTO_LIMIT = 5 * 1024 * 1024
DOCUMENT_LIMIT = 20 * 1024 * 1024
MAX_FILES = 12
PHOTO_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png")}


class CaseError(ValueError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def may_review(user) -> bool:
    """Province users who approve (reviewers and the administrator) score and decide."""
    return may(user, Action.APPROVE) and (
        user.is_superuser or (user.place_id is not None and user.place.level == PlaceLevel.PROVINCE)
    )


def before_after(place: Place, codes: list[str], year: int) -> list[dict]:
    """For each indicator, the first and the latest adopted value of ``place`` up to
    ``year``; an indicator with fewer than two years is refused."""
    rows = []
    for code in codes:
        values = list(
            Value.objects.filter(
                place=place,
                indicator__code=code,
                source=Source.ADOPTED,
                value__isnull=False,
                round__year__lte=year,
            )
            .select_related("indicator")
            .order_by("round__year")
        )
        if len({v.round.year for v in values}) < 2:
            raise CaseError(
                "indicators",
                _("指标 %(code)s 在平台上没有 %(place)s 两个以上年度的采信值")
                % {"code": code, "place": place.name_zh},
            )
        first, last = values[0], values[-1]
        rows.append(
            {
                "indicator": code,
                "name": first.indicator.name_zh,
                "unit": first.indicator.unit,
                "before_year": first.round.year,
                "before": first.value,
                "after_year": last.round.year,
                "after": last.value,
            }
        )
    return rows


@transaction.atomic
def save_case(
    place: Place,
    *,
    year: int,
    title: str,
    case_type: str,
    summary: str,
    projects=(),
    indicators=(),
    acting_user,
    case: Case | None = None,
    is_synthetic: bool = False,
) -> Case:
    """Create a case (or change a draft): projects must be the place's own (or its
    counties'), indicators are read from the platform."""
    check_place(acting_user, place, Action.CHANGE)
    if case is not None and case.status != CaseStatus.DRAFT:
        raise CaseError("status", _("案例已申报，不能修改"))
    if not title.strip():
        raise CaseError("title", _("请填写案例名称"))
    if case_type not in CaseType.values:
        raise CaseError("case_type", _("未知类型：%(t)s") % {"t": case_type})
    if not summary.strip():
        raise CaseError("summary", _("请填写案例介绍"))
    own = RenewalProject.objects.filter(place__in=Place.objects.subtree_of(place))
    chosen = list(own.filter(pk__in=[int(p) for p in projects]))
    if len(chosen) != len(set(projects)):
        raise CaseError("projects", _("关联项目须为本地区的更新项目"))
    table = before_after(place, [c.strip() for c in indicators if c.strip()], year)
    if case is None:
        case = Case(place=place, is_synthetic=is_synthetic)
    else:
        case.snapshot()
    case.year, case.title, case.case_type = year, title.strip(), case_type
    case.summary, case.indicators = summary.strip(), table
    case.save()
    case.projects.set(chosen)
    return case


def _checked(name: str, content: bytes) -> tuple[str, str, str]:
    """(kind, extension, content type) of an allowed file, judged by its bytes."""
    if content.startswith(b"%PDF-"):
        if len(content) > DOCUMENT_LIMIT:
            raise CaseError(
                "file",
                _("文件 %(name)s 超过 %(mb)d MB") % {"name": name, "mb": DOCUMENT_LIMIT // 2**20},
            )
        return CaseFile.Kind.DOCUMENT, "pdf", "application/pdf"
    if len(content) > PHOTO_LIMIT:
        raise CaseError(
            "file", _("照片 %(name)s 超过 %(mb)d MB") % {"name": name, "mb": PHOTO_LIMIT // 2**20}
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
            found = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        found = None
    if found not in PHOTO_FORMATS:
        raise CaseError(
            "file",
            _("文件 %(name)s 的类型不允许：只接受 JPEG、PNG 照片和 PDF 文件（按文件内容判断）")
            % {"name": name},
        )
    extension, content_type = PHOTO_FORMATS[found]
    return CaseFile.Kind.PHOTO, extension, content_type


@transaction.atomic
def attach_file(case: Case, *, name: str, content: bytes, acting_user) -> CaseFile:
    check_place(acting_user, case.place, Action.CHANGE)
    if case.status != CaseStatus.DRAFT:
        raise CaseError("file", _("案例已申报，不能再添加文件"))
    if case.files.count() >= MAX_FILES:
        raise CaseError("file", _("每个案例最多 %(n)d 个文件") % {"n": MAX_FILES})
    kind, extension, content_type = _checked(name, content)
    shown = get_valid_filename(name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:200] or extension
    item = CaseFile(
        case=case, kind=kind, original_name=shown, content_type=content_type, size=len(content)
    )
    item.file.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(content), save=False)
    item.save()
    record_event(case, "case_file_attached", acting_user=acting_user, note=shown)
    return item


@transaction.atomic
def submit_case(case: Case, *, acting_user) -> Case:
    check_place(acting_user, case.place, Action.CHANGE)
    if case.status != CaseStatus.DRAFT:
        raise CaseError("status", _("案例已申报"))
    if not case.files.filter(kind=CaseFile.Kind.PHOTO).exists():
        raise CaseError("file", _("申报前请至少上传一张照片"))
    case.snapshot()
    case.status, case.submitted_at = CaseStatus.SUBMITTED, timezone.now()
    case.save()
    record_event(case, "case_submitted", acting_user=acting_user)
    return case


def _require_reviewer(user) -> None:
    if not may_review(user):
        raise PermissionDenied(_("只有省级评审人员可以评审优秀案例。"))


@transaction.atomic
def review_case(case: Case, *, score, comment: str = "", acting_user) -> CaseReview:
    _require_reviewer(acting_user)
    if case.status not in (CaseStatus.SUBMITTED, CaseStatus.SHORTLISTED):
        raise CaseError("status", _("只能评审已申报的案例"))
    try:
        value = parse_number(score)
    except NumberError as exc:
        raise CaseError("score", str(exc)) from None
    if not 0 <= value <= 100:
        raise CaseError("score", _("评分须在 0 到 100 之间"))
    review, _created = CaseReview.objects.update_or_create(
        case=case, reviewer=acting_user, defaults={"score": value, "comment": comment.strip()}
    )
    return review


@transaction.atomic
def shortlist(year: int, *, count: int, acting_user) -> list[Case]:
    """The ``count`` submitted cases of ``year`` with the best mean review score."""
    _require_reviewer(acting_user)
    ranked = list(
        Case.objects.filter(year=year, status=CaseStatus.SUBMITTED, reviews__isnull=False)
        .annotate(mean=Avg("reviews__score"))
        .order_by("-mean", "pk")[:count]
    )
    for case in ranked:
        case.snapshot()
        case.status = CaseStatus.SHORTLISTED
        case.save()
        record_event(case, "case_shortlisted", acting_user=acting_user, data={"mean": case.mean})
    return ranked


@transaction.atomic
def decide(case: Case, *, selected: bool, note: str, acting_user) -> Case:
    """Select (publish on the portal) or not a shortlisted case, with the reason."""
    _require_reviewer(acting_user)
    if case.status != CaseStatus.SHORTLISTED:
        raise CaseError("status", _("只能对入围案例作出决定"))
    if not note.strip():
        raise CaseError("note", _("请填写评审意见"))
    case.snapshot()
    case.status = CaseStatus.SELECTED if selected else CaseStatus.NOT_SELECTED
    case.decision_note = note.strip()
    case.save()
    record_event(case, "case_decided", acting_user=acting_user, note=note.strip())
    return case
