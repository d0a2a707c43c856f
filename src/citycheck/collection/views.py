"""Pages of the check step (体检): rounds and what each user owes, round management, the
data-entry form of a submission (htmx draft saves with optimistic versions, inline
validation, comments, evidence, Excel round trip), approval, third-party discrepancies
and adjudication, the completeness board with reminders, and each value's audit.

Rows reach a page only through :func:`citycheck.core.access.restrict`; every write goes
through the check-step services (``services``, ``workflow``, ``excel``), which decide
permission again and leave the audit. Refusals are shown as the services word them.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from openpyxl.utils import get_column_letter

from citycheck.accounts.models import Department, department_names
from citycheck.core import access
from citycheck.core.choices import Action, Role
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView
from citycheck.indicators.models import Dimension, Standard
from citycheck.places.models import Place, PlaceLevel

from . import excel, reminders, services, workflow
from .completeness import completeness_board
from .forms import (
    AdjudicationForm,
    CommentForm,
    DepartmentAssignmentForm,
    EvaluatorAssignmentForm,
    EvidenceForm,
    RoundOpenForm,
    UploadForm,
    parse_entry_rows,
)
from .models import (
    Evidence,
    Reminder,
    RevisionRequest,
    Round,
    RoundStatus,
    Source,
    Submission,
    SubmissionStatus,
    Value,
    ValueComment,
)
from .rollup import rollup_comparison
from .validation import validate_round_values

# --------------------------------------------------------------------------- rounds


class RoundListView(RestrictedListView):
    """The rounds in reach, what the user owes in open rounds, and unread reminders."""

    queryset = Round.objects.select_related("system")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            obligations=obligation_rows(user),
            reminders=reminders.unread_reminders(user)[:20],
            may_manage=access.may(user, Action.MANAGE),
        )
        return context


# Obligations listed on a page; the completeness board covers the rest.
OBLIGATIONS_SHOWN = 100


def obligation_rows(user, round_id=None) -> list[dict]:
    """``services.obligations`` as dicts for a template, each with its entry link."""
    owed = services.obligations(user)
    if round_id is not None:
        owed = owed[owed["round"] == round_id]
    status_labels = dict(SubmissionStatus.choices)
    source_labels = dict(Source.choices)
    departments = department_names()
    # One reverse() for all rows: a province administrator owes thousands of places.
    link = reverse("collection:entry", args=[0, "000000"])
    return [
        {
            **row,
            "department_name": departments.get(row["department"], row["department"]),
            "status_label": status_labels.get(row["status"], row["status"]),
            "source_label": source_labels.get(row["source"], row["source"]),
            "url": link.replace("/0/", f"/{row['round']}/").replace("000000", row["place"])
            + f"?source={row['source']}",
        }
        for row in owed.head(OBLIGATIONS_SHOWN).to_dict("records")
    ]


class RoundView(RestrictedDetailView):
    """A round: what the user owes in it, submissions awaiting the user's review, links to
    the board and discrepancies, and a table of values (a page of places at a time)."""

    queryset = Round.objects.select_related("system")
    places_per_page = 20

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        source = self.request.GET.get("source", Source.SELF_CHECK)
        if source not in Source.values:
            source = Source.SELF_CHECK
        places = access.restrict(self.object.places.order_by("path"), user)
        page = Paginator(places, self.places_per_page).get_page(self.request.GET.get("page"))
        # Plain tuples: a page of places holds thousands of values.
        values = (
            Value.objects.restrict(user)
            .filter(round=self.object, source=source, place__in=list(page.object_list))
            .values_list("place_id", "indicator_id", "pk", "value")
        )
        cells_by_place = {}
        for place_id, indicator_id, pk, number in values:
            cells_by_place.setdefault(place_id, {})[indicator_id] = (pk, number)
        seen = {indicator_id for cells in cells_by_place.values() for indicator_id in cells}
        columns = list(
            self.object.system.all_indicators()
            .filter(pk__in=seen)
            .only("code", "number", "name_zh", "unit", "decimals", "order", "dimension__order")
            .order_by("dimension__order", "order", "code")
        )
        context.update(
            source=source,
            sources=Source.choices,
            columns=columns,
            page_obj=page,
            rows=[
                (
                    place,
                    [value_cell(cells_by_place.get(place.pk, {}).get(i.pk), i) for i in columns],
                )
                for place in page.object_list
            ],
            obligations=obligation_rows(user, self.object.pk),
            awaiting=awaiting_review(self.object, user),
            may_manage=access.may(user, Action.MANAGE),
        )
        return context


def value_cell(cell: tuple[int, float | None] | None, indicator) -> tuple[str, str] | None:
    """(link, formatted number) of one table cell, built here because a province-wide
    table has thousands of cells and per-cell template tags would dominate the page time."""
    if cell is None:
        return None
    pk, number = cell
    shown = "—" if number is None else f"{number:.{indicator.decimals}f}"
    return reverse("collection:value", args=[pk]), shown


def awaiting_review(round_: Round, user) -> list[Submission]:
    """Submissions waiting for this user's decision: a city's counties' submitted data; at
    the province, city-approved county data and submitted city or third-party data."""
    if not access.may(user, Action.APPROVE):
        return []
    level = user_level(user)
    rows = Submission.objects.restrict(user, Action.APPROVE).filter(round=round_)
    if level == PlaceLevel.CITY:
        rows = rows.filter(
            status=SubmissionStatus.SUBMITTED,
            place__level=PlaceLevel.COUNTY,
            source=Source.SELF_CHECK,
        )
    elif level == PlaceLevel.PROVINCE:
        county_data = {"place__level": PlaceLevel.COUNTY, "source": Source.SELF_CHECK}
        rows = rows.filter(status=SubmissionStatus.CITY_APPROVED, **county_data) | rows.filter(
            status=SubmissionStatus.SUBMITTED
        ).exclude(**county_data)
    else:
        return []
    return list(rows.select_related("place", "department").order_by("place__path")[:200])


def user_level(user) -> str | None:
    if user.is_superuser:
        return PlaceLevel.PROVINCE
    return user.place.level if user.place_id else None


@login_required
def round_open(request):
    """The province opens a round: kind, system, places, deadline."""
    if not access.may(request.user, Action.MANAGE):
        raise PermissionDenied
    form = RoundOpenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            round_ = services.open_round(
                year=data["year"],
                kind=data["kind"],
                system=data["system"],
                places=data["places"],
                deadline=data["deadline"],
                acting_user=request.user,
            )
        except services.CheckStepError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("已开启 %(round)s。") % {"round": round_})
            return redirect("collection:round_assignments", pk=round_.pk)
    return render(request, "collection/round_open.html", {"form": form})


def _managed_round(request, pk) -> Round:
    if not access.may(request.user, Action.MANAGE):
        raise PermissionDenied
    return get_object_or_404(access.restrict(Round.objects.all(), request.user), pk=pk)


@login_required
def round_assignments(request, pk):
    """Who owes what: indicators → departments, places → third-party evaluators."""
    round_ = _managed_round(request, pk)
    kind = request.POST.get("kind")
    department_form = DepartmentAssignmentForm(
        request.POST if kind == "department" else None, round_=round_
    )
    evaluator_form = EvaluatorAssignmentForm(
        request.POST if kind == "evaluator" else None, round_=round_
    )
    if request.method == "POST":
        form = department_form if kind == "department" else evaluator_form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if kind == "department":
                    services.assign_department(
                        round_, data["indicator"], data["department"], acting_user=request.user
                    )
                else:
                    services.assign_evaluator(
                        round_, data["place"], data["evaluator"], acting_user=request.user
                    )
            except services.CheckStepError as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("任务分派已保存。"))
                return redirect("collection:round_assignments", pk=pk)
    context = {
        "round": round_,
        "department_form": department_form,
        "evaluator_form": evaluator_form,
        "assignments": round_.assignments.select_related(
            "indicator", "department", "place", "evaluator"
        ).order_by("kind", "indicator__code", "place__code"),
    }
    return render(request, "collection/round_assignments.html", context)


@login_required
@require_POST
def round_status(request, pk):
    round_ = _managed_round(request, pk)
    status = request.POST.get("status", "")
    if status not in RoundStatus.values:
        raise Http404
    services.set_round_status(round_, status, acting_user=request.user)
    return redirect("collection:round", pk=pk)


# --------------------------------------------------------------------------- data entry


@login_required
def entry(request, pk, code):
    """The submission the user fills for ``code`` in round ``pk`` (created on first visit):
    a department filler's part, an evaluator's third-party data, or the place's own."""
    round_ = get_object_or_404(access.restrict(Round.objects.all(), request.user), pk=pk)
    place = access.get_place(request.user, code, Action.VIEW)
    if not round_.places.filter(pk=place.pk).exists():
        raise Http404
    user = request.user
    source = request.GET.get("source", Source.SELF_CHECK)
    if user.role == Role.EVALUATOR:
        source = Source.THIRD_PARTY
    if source not in services.ENTERED_SOURCES:
        raise Http404
    department = user.department if user.role == Role.DEPARTMENT_FILLER else None
    submission = services.submission_for(round_, place, source, department)
    return redirect("collection:submission", pk=submission.pk)


def _submission(request, pk) -> Submission:
    """The submission ``pk`` if the user may see it (404 otherwise, like a missing one)."""
    return get_object_or_404(
        Submission.objects.restrict(request.user, Action.VIEW).select_related(
            "round__system", "place", "department", "submitted_by", "decided_by"
        ),
        pk=pk,
    )


def _number_text(number: float | None) -> str:
    """A stored number as the entry form shows it (and compares it back)."""
    return "" if number is None else format(number, ".15g")


def _may_enter(user, submission: Submission, indicators) -> bool:
    try:
        services.check_may_enter(
            user,
            submission.round,
            [submission.place],
            [i.pk for i in indicators],
            submission.source,
        )
    except PermissionDenied:
        return False
    return True


def _allowed_steps(user, submission: Submission, may_enter: bool) -> set[str]:
    """The workflow buttons worth showing; the services decide again on each click."""
    status, level = submission.status, user_level(user)
    own = not user.is_superuser and user.place_id == submission.place_id
    via_city = workflow.needs_city_step(submission)
    ready_for_province = SubmissionStatus.CITY_APPROVED if via_city else SubmissionStatus.SUBMITTED
    steps = set()
    if may_enter and status in (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED):
        steps.add("submit")
    if may_enter and status in (SubmissionStatus.CITY_APPROVED, SubmissionStatus.ACCEPTED):
        steps.add("revision")
    if access.may(user, Action.APPROVE) and not own:
        if level == PlaceLevel.CITY and via_city and status == SubmissionStatus.SUBMITTED:
            steps |= {"approve", "return"}
        if level == PlaceLevel.PROVINCE and status == ready_for_province:
            steps |= {"accept", "return"}
        if level in (PlaceLevel.CITY, PlaceLevel.PROVINCE):
            steps.add("decide")
    return steps


def entry_rows(
    submission: Submission, indicators, *, user, posted=None, issues=None
) -> list[tuple]:
    """The form's rows, grouped by dimension: (dimension, [row, …]).

    Each row carries the indicator, the stored value (its version and last change), last
    year's value, the standard, the roll-up of the counties for a city, the validation
    issues, and what the input shows (``posted`` rows keep what the user typed).
    """
    round_, place = submission.round, submission.place
    stored = {
        v.indicator_id: v
        for v in Value.objects.filter(
            round=round_, place=place, source=submission.source, indicator__in=indicators
        ).select_related("updated_by")
    }
    previous = excel.previous_values(round_, [place.pk])
    standards: dict[int, list] = {}
    for standard in Standard.objects.filter(indicator__in=indicators).order_by("city_class"):
        standards.setdefault(standard.indicator_id, []).append(standard)
    rollup = {}
    if place.level == PlaceLevel.CITY and submission.source == Source.SELF_CHECK:
        comparison = rollup_comparison(round_, place, acting_user=user)
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


def _issues(submission: Submission, indicators, stage="save"):
    return validate_round_values(
        submission.round,
        source=submission.source,
        place_ids=[submission.place_id],
        stage=stage,
        indicator_ids=[i.pk for i in indicators],
    )


def _form_context(request, submission, *, posted=None, issues=None, **extra) -> dict:
    indicators = services.indicators_owed(submission.round, department=submission.department)
    may_enter = _may_enter(request.user, submission, indicators)
    if issues is None:
        issues = _issues(submission, indicators)
    writable = (
        may_enter and submission.round.status == RoundStatus.OPEN and not submission.is_locked
    )
    return {
        "submission": submission,
        "round": submission.round,
        "groups": entry_rows(
            submission, indicators, user=request.user, posted=posted, issues=issues
        ),
        "errors": int((issues["severity"] == "error").sum()) if len(issues) else 0,
        "warnings": int((issues["severity"] == "warning").sum()) if len(issues) else 0,
        "writable": writable,
        "show_rollup": submission.place.level == PlaceLevel.CITY
        and submission.source == Source.SELF_CHECK,
        **extra,
    }


@login_required
def submission_view(request, pk):
    """The data-entry and review page of one submission."""
    submission = _submission(request, pk)
    user = request.user
    indicators = services.indicators_owed(submission.round, department=submission.department)
    context = _form_context(request, submission)
    context.update(
        steps=_allowed_steps(user, submission, _may_enter(user, submission, indicators)),
        comments=submission.comments.select_related("author", "indicator"),
        evidence=submission.evidence.select_related("uploaded_by", "indicator"),
        revisions=submission.revisions.select_related("requested_by", "decided_by"),
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
    indicators = services.indicators_owed(submission.round, department=submission.department)
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
        issues=saved.issues if saved is not None else None,
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
        department=submission.department,
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


# --------------------------------------------------------------------------- review


@login_required
def discrepancies(request, pk):
    """Self-check against third party per indicator, with tolerances; the province
    adjudicates the adopted value."""
    round_ = get_object_or_404(access.restrict(Round.objects.all(), request.user), pk=pk)
    frame = services.discrepancies(round_, acting_user=request.user)
    only_exceeding = request.GET.get("all") != "1"
    if only_exceeding:
        frame = frame[frame["exceeds"]]
    adjudications = {
        (a.place.code, a.indicator.code): a
        for a in round_.adjudications.restrict(request.user, Action.VIEW).select_related(
            "place", "indicator", "decided_by"
        )
    }
    names = dict(round_.system.all_indicators().values_list("code", "name_zh"))
    places = dict(
        Place.objects.filter(code__in=frame["place"].unique()).values_list("code", "name_zh")
    )
    rows = [
        {
            **row,
            "place_name": places.get(row["place"], row["place"]),
            "name": names.get(row["indicator"], row["indicator"]),
            "adjudication": adjudications.get((row["place"], row["indicator"])),
        }
        for row in frame.head(500).to_dict("records")
    ]
    context = {
        "round": round_,
        "rows": rows,
        "total": len(frame),
        "only_exceeding": only_exceeding,
        "may_adjudicate": user_level(request.user) == PlaceLevel.PROVINCE
        and access.may(request.user, Action.APPROVE),
        "form": AdjudicationForm(),
    }
    return render(request, "collection/discrepancies.html", context)


@login_required
@require_POST
def adjudicate(request, pk):
    round_ = get_object_or_404(access.restrict(Round.objects.all(), request.user), pk=pk)
    form = AdjudicationForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("collection:discrepancies", pk=pk)
    data = form.cleaned_data
    indicator = round_.system.all_indicators().filter(code=data["indicator"]).first()
    if indicator is None:
        raise Http404
    try:
        place = access.get_place(request.user, data["place"], Action.APPROVE)
        services.adjudicate(
            round_,
            place,
            indicator,
            chosen_source=data["chosen_source"],
            reason=data["reason"],
            value=data["value"],
            acting_user=request.user,
        )
    except PermissionDenied:
        messages.error(request, _("只有省级用户可以裁定采信值。"))
    except services.CheckStepError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("已裁定 %(place)s 的 %(indicator)s。")
            % {"place": place.name_zh, "indicator": indicator.name_zh},
        )
    return redirect("collection:discrepancies", pk=pk)


# Places listed at once on the board; the roll-up rows lead to the others.
BOARD_PLACES_SHOWN = 200


def _percent(row) -> int:
    return round(100 * row["filled"] / row["expected"]) if row["expected"] else 0


@login_required
def completeness(request, pk):
    """Submitted / returned / approved / overdue by place, department and dimension, rolled
    up the hierarchy; ``?under=CODE`` lists the places under one row of the roll-up."""
    round_ = get_object_or_404(access.restrict(Round.objects.all(), request.user), pk=pk)
    source = request.GET.get("source", Source.SELF_CHECK)
    if source not in services.ENTERED_SOURCES:
        source = Source.SELF_CHECK
    board = completeness_board(round_, acting_user=request.user, source=source)
    under = request.GET.get("under", "")
    places = board.places
    if under:
        # Any row of the roll-up may be opened, also an ancestor above the user's reach (a
        # county user's city): the list below it holds only the board's places anyway.
        shown = set(board.rollup["code"]) | set(places["code"])
        ancestor = Place.objects.filter(code=under).first() if under in shown else None
        if ancestor is None:
            raise Http404
        inside = set(Place.objects.subtree_of(ancestor).values_list("code", flat=True))
        places = places[places["code"].isin(inside)]
    names = dict(Place.objects.filter(code__in=board.rollup["code"]).values_list("code", "name_zh"))
    departments = {d.pk: d.name for d in Department.objects.all()}
    status_labels = dict(SubmissionStatus.choices)
    entry_link = reverse("collection:entry", args=[round_.pk, "000000"])
    context = {
        "round": round_,
        "source": source,
        "sources": [(s, Source(s).label) for s in services.ENTERED_SOURCES],
        "statuses": SubmissionStatus.choices,
        "under": under,
        "rollup": [
            {**row, "name": names.get(row["code"], row["code"]), "percent": _percent(row)}
            for row in board.rollup.sort_values("code").to_dict("records")
        ],
        # Links and percentages built here: per-row template tags dominate a national board.
        "places": [
            {
                **row,
                "status_label": status_labels.get(row["status"], row["status"]),
                "percent": _percent(row),
                "url": entry_link.replace("000000", row["code"]) + f"?source={source}",
            }
            for row in places.head(BOARD_PLACES_SHOWN).to_dict("records")
        ],
        "place_count": len(places),
        "departments": [
            {**row, "name": departments.get(row["department_id"], _("未指定"))}
            for row in board.departments.to_dict("records")
        ],
        "dimensions": board.dimensions.to_dict("records"),
        "reminders": Reminder.objects.restrict(request.user)
        .filter(round=round_)
        .select_related("user", "place")[:50],
    }
    return render(request, "collection/completeness.html", context)


@login_required
@require_POST
def reminder_read(request, pk):
    reminder = get_object_or_404(Reminder.objects.filter(user=request.user), pk=pk)
    reminders.mark_read(reminder, acting_user=request.user)
    return redirect(request.POST.get("next") or "collection:round_list")


# --------------------------------------------------------------------------- values


class ValueView(RestrictedDetailView):
    """A value with its audit beside it: who, when, old, new, channel and why."""

    queryset = Value.objects.select_related("round", "place", "indicator", "updated_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        value = self.object
        context["history"] = services.value_history(value, acting_user=self.request.user)
        context["comments"] = ValueComment.objects.filter(
            submission__round=value.round_id,
            submission__place=value.place_id,
            submission__source=value.source,
            indicator=value.indicator_id,
        ).select_related("author")
        context["submission"] = Submission.objects.filter(
            round=value.round_id, place=value.place_id, source=value.source
        ).first()
        return context
