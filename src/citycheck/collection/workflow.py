"""The approval workflow of a submission, one service function per transition.

::

    draft ──submit──▶ submitted ──city approves──▶ city_approved ──province accepts──▶ accepted
      ▲                  │                              │
      └──── returned ◀───┴──────── return (comment) ────┘
                 ▲
                 └── revision request granted (approved data reopened, reason kept)

Who reviews before the province accepts (:func:`needs_city_step`):

* a county's self-check data, its whole data set or a department's part, is approved by
  its city's administrator;
* a city department's part (e.g. the housing bureau's indicators) is approved by the
  administrator of that same city: the place's own administrator reviews the parts its
  departments fill before the data leaves the city;
* a city's own whole data set and third-party data go straight to the province. Every transition runs atomically, checks the
actor through :mod:`citycheck.core.access`, locks the submission row, writes a comment
where there is one and records a ChangeRecord event.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citycheck.core.access import check_place
from citycheck.core.choices import Action
from citycheck.core.models import record_event
from citycheck.places.models import PlaceLevel

from .adoption import adopt_submission
from .models import (
    RevisionRequest,
    RevisionStatus,
    RoundStatus,
    Source,
    Submission,
    SubmissionStatus,
    Value,
    ValueComment,
)
from .services import CheckStepError, check_may_enter, owed_indicator_ids


class SubmissionEvent(models.TextChoices):
    """The workflow steps a comment can go with (``ValueComment.event``) and their names."""

    SUBMITTED = "submitted", gettext_lazy("提交审核")
    CITY_APPROVED = "city_approved", gettext_lazy("市级审核通过")
    ACCEPTED = "accepted", gettext_lazy("省级采纳")
    RETURNED = "returned", gettext_lazy("退回修改")
    REOPENED = "reopened", gettext_lazy("同意修改申请")


def comment_thread(submission: Submission) -> list[ValueComment]:
    """The submission's comments, oldest first, each with ``event_label``: the workflow
    step it went with, named in the reader's language ("" for a plain comment)."""
    labels = dict(SubmissionEvent.choices)
    comments = list(submission.comments.select_related("author", "indicator"))
    for comment in comments:
        comment.event_label = labels.get(comment.event, comment.event)
    return comments


def return_reason(submission: Submission) -> ValueComment | None:
    """Why returned data is back with its filler: the latest comment of a return or of a
    granted revision request; None unless the submission is returned."""
    if submission.status != SubmissionStatus.RETURNED:
        return None
    return (
        submission.comments.filter(event__in=[SubmissionEvent.RETURNED, SubmissionEvent.REOPENED])
        .select_related("author")
        .order_by("-created", "-pk")
        .first()
    )


class WorkflowError(CheckStepError):
    """A transition that is not allowed from the submission's current status."""


def _locked(submission: Submission) -> Submission:
    """The submission re-read under a row lock, so two reviewers cannot both act."""
    return (
        Submission.objects.select_for_update(of=("self",))
        .select_related("place", "round", "department")
        .get(pk=submission.pk)
    )


def _require_status(submission: Submission, allowed, action: str) -> None:
    if submission.status not in allowed:
        raise WorkflowError(
            _("%(place)s 的填报处于“%(status)s”状态，不能%(action)s。")
            % {
                "place": submission.place,
                "status": submission.get_status_display(),
                "action": action,
            }
        )


def _move(
    submission: Submission, status: str, event: str, *, acting_user, note: str = "", data=None
):
    submission.status = status
    submission.version += 1
    now = timezone.now()
    fields = ["status", "version", "last_updated"]
    if status == SubmissionStatus.SUBMITTED:
        submission.submitted_at, submission.submitted_by = now, acting_user
        fields += ["submitted_at", "submitted_by"]
    else:
        submission.decided_at, submission.decided_by = now, acting_user
        fields += ["decided_at", "decided_by"]
    Submission.objects.filter(pk=submission.pk).update(
        **{f: getattr(submission, f) for f in fields if f != "last_updated"}, last_updated=now
    )
    if note:
        ValueComment.objects.create(
            submission=submission, author=acting_user, text=note, event=event
        )
    record_event(submission, event, acting_user=acting_user, note=note, data=data)
    return submission


def _user_level(user) -> str | None:
    if user.is_superuser:
        return PlaceLevel.PROVINCE
    return user.place.level if user.place_id else None


# The submissions a city administrator approves before the province: county self-check
# data, and the parts a city's departments fill (the query form of needs_city_step).
CITY_STEP = Q(source=Source.SELF_CHECK) & (
    Q(place__level=PlaceLevel.COUNTY) | Q(place__level=PlaceLevel.CITY, department__isnull=False)
)


def needs_city_step(submission: Submission) -> bool:
    """Whether a city administrator approves this data before the province sees it: a
    county's self-check data, and a city department's part (reviewed by its own city)."""
    if submission.source != Source.SELF_CHECK:
        return False
    level = submission.place.level
    return level == PlaceLevel.COUNTY or (
        level == PlaceLevel.CITY and submission.department_id is not None
    )


def may_review(user, submission: Submission, level: str) -> bool:
    """Whether ``user`` may take the review step of ``level`` (city or province) on the
    submission: approving role, the place in reach, a user of that level, and not the
    filler's own place, except a city administrator reviewing its departments' part."""
    try:
        check_place(user, submission.place, Action.APPROVE)
    except PermissionDenied:
        return False
    if _user_level(user) != level:
        return False
    own_place = not user.is_superuser and user.place_id == submission.place_id
    return not own_place or (level == PlaceLevel.CITY and submission.department_id is not None)


@dataclass(frozen=True)
class SubmissionCheck:
    """What submitting a data set finds, as the entry page shows it and submit refuses on.

    ``issues`` are the validation issues at the submit stage over the indicators the
    submission owes (missing required values included), with ``explained``: the value
    carries a written explanation (its note).
    """

    issues: pd.DataFrame

    @property
    def errors(self) -> pd.DataFrame:
        return self.issues[self.issues["severity"] == "error"]

    @property
    def unexplained(self) -> pd.DataFrame:
        """Warnings still waiting for an explanation."""
        return self.issues[(self.issues["severity"] == "warning") & ~self.issues["explained"]]

    @property
    def blocking(self) -> pd.DataFrame:
        """What stops the submission: every error and every unexplained warning."""
        return pd.concat([self.errors, self.unexplained])

    @property
    def summary(self) -> str:
        """One line, in the reader's language, with the counts submit refuses on."""
        if self.blocking.empty:
            return _("提交前检查：没有需要处理的问题，可以提交。")
        return _(
            "提交前检查：%(errors)d 项错误须改正（其中 %(missing)d 项未填），"
            "%(warnings)d 项提示须在“说明”中解释。"
        ) % {
            "errors": len(self.errors),
            "missing": int((self.errors["rule"] == "required").sum()),
            "warnings": len(self.unexplained),
        }


def check_submission(submission: Submission, *, owed_ids=None) -> SubmissionCheck:
    """Run the submit stage's validation on ``submission`` (nothing is written).

    ``owed_ids``: the ids of the indicators it owes, when the caller has read them
    (submit, which checks the filler may enter them first).
    """
    from .validation import validate_round_values

    if owed_ids is None:
        owed_ids = owed_indicator_ids(
            submission.round, department=submission.department, source=submission.source
        )
    issues = validate_round_values(
        submission.round,
        source=submission.source,
        place_ids=[submission.place_id],
        stage="submit",
        indicator_ids=owed_ids,
    )
    explained = set(
        Value.objects.filter(
            round=submission.round,
            place=submission.place,
            source=submission.source,
            indicator_id__in=owed_ids,
        )
        .exclude(note="")
        .values_list("indicator__code", flat=True)
    )
    return SubmissionCheck(issues.assign(explained=issues["indicator"].isin(explained)))


@transaction.atomic
def submit_submission(submission: Submission, *, acting_user, note: str = "") -> Submission:
    """Submit a draft or returned data set.

    Refused while :func:`check_submission` finds errors (missing required values
    included), or warnings whose value carries no written explanation (the value's
    note); the refusal says what the entry page's summary says and lists every issue.
    """
    submission = _locked(submission)
    owed = owed_indicator_ids(
        submission.round, department=submission.department, source=submission.source
    )
    check_may_enter(acting_user, submission.round, [submission.place], owed, submission.source)
    if submission.round.status != RoundStatus.OPEN:
        raise WorkflowError(_("体检轮次已截止，不能提交。"))
    _require_status(submission, {SubmissionStatus.DRAFT, SubmissionStatus.RETURNED}, _("提交"))
    check = check_submission(submission, owed_ids=owed)
    blocking = check.blocking
    if not blocking.empty:
        raise WorkflowError(
            _("不能提交。") + check.summary + "\n" + "\n".join(blocking["message"]),
            issues=blocking,
        )
    return _move(
        submission,
        SubmissionStatus.SUBMITTED,
        "submitted",
        acting_user=acting_user,
        note=note,
        data={"warnings": len(check.issues)},
    )


def _check_reviewer(submission: Submission, user, level: str) -> None:
    check_place(user, submission.place, Action.APPROVE)
    if not may_review(user, submission, level):
        raise PermissionDenied(
            _("%(place)s 的数据须由%(level)s级用户审核。")
            % {"place": submission.place, "level": PlaceLevel(level).label}
        )


@transaction.atomic
def approve_submission(submission: Submission, *, acting_user, note: str = "") -> Submission:
    """The city approves a county's submitted data, or its own departments' parts; the
    data then goes to the province."""
    submission = _locked(submission)
    _check_reviewer(submission, acting_user, PlaceLevel.CITY)
    if not needs_city_step(submission):
        raise WorkflowError(_("该数据不经市级审核，由省级直接采纳。"))
    _require_status(submission, {SubmissionStatus.SUBMITTED}, _("审核通过"))
    return _move(
        submission,
        SubmissionStatus.CITY_APPROVED,
        SubmissionEvent.CITY_APPROVED,
        acting_user=acting_user,
        note=note,
    )


@transaction.atomic
def accept_submission(submission: Submission, *, acting_user, note: str = "") -> Submission:
    """The province accepts city-approved data (or a city's / third party's own); accepted
    self-check values become the place's adopted values (:mod:`.adoption`)."""
    submission = _locked(submission)
    _check_reviewer(submission, acting_user, PlaceLevel.PROVINCE)
    ready = (
        SubmissionStatus.CITY_APPROVED
        if needs_city_step(submission)
        else SubmissionStatus.SUBMITTED
    )
    _require_status(submission, {ready}, _("采纳"))
    submission = _move(
        submission,
        SubmissionStatus.ACCEPTED,
        SubmissionEvent.ACCEPTED,
        acting_user=acting_user,
        note=note,
    )
    adopt_submission(submission, acting_user=acting_user)
    return submission


@transaction.atomic
def return_submission(submission: Submission, *, acting_user, comment: str) -> Submission:
    """Return data to its filler with a comment (city: submitted; province: awaiting it)."""
    submission = _locked(submission)
    if not comment.strip():
        raise WorkflowError(_("退回时必须填写意见。"))
    level = _user_level(acting_user)
    if level == PlaceLevel.CITY and needs_city_step(submission):
        allowed = {SubmissionStatus.SUBMITTED}
    elif level == PlaceLevel.PROVINCE:
        allowed = {
            SubmissionStatus.CITY_APPROVED
            if needs_city_step(submission)
            else SubmissionStatus.SUBMITTED
        }
    else:
        raise PermissionDenied(_("您不能退回 %(place)s 的数据。") % {"place": submission.place})
    _check_reviewer(submission, acting_user, level)
    _require_status(submission, allowed, _("退回"))
    return _move(
        submission,
        SubmissionStatus.RETURNED,
        SubmissionEvent.RETURNED,
        acting_user=acting_user,
        note=comment.strip(),
    )


@transaction.atomic
def request_revision(submission: Submission, *, acting_user, reason: str) -> RevisionRequest:
    """Ask to reopen approved data; the reason is kept with the request."""
    submission = _locked(submission)
    check_place(acting_user, submission.place, Action.CHANGE)
    if not reason.strip():
        raise WorkflowError(_("请填写修改理由。"))
    _require_status(
        submission, {SubmissionStatus.CITY_APPROVED, SubmissionStatus.ACCEPTED}, _("申请修改")
    )
    if submission.revisions.filter(status=RevisionStatus.PENDING).exists():
        raise WorkflowError(_("已有待审批的修改申请。"))
    request = RevisionRequest.objects.create(
        submission=submission, reason=reason.strip(), requested_by=acting_user
    )
    record_event(submission, "revision_requested", acting_user=acting_user, note=reason.strip())
    return request


@transaction.atomic
def decide_revision(
    request: RevisionRequest, *, grant: bool, acting_user, note: str = ""
) -> RevisionRequest:
    """Grant (the data reopens as returned) or refuse a revision request.

    Data the province accepted is reopened by the province; data only the city approved,
    by the city.
    """
    request = RevisionRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    submission = _locked(request.submission)
    if request.status != RevisionStatus.PENDING:
        raise WorkflowError(_("该修改申请已处理。"))
    level = (
        PlaceLevel.PROVINCE
        if submission.status == SubmissionStatus.ACCEPTED or not needs_city_step(submission)
        else PlaceLevel.CITY
    )
    _check_reviewer(submission, acting_user, level)
    request.status = RevisionStatus.GRANTED if grant else RevisionStatus.REFUSED
    request.decided_by, request.decided_at, request.decision_note = (
        acting_user,
        timezone.now(),
        note,
    )
    request.save()
    if grant:
        _move(
            submission,
            SubmissionStatus.RETURNED,
            SubmissionEvent.REOPENED,
            acting_user=acting_user,
            note=_("同意修改申请：%(reason)s") % {"reason": request.reason},
            data={"revision_request": request.pk},
        )
    else:
        record_event(submission, "revision_refused", acting_user=acting_user, note=note)
    return request
