"""Data-entry pages of a check-step submission: the form (htmx draft saves with optimistic
versions, inline validation), workflow steps, comments, evidence, revision requests and
the Excel round trip.

Rows reach a page only through :func:`citycheck.core.access.restrict`; every write goes
through the check-step services, which decide permission again and leave the audit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl.utils import get_column_letter

from citycheck.core import access
from citycheck.core.access import check_place
from citycheck.core.choices import Action, Role
from citycheck.indicators.models import Dimension, Indicator, Standard
from citycheck.places.models import PlaceLevel

from . import excel, services, workflow
from .forms import CommentForm, EvidenceForm, UploadForm, parse_entry_rows
from .models import (
    AssignmentKind,
    Evidence,
    RevisionRequest,
    Round,
    RoundStatus,
    Source,
    Submission,
    SubmissionStatus,
    Value,
)
from .rollup import rollup_comparison
from .validation import load_rules
from .views import user_level

# --------------------------------------------------------------------------- data entry


@login_required
def entry(request, pk, code):
    """The submission the user fills for ``code`` in round ``pk`` (created on first visit):
    a department filler's part, an evaluator's third-party data, or the place's own."""
    user = request.user
    source = request.GET.get("source", Source.SELF_CHECK)
    if user.role == Role.EVALUATOR:
        source = Source.THIRD_PARTY
    if source not in services.ENTERED_SOURCES:
        raise Http404
    # A submission made before goes straight to its page when the user may open that page
    # (the same rule as the page's): one query instead of four at each visit.
    made = (
        Submission.objects.restrict(user, Action.VIEW)
        .filter(round_id=pk, place__code=code, source=source)
        .filter(department_id=_filler_department_id(user))
        .values_list("pk", flat=True)
        .first()
    )
    if made is not None:
        return redirect("collection:submission", pk=made)
    round_ = get_object_or_404(access.restrict(Round.objects.all(), user), pk=pk)
    place = access.get_place(user, code, Action.VIEW)
    if not round_.places.filter(pk=place.pk).exists():
        raise Http404
    submission = services.submission_for(round_, place, source, _filler_department(user))
    return redirect("collection:submission", pk=submission.pk)


def _filler_department(user):
    """The department whose indicators alone a department filler sees and fills."""
    return user.department if user.role == Role.DEPARTMENT_FILLER else None


def _filler_department_id(user) -> int | None:
    """:func:`_filler_department`'s id, without reading the department."""
    return user.department_id if user.role == Role.DEPARTMENT_FILLER else None


def shown_indicator_ids(user, submission: Submission, stamps: dict[str, str]) -> list[int]:
    """The ids of the submission's indicators as ``user`` sees them, in form order: what
    the submission owes, and of those only its own department's for a department filler
    (the values API's rule). Kept while the system's indicators and the round's
    assignments are unchanged (their ``stamps``, :func:`_page_stamps`)."""
    round_, department_id = submission.round, _filler_department_id(user)
    foreign = department_id is not None and submission.department_id != department_id
    kinds = load_rules().third_party_source_kinds if submission.source == Source.THIRD_PARTY else ()
    key = (
        f"citycheck:entry-owed:{round_.pk}:{round_.system_id}:{submission.source}"
        f":{submission.department_id or ''}:{department_id if foreign else ''}"
        f":{stamps['indicators']}:{stamps['assignments']}:{','.join(kinds or ())}"
    )
    ids = cache.get(key)
    if ids is None:
        ids = services.owed_indicator_ids(
            round_, department=submission.department, source=submission.source
        )
        if foreign:
            own = set(services.owed_indicator_ids(round_, department=_filler_department(user)))
            ids = [pk for pk in ids if pk in own]
        cache.set(key, ids, settings.CITYCHECK_PAGE_CACHE_SECONDS)
    return ids


def _submission(request, pk) -> Submission:
    """The submission ``pk`` if the user may see it (404 otherwise, like a missing one)."""
    return get_object_or_404(
        Submission.objects.restrict(request.user, Action.VIEW).select_related(
            "round__system__extends", "place", "department", "submitted_by", "decided_by"
        ),
        pk=pk,
    )


def _number_text(number: float | None) -> str:
    """A stored number as the entry form shows it (and compares it back)."""
    return "" if number is None else format(number, ".15g")


def _may_enter(user, submission: Submission, indicator_ids) -> bool:
    try:
        services.check_may_enter(
            user, submission.round, [submission.place], indicator_ids, submission.source
        )
    except PermissionDenied:
        return False
    return True


def _allowed_steps(user, submission: Submission, may_enter: bool) -> set[str]:
    """The workflow buttons worth showing; the services decide again on each click."""
    status, level = submission.status, user_level(user)
    via_city = workflow.needs_city_step(submission)
    ready_for_province = SubmissionStatus.CITY_APPROVED if via_city else SubmissionStatus.SUBMITTED
    steps = set()
    if may_enter and status in (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED):
        steps.add("submit")
    if may_enter and status in (SubmissionStatus.CITY_APPROVED, SubmissionStatus.ACCEPTED):
        steps.add("revision")
    if level in (PlaceLevel.CITY, PlaceLevel.PROVINCE) and workflow.may_review(
        user, submission, level
    ):
        if level == PlaceLevel.CITY and via_city and status == SubmissionStatus.SUBMITTED:
            steps |= {"approve", "return"}
        if level == PlaceLevel.PROVINCE and status == ready_for_province:
            steps |= {"accept", "return"}
        steps.add("decide")
    return steps


def entry_rows(
    submission: Submission, indicator_ids, *, user, rollup_key: str, posted=None, issues=None
) -> list[tuple]:
    """The form's rows, grouped by dimension: (dimension, [row, …]).

    Each row carries the indicator, the stored value (its version and last change), last
    year's value, the standard, the roll-up of the counties for a city, the validation
    issues, and what the input shows (``posted`` rows keep what the user typed);
    ``rollup_key`` (:func:`_rollup_key`) keeps a city's roll-up.
    """
    round_, place = submission.round, submission.place
    by_id = Indicator.objects.in_bulk(indicator_ids)
    indicators = [by_id[pk] for pk in indicator_ids]
    stored = {
        v.indicator_id: v
        for v in Value.objects.filter(
            round=round_, place=place, source=submission.source, indicator__in=indicator_ids
        ).select_related("updated_by")
    }
    previous = excel.previous_values(round_, [place.pk])
    standards: dict[int, list] = {}
    for standard in Standard.objects.filter(indicator__in=indicator_ids).order_by("city_class"):
        standards.setdefault(standard.indicator_id, []).append(standard)
    rollup = {}
    if _shows_rollup(submission):
        comparison = _cached_rollup(round_, place, user, rollup_key)
        rollup = {r["indicator"]: r for r in comparison.to_dict("records")}
    by_indicator: dict[str, list[dict]] = {}
    if issues is not None:
        for issue in issues.to_dict("records"):
            by_indicator.setdefault(issue["indicator"], []).append(issue)
    posted = {row.indicator_id: row for row in posted or []}
    dimensions = Dimension.objects.in_bulk({i.dimension_id for i in indicators})
    groups: dict[int, list[dict]] = {}
    for indicator in indicators:
        value = stored.get(indicator.pk)
        shown = posted.get(indicator.pk)
        row = {
            "indicator": indicator,
            "value": value,
            "text": shown.text if shown else _number_text(value.value if value else None),
            "note": shown.note if shown else (value.note if value else ""),
            "version": shown.version if shown else (value.version if value else 0),
            "seen_text": shown.seen_text if shown else _number_text(value.value if value else None),
            "seen_note": shown.seen_note if shown else (value.note if value else ""),
            "previous": previous.get((place.pk, indicator.code)),
            "standard": excel.standard_text(standards.get(indicator.pk, [])),
            "rollup": rollup.get(indicator.code),
            "issues": by_indicator.get(indicator.code, []),
            "error": shown.error if shown else "",
        }
        groups.setdefault(indicator.dimension_id, []).append(row)
    return [(dimensions[d], rows) for d, rows in groups.items()]


# The parts of the entry page's stamps (:func:`_page_stamps`): name → when a row last
# changed, and the rows counted (FROM … WHERE, ``%s`` parameters). Written as SQL because
# the ORM spent ~4 ms building and compiling the parts on every page, against ~1 ms to
# run them.
STAMP_PARTS = {
    "values": (
        "last_updated",
        "collection_value WHERE round_id = %s AND place_id = %s AND source = %s",
    ),
    "previous": (
        "last_updated",
        "collection_value WHERE place_id = %s AND source IN (%s, %s)"
        " AND round_id IN (SELECT id FROM collection_round WHERE year = %s)",
    ),
    "standards": (
        "last_updated",
        "indicators_standard WHERE indicator_id IN"
        " (SELECT id FROM indicators_indicator WHERE system_id IN ({systems}))",
    ),
    "indicators": ("last_updated", "indicators_indicator WHERE system_id IN ({systems})"),
    "dimensions": ("last_updated", "indicators_dimension WHERE system_id IN ({systems})"),
    "assignments": ("last_updated", "collection_assignment WHERE round_id = %s AND kind = %s"),
    "comments": ("created", "collection_valuecomment WHERE submission_id = %s"),
    "evidence": ("uploaded_at", "collection_evidence WHERE submission_id = %s"),
    "revisions": (
        "COALESCE(decided_at, requested_at)",
        "collection_revisionrequest WHERE submission_id = %s",
    ),
    # a city and its counties taking part in the round
    "rollup_values": (
        "last_updated",
        "collection_value WHERE round_id = %s AND source = %s AND place_id {rollup_places}",
    ),
    "rollup_base": (
        "last_updated",
        "collection_basefigurevalue WHERE year = %s AND place_id {rollup_places}",
    ),
}
# The city and its counties taking part in the round (parameters: round, city, city). On
# PostgreSQL read first, as an array: as ``IN (…)`` the planner may walk the round's
# values against the places instead (64–79 ms against 1.4 ms on the demo).
ROLLUP_PLACES = (
    "SELECT p.id FROM places_place p JOIN collection_round_places rp ON rp.place_id = p.id"
    " WHERE rp.round_id = %s AND (p.id = %s OR p.parent_id = %s)"
)


def _page_stamps(submission) -> dict[str, str]:
    """The number and latest change of what the entry page shows, read in one query:
    the submission's values, last year's values, the standards, indicators and
    dimensions of the round's system, the round's department assignments, the
    submission's comments, evidence and revision requests and, for a city's self-check,
    the roll-up's inputs (its and its counties' self-check values and base figures).
    Each save, assignment, comment or edit changes one of them."""
    round_, place = submission.round, submission.place
    systems = [system.pk for system in round_.system.lineage()]
    parameters = {
        "values": [round_.pk, place.pk, submission.source],
        "previous": [place.pk, Source.ADOPTED, Source.SELF_CHECK, round_.year - 1],
        "standards": systems,
        "indicators": systems,
        "dimensions": systems,
        "assignments": [round_.pk, AssignmentKind.DEPARTMENT],
        "comments": [submission.pk],
        "evidence": [submission.pk],
        "revisions": [submission.pk],
    }
    if _shows_rollup(submission):
        places = [round_.pk, place.pk, place.pk]
        parameters["rollup_values"] = [round_.pk, Source.SELF_CHECK, *places]
        parameters["rollup_base"] = [round_.year, *places]
    in_rollup = (
        f"= ANY(ARRAY({ROLLUP_PLACES}))"
        if connection.vendor == "postgresql"
        else f"IN ({ROLLUP_PLACES})"
    )
    sql = " UNION ALL ".join(
        f"SELECT '{name}', COUNT(*), MAX({STAMP_PARTS[name][0]}) FROM "
        + STAMP_PARTS[name][1].format(
            systems=", ".join(["%s"] * len(systems)), rollup_places=in_rollup
        )
        for name in parameters
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for values in parameters.values() for value in values])
        # the latest change as the database gives it (text on SQLite), without spaces
        return {
            name: f"{n}:{str(latest or '').replace(' ', 'T')}"
            for name, n, latest in cursor.fetchall()
        }


@dataclass(frozen=True)
class KeptCheck:
    """The submit check with what each page reads of it, worked out once for all its
    readers: the summary line (in the language of the key) and a digest of the issues
    (for the rows' key)."""

    check: workflow.SubmissionCheck
    summary: str
    issues_digest: str


def _cached_check(submission, values_stamp: str) -> KeptCheck:
    """:func:`workflow.check_submission`, kept for as long as the peer values it compares
    with are (``CITYCHECK_PEER_CACHE_SECONDS``) unless the submission or its values change:
    the key carries their number and latest change (``values_stamp``). Each save or step
    changes it, so the form shows the check of what is stored; readers of an unchanged
    submission (the reviewers at the deadline) share one check instead of running it per
    page."""
    key = (
        f"citycheck:submission-check:{submission.pk}:{submission.version}"
        f":{submission.last_updated.timestamp()}:{submission.round.last_updated.timestamp()}"
        f":{values_stamp}:{get_language()}"
    )
    kept = cache.get(key)
    if kept is None:
        check = workflow.check_submission(submission)
        digest = hashlib.sha256(check.issues.to_json().encode()).hexdigest()
        kept = KeptCheck(check, check.summary, digest)
        cache.set(key, kept, settings.CITYCHECK_PEER_CACHE_SECONDS)
    return kept


def _rollup_key(round_, city, stamps: dict[str, str]) -> str:
    """What the county roll-up of ``city`` reads: the city's and its counties' self-check
    values, their base figures and the indicator system, by their ``stamps``."""
    return (
        f"citycheck:rollup:{round_.pk}:{city.pk}:{round_.system.last_updated.timestamp()}"
        f":{stamps['rollup_values']}:{stamps['rollup_base']}:{get_language()}"
    )


def _cached_rollup(round_, city, user, key: str):
    """:func:`rollup_comparison`, kept like the submit check (``_cached_check``) while the
    city's and its counties' self-check values, their base figures and the indicator system
    are unchanged (``key``: :func:`_rollup_key`)."""
    check_place(user, city, Action.VIEW)
    comparison = cache.get(key)
    if comparison is None:
        comparison = rollup_comparison(round_, city, acting_user=user)
        cache.set(key, comparison, settings.CITYCHECK_PEER_CACHE_SECONDS)
    return comparison


def _shows_rollup(submission) -> bool:
    return submission.place.level == PlaceLevel.CITY and submission.source == Source.SELF_CHECK


def _rows_html(submission, indicator_ids, *, user, kept: KeptCheck, writable, stamps) -> str:
    """The form's rows as HTML, kept per submission while nothing they show changes: the
    key carries the page's ``stamps`` but the thread's (:func:`_page_stamps`: the
    submission's values, last year's values, the roll-up's inputs, the standards,
    indicators and dimensions of the system), the indicators shown, the check's issues,
    whether the values are writable and the language. A reader of an unchanged
    submission (a reviewer, the filler reloading) renders none of its rows."""
    key = (
        "citycheck:entry-rows:"
        + hashlib.sha256(
            repr(
                (
                    submission.pk,
                    [part for part in sorted(stamps.items()) if part[0] not in THREAD],
                    indicator_ids,
                    kept.issues_digest,
                    writable,
                    get_language(),
                )
            ).encode()
        ).hexdigest()
    )
    html = cache.get(key)
    if html is None:
        html = _render_rows(
            submission,
            indicator_ids,
            user=user,
            issues=kept.check.issues,
            writable=writable,
            stamps=stamps,
        )
        cache.set(key, html, settings.CITYCHECK_PAGE_CACHE_SECONDS)
    return html


def _render_rows(submission, indicator_ids, *, user, issues, writable, stamps, posted=None):
    shows_rollup = _shows_rollup(submission)
    return render_to_string(
        "collection/includes/entry_rows.html",
        {
            "groups": entry_rows(
                submission,
                indicator_ids,
                user=user,
                posted=posted,
                issues=issues,
                rollup_key=_rollup_key(submission.round, submission.place, stamps)
                if shows_rollup
                else None,
            ),
            "show_rollup": shows_rollup,
            "writable": writable,
        },
    )


def _form_context(request, submission, *, posted=None, **extra) -> dict:
    """The entry form with the same check submit runs (:func:`workflow.check_submission`):
    its summary line and its issues beside each value, missing values included. The rows
    are those kept by :func:`_rows_html` unless ``posted`` rows show what the user typed."""
    stamps = _page_stamps(submission)
    indicator_ids = shown_indicator_ids(request.user, submission, stamps)
    may_enter = _may_enter(request.user, submission, indicator_ids)
    kept = _cached_check(submission, stamps["values"])
    writable = (
        may_enter and submission.round.status == RoundStatus.OPEN and not submission.is_locked
    )
    rows = {"user": request.user, "writable": writable, "stamps": stamps}
    return {
        "submission": submission,
        "round": submission.round,
        "rows_html": _render_rows(
            submission, indicator_ids, issues=kept.check.issues, posted=posted, **rows
        )
        if posted
        else _rows_html(submission, indicator_ids, kept=kept, **rows),
        "check": kept,
        "stamps": stamps,
        "may_enter": may_enter,
        "writable": writable,
        **extra,
    }


# The stamps of the page's thread (:func:`_thread`), which the form's rows do not show.
THREAD = ("comments", "evidence", "revisions")


def _thread(submission, stamps: dict[str, str]) -> dict:
    """The submission's comments (and why it was returned), evidence and revision
    requests, kept while their ``stamps`` and the submission's status are unchanged."""
    key = (
        f"citycheck:entry-thread:{submission.pk}:{submission.status}:{stamps['comments']}"
        f":{stamps['evidence']}:{stamps['revisions']}:{get_language()}"
    )
    thread = cache.get(key)
    if thread is None:
        thread = {
            "comments": workflow.comment_thread(submission),
            "return_reason": workflow.return_reason(submission),
            "evidence": list(submission.evidence.select_related("uploaded_by")),
            "revisions": list(submission.revisions.select_related("requested_by", "decided_by")),
        }
        cache.set(key, thread, settings.CITYCHECK_PAGE_CACHE_SECONDS)
    return thread


@login_required
def submission_view(request, pk):
    """The data-entry and review page of one submission."""
    submission = _submission(request, pk)
    context = _form_context(request, submission)
    context.update(
        _thread(submission, context["stamps"]),
        steps=_allowed_steps(request.user, submission, context["may_enter"]),
        comment_form=CommentForm(),
        evidence_form=EvidenceForm(),
        upload_form=UploadForm(),
    )
    return render(request, "collection/submission.html", context)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
@require_POST
def submission_save(request, pk):
    """Save a draft. htmx swaps the form back in with new versions and validation; a
    stale version refuses the whole save and shows who changed what, when, to which value."""
    submission = _submission(request, pk)
    # every owed indicator, not only those shown: a value posted for another department's
    # indicator is refused by the service with its reason, never silently dropped
    indicators = services.indicators_owed(
        submission.round, department=submission.department, source=submission.source
    )
    rows = parse_entry_rows(request.POST, indicators)
    by_id = {i.pk: i for i in indicators}
    problems = [row.error for row in rows if row.error]
    conflicts, saved = [], None
    if not problems:
        entries = [
            services.ValueEntry(
                submission.place, by_id[row.indicator_id], row.value, row.note, row.version
            )
            for row in rows
            if row.changed
        ]
        try:
            saved = services.save_values(
                submission.round, entries, source=submission.source, acting_user=request.user
            )
        except services.StaleValueError as stale:
            conflicts = stale.conflicts
            problems = [stale.message]
        except services.CheckStepError as refused:
            problems = [refused.message]
        except PermissionDenied as denied:
            problems = [str(denied) or _("您无权修改这些数据。")]
    if not _is_htmx(request):
        for problem in problems:
            messages.error(request, problem)
        if saved is not None:
            messages.success(request, _("已保存 %(count)d 项。") % {"count": saved.changed})
        return redirect("collection:submission", pk=pk)
    context = _form_context(
        request,
        submission,
        posted=rows if problems else None,
        problems=problems,
        conflicts=conflicts,
        saved=saved,
    )
    return render(request, "collection/includes/entry_form.html", context)


# The workflow steps a page can take: name → (service, form field carrying the text).
STEPS = {
    "submit": (workflow.submit_submission, "note"),
    "approve": (workflow.approve_submission, "note"),
    "accept": (workflow.accept_submission, "note"),
    "return": (workflow.return_submission, "comment"),
}
STEP_DONE = {  # lazy: translated in the language of each request
    "submit": gettext_lazy("已提交。"),
    "approve": gettext_lazy("已审核通过，报送省级。"),
    "accept": gettext_lazy("已采纳。"),
    "return": gettext_lazy("已退回。"),
}


@login_required
@require_POST
def submission_step(request, pk, step):
    """Submit, approve, accept or return a submission (the comment goes with it)."""
    if step not in STEPS:
        raise Http404
    submission = _submission(request, pk)
    service, text_field = STEPS[step]
    text = request.POST.get("comment", "").strip()
    try:
        service(submission, acting_user=request.user, **{text_field: text})
    except PermissionDenied as denied:
        messages.error(request, _("您无权执行此操作。") + " " + str(denied))
    except services.CheckStepError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, str(STEP_DONE[step]))
    return redirect("collection:submission", pk=pk)


@login_required
@require_POST
def submission_comment(request, pk):
    submission = _submission(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(submission, form.cleaned_data["text"], acting_user=request.user)
        except services.CheckStepError as refused:
            messages.error(request, refused.message)
    else:
        messages.error(request, _("意见不能为空。"))
    return redirect(reverse("collection:submission", args=[pk]) + "#comments")


@login_required
@require_POST
def submission_evidence(request, pk):
    """Attach an evidence file; its type is judged by content (allow-list)."""
    submission = _submission(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的文件。"))
        return redirect("collection:submission", pk=pk)
    upload = form.cleaned_data["file"]
    try:
        services.attach_evidence(submission, upload.name, upload.read(), acting_user=request.user)
    except PermissionDenied:
        messages.error(request, _("您无权为该填报上传佐证材料。"))
    except services.CheckStepError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("已上传佐证材料 %(name)s。") % {"name": upload.name})
    return redirect(reverse("collection:submission", args=[pk]) + "#evidence")


@login_required
def evidence_file(request, pk):
    evidence = get_object_or_404(Evidence.objects.restrict(request.user, Action.VIEW), pk=pk)
    response = HttpResponse(evidence.file.read(), content_type="application/octet-stream")
    response["Content-Disposition"] = (
        f'attachment; filename="evidence-{evidence.pk}.{evidence.content_kind}"'
    )
    return response


@login_required
@require_POST
def submission_revision(request, pk):
    """Ask to reopen approved data; the reason is kept."""
    submission = _submission(request, pk)
    try:
        workflow.request_revision(
            submission, acting_user=request.user, reason=request.POST.get("reason", "")
        )
    except PermissionDenied:
        messages.error(request, _("您无权申请修改该数据。"))
    except services.CheckStepError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("修改申请已提交。"))
    return redirect("collection:submission", pk=pk)


@login_required
@require_POST
def revision_decide(request, pk):
    request_ = get_object_or_404(
        RevisionRequest.objects.restrict(request.user, Action.VIEW).select_related("submission"),
        pk=pk,
    )
    try:
        workflow.decide_revision(
            request_,
            grant=request.POST.get("grant") == "1",
            acting_user=request.user,
            note=request.POST.get("note", ""),
        )
    except PermissionDenied:
        messages.error(request, _("您无权审批该修改申请。"))
    except services.CheckStepError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("修改申请已处理。"))
    return redirect("collection:submission", pk=request_.submission_id)


# --------------------------------------------------------------------------- Excel


def column_label(column) -> str:
    """A template column as a refusal names it: letter and header, e.g. "G（本年值）"."""
    if not isinstance(column, int):
        return column or ""
    header = excel.HEADERS[column - 1] if column <= len(excel.HEADERS) else ""
    return get_column_letter(column) + (f"（{header}）" if header else "")


@login_required
def submission_template(request, pk):
    """The Excel template for exactly this submission: its place, department and source."""
    submission = _submission(request, pk)
    content = excel.build_template(
        submission.round,
        [submission.place],
        department=submission.department or _filler_department(request.user),
        source=submission.source,
        acting_user=request.user,
    )
    department = f"-{submission.department.code}" if submission.department_id else ""
    name = f"citycheck-{submission.round.year}-{submission.place.code}{department}.xlsx"
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def submission_upload(request, pk):
    """Preview an uploaded template: the diff against stored values and the validation
    issues, or every problem naming sheet, row and column. Nothing is stored yet."""
    submission = _submission(request, pk)
    form = UploadForm(request.POST, request.FILES)
    context = {"submission": submission}
    if not form.is_valid():
        context["problems"] = [("", "", "", e) for e in form.errors.get("file", [])]
    else:
        try:
            preview = excel.preview_upload(
                form.cleaned_data["file"],
                acting_user=request.user,
                round_=submission.round,
                place=submission.place,
            )
        except excel.UploadError as refused:
            context["problems"] = [
                (sheet or "", row or "", column_label(column), message)
                for sheet, row, column, message in refused.problems
            ]
        except services.CheckStepError as refused:
            context["problems"] = [("", "", "", refused.message)]
        else:
            context.update(
                preview=preview,
                changes=preview.changes.to_dict("records"),
                issues=preview.issues.to_dict("records"),
            )
    return render(request, "collection/includes/upload_preview.html", context)


@login_required
@require_POST
def upload_confirm(request, pk):
    """Store a previewed upload (same checks and audit as the form)."""
    submission = _submission(request, pk)
    try:
        result = excel.confirm_upload(
            request.POST.get("token", ""),
            acting_user=request.user,
            reason=request.POST.get("reason", ""),
        )
    except PermissionDenied:
        messages.error(request, _("您无权填报这些数据。"))
    except services.CheckStepError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("已从 Excel 保存 %(count)d 项。") % {"count": result.changed})
    return redirect("collection:submission", pk=submission.pk)
