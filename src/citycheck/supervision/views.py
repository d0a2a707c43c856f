"""Pages of supervision: local plans, the monthly dispatch, quarterly bulletins and the
annual assessment. Reads go through ``restrict``; writes through the services, whose
refusals are shown beside the field they name."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.jobs import start_job
from citycheck.places.models import Place, PlaceLevel

from . import appraisals, bulletins, dispatch, plans
from .forms import (
    AdjustForm,
    AppraisalStartForm,
    BulletinStartForm,
    BulletinTextForm,
    DispatchReportForm,
    HandScoreForm,
    OpenMonthForm,
    PlanForm,
    TargetForm,
    TaskForm,
    YearlyPlanForm,
)
from .models import (
    Appraisal,
    AppraisalScore,
    AppraisalTotal,
    Bulletin,
    DispatchMonth,
    DispatchReport,
    IssueStatus,
    LocalPlan,
    PlanTask,
)

SERVICE_ERRORS = (
    plans.PlanError,
    dispatch.DispatchError,
    bulletins.BulletinError,
    appraisals.AppraisalError,
)


def _add_error(form, exc) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc))


@login_required
def index(request):
    user = request.user
    return render(
        request,
        "supervision/index.html",
        {
            "may_run": dispatch.may_run(user),
            "own_plan": LocalPlan.objects.restrict(user, Action.VIEW)
            .filter(place=user.place)
            .first()
            if user.place_id
            else None,
        },
    )


# ── plans ────────────────────────────────────────────────────────────────────


@login_required
def plan_list(request):
    """Every plan in reach side by side, with how many targets are met, on track, at
    risk or off track at the latest year observed."""
    visible = list(LocalPlan.objects.restrict(request.user, Action.VIEW).select_related("place"))
    progress = plans.target_progress(visible)
    counts = {}
    for row in progress.to_dict("records"):
        counts.setdefault(row["place"], {}).setdefault(row["status"], 0)
        counts[row["place"]][row["status"]] += 1
    rows = [(plan, counts.get(plan.place.code, {})) for plan in visible]
    creatable = (
        [
            p
            for p in access.reach(request.user)
            .filter(level__in=[PlaceLevel.CITY, PlaceLevel.COUNTY])
            .exclude(local_plan__isnull=False)
            .order_by("code")[:200]
        ]
        if access.may(request.user, Action.CHANGE)
        else []
    )
    return render(
        request,
        "supervision/plan_list.html",
        {
            "rows": rows,
            "statuses": ["met", "on_track", "at_risk", "off_track", "no_data"],
            "labels": {
                s: plans.status_label(s)
                for s in ["met", "on_track", "at_risk", "off_track", "no_data"]
            },
            "creatable": creatable,
        },
    )


def _plan_place(request, code, action=Action.VIEW) -> Place:
    try:
        return access.get_place(request.user, code, action)
    except PermissionDenied:
        raise Http404 from None


@login_required
def plan(request, code):
    place = _plan_place(request, code)
    plan = LocalPlan.objects.restrict(request.user, Action.VIEW).filter(place=place).first()
    may_change = (
        access.may(request.user, Action.CHANGE)
        and access.reach(request.user).filter(pk=place.pk).exists()
    )
    forms = {
        "plan": PlanForm(
            initial={
                "title": plan.title,
                "start_year": plan.start_year,
                "end_year": plan.end_year,
                "summary": plan.summary,
            }
            if plan
            else {"start_year": 2021, "end_year": 2025}
        ),
        "target": TargetForm(),
        "task": TaskForm(),
        "yearly": YearlyPlanForm(),
    }
    status = 200
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(access.denied(str(place), Action.CHANGE))
        which = request.POST.get("form", "plan")
        form_class = {
            "plan": PlanForm,
            "target": TargetForm,
            "task": TaskForm,
            "yearly": YearlyPlanForm,
        }.get(which)
        if form_class is None or (plan is None and which != "plan"):
            raise Http404
        form = form_class(request.POST)
        forms[which] = form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if which == "plan":
                    plans.save_plan(place, acting_user=request.user, **data)
                elif which == "target":
                    plans.set_target(plan, acting_user=request.user, **data)
                elif which == "task":
                    plans.add_task(plan, acting_user=request.user, **data)
                else:
                    plans.set_yearly_plan(plan, acting_user=request.user, **data)
                return redirect("supervision:plan", code=place.code)
            except SERVICE_ERRORS as exc:
                _add_error(form, exc)
        status = 400
    progress = []
    if plan:
        table = plans.target_progress([plan]).set_index("target_id")
        for target in plan.targets.select_related("indicator"):
            row = table.loc[target.pk]
            progress.append((target, row, plans.status_label(row["status"])))
    return render(
        request,
        "supervision/plan.html",
        {
            "place": place,
            "plan": plan,
            "forms": forms,
            "may_change": may_change,
            "progress": progress,
        },
        status=status,
    )


# ── monthly dispatch ─────────────────────────────────────────────────────────


def _month(year, month) -> DispatchMonth:
    try:
        first = dt.date(year, month, 1)
    except ValueError:
        raise Http404 from None
    return get_object_or_404(DispatchMonth, month=first)


def _may_see_board(user) -> bool:
    return dispatch.may_run(user) or (
        access.may(user, Action.APPROVE)
        and user.place_id
        and user.place.level == PlaceLevel.PROVINCE
    )


@login_required
def dispatch_list(request):
    user = request.user
    form = OpenMonthForm()
    status = 200
    if request.method == "POST":
        if not dispatch.may_run(user):
            raise PermissionDenied
        form = OpenMonthForm(request.POST)
        if form.is_valid():
            try:
                opened = dispatch.open_month(
                    form.cleaned_data["month"],
                    deadline=form.cleaned_data["deadline"],
                    acting_user=user,
                )
                return redirect("supervision:dispatch_board", opened.month.year, opened.month.month)
            except SERVICE_ERRORS as exc:
                _add_error(form, exc)
        status = 400
    own = (
        DispatchReport.objects.restrict(user, Action.VIEW)
        .select_related("month", "place")
        .order_by("-month__month", "place__code")[:60]
    )
    return render(
        request,
        "supervision/dispatch_list.html",
        {
            "months": DispatchMonth.objects.all()[:48] if _may_see_board(user) else [],
            "own": own,
            "form": form,
            "may_run": dispatch.may_run(user),
        },
        status=status,
    )


@login_required
def dispatch_board(request, year, month):
    if not _may_see_board(request.user):
        raise PermissionDenied
    month_row = _month(year, month)
    rows = dispatch.board(month_row)
    return render(
        request,
        "supervision/dispatch_board.html",
        {
            "month": month_row,
            "rows": rows,
            "labels": [dispatch.figure_labels()[k] for k in dispatch.FIGURES],
            "overdue": [r.report.place for r in rows if r.overdue],
            "submitted": sum(1 for r in rows if r.report.status == "submitted"),
            "may_run": dispatch.may_run(request.user),
        },
    )


@login_required
@require_POST
def dispatch_action(request, year, month, action):
    month_row = _month(year, month)
    try:
        if action == "remind":
            dispatch.remind(month_row, acting_user=request.user)
        elif action == "close":
            dispatch.close_month(month_row, acting_user=request.user)
        else:
            raise Http404
    except dispatch.DispatchError:
        pass  # a closed month: the board says so
    return redirect("supervision:dispatch_board", year, month)


@login_required
def dispatch_export(request, year, month):
    if not _may_see_board(request.user):
        raise PermissionDenied
    month_row = _month(year, month)
    stream = io.BytesIO()
    dispatch.export_sheet(month_row, stream)
    response = HttpResponse(
        stream.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="dispatch-{month_row.month:%Y-%m}.xlsx"'
    )
    return response


@login_required
def dispatch_report(request, year, month, code):
    month_row = _month(year, month)
    report = (
        DispatchReport.objects.restrict(request.user, Action.VIEW)
        .filter(month=month_row, place__code=code)
        .select_related("place", "month")
        .first()
    )
    if report is None:
        raise Http404
    may_change = (
        access.may(request.user, Action.CHANGE)
        and access.reach(request.user).filter(pk=report.place_id).exists()
        and month_row.status == DispatchMonth.Status.OPEN
    )
    tasks = PlanTask.objects.filter(
        plan__place__in=Place.objects.subtree_of(report.place)
    ).select_related("plan__place")
    form = DispatchReportForm(initial={"summary": report.summary}, tasks=tasks)
    status = 200
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(access.denied(str(report.place), Action.CHANGE))
        form = DispatchReportForm(request.POST, tasks=tasks)
        if form.is_valid():
            try:
                dispatch.submit_report(
                    report,
                    summary=form.cleaned_data["summary"],
                    task_updates=form.task_updates(),
                    acting_user=request.user,
                )
                return redirect("supervision:dispatch_report", year, month, code)
            except SERVICE_ERRORS as exc:
                _add_error(form, exc)
        status = 400
    labels = dispatch.figure_labels()
    return render(
        request,
        "supervision/dispatch_report.html",
        {
            "report": report,
            "form": form,
            "may_change": may_change,
            "figures": [(labels[k], report.figures.get(k)) for k in dispatch.FIGURES],
        },
        status=status,
    )


# ── bulletins ────────────────────────────────────────────────────────────────


def _visible_bulletins(user):
    rows = Bulletin.objects.all()
    return (
        rows
        if dispatch.may_run(user) or _may_see_board(user)
        else rows.exclude(status=IssueStatus.DRAFT)
    )


@login_required
def bulletin_list(request):
    form = BulletinStartForm(initial={"year": dt.date.today().year, "quarter": 1})
    status = 200
    if request.method == "POST":
        if not dispatch.may_run(request.user):
            raise PermissionDenied
        form = BulletinStartForm(request.POST)
        if form.is_valid():
            job = start_job(
                "supervision.bulletin",
                acting_user=request.user,
                user_id=request.user.pk,
                **form.cleaned_data,
            )
            return redirect("job", job.pk)
        status = 400
    return render(
        request,
        "supervision/bulletin_list.html",
        {
            "bulletins": _visible_bulletins(request.user),
            "form": form,
            "may_run": dispatch.may_run(request.user),
        },
        status=status,
    )


@login_required
def bulletin(request, pk):
    item = get_object_or_404(_visible_bulletins(request.user), pk=pk)
    form = BulletinTextForm(initial={"text": item.text})
    status = 200
    if request.method == "POST":
        if not dispatch.may_run(request.user):
            raise PermissionDenied
        action = request.POST.get("action")
        form = BulletinTextForm(request.POST) if action == "save" else form
        try:
            if action == "save":
                if form.is_valid():
                    bulletins.edit_bulletin(
                        item, text=form.cleaned_data["text"], acting_user=request.user
                    )
                    return redirect("supervision:bulletin", pk)
            elif action == "issue":
                bulletins.issue_bulletin(item, acting_user=request.user)
                return redirect("supervision:bulletin", pk)
            elif action == "supersede":
                job = start_job(
                    "supervision.bulletin",
                    acting_user=request.user,
                    user_id=request.user.pk,
                    year=item.year,
                    quarter=item.quarter,
                    supersedes=item.pk,
                )
                return redirect("job", job.pk)
            else:
                raise Http404
        except SERVICE_ERRORS as exc:
            _add_error(form, exc)
        status = 400
    return render(
        request,
        "supervision/bulletin.html",
        {"bulletin": item, "form": form, "may_run": dispatch.may_run(request.user)},
        status=status,
    )


def _serve(files: dict, fmt: str, name: str):
    if fmt not in files:
        raise Http404
    path = Path(settings.MEDIA_ROOT) / files[fmt]
    if not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"{name}.{fmt}")


@login_required
def bulletin_file(request, pk, fmt):
    item = get_object_or_404(
        _visible_bulletins(request.user).exclude(status=IssueStatus.DRAFT), pk=pk
    )
    return _serve(item.files, fmt, f"{item.number}{item.title}")


# ── annual assessment ────────────────────────────────────────────────────────


def _visible_appraisals(user):
    rows = Appraisal.objects.all()
    return rows if _may_see_board(user) else rows.exclude(status=IssueStatus.DRAFT)


@login_required
def appraisal_list(request):
    form = AppraisalStartForm(initial={"year": dt.date.today().year - 1})
    status = 200
    if request.method == "POST":
        if not dispatch.may_run(request.user):
            raise PermissionDenied
        form = AppraisalStartForm(request.POST)
        if form.is_valid():
            job = start_job(
                "supervision.appraisal",
                acting_user=request.user,
                user_id=request.user.pk,
                year=form.cleaned_data["year"],
            )
            return redirect("job", job.pk)
        status = 400
    return render(
        request,
        "supervision/appraisal_list.html",
        {
            "appraisals": _visible_appraisals(request.user),
            "form": form,
            "may_run": dispatch.may_run(request.user),
        },
        status=status,
    )


@login_required
def appraisal(request, pk):
    item = get_object_or_404(_visible_appraisals(request.user), pk=pk)
    error = ""
    if request.method == "POST":
        if not dispatch.may_run(request.user):
            raise PermissionDenied
        try:
            appraisals.issue_appraisal(item, acting_user=request.user)
            return redirect("supervision:appraisal", pk)
        except SERVICE_ERRORS as exc:
            error = str(exc)
    totals = (
        AppraisalTotal.objects.restrict(request.user, Action.VIEW)
        .filter(appraisal=item)
        .select_related("place")
    )
    return render(
        request,
        "supervision/appraisal.html",
        {
            "appraisal": item,
            "cities": [t for t in totals if t.place.level == PlaceLevel.CITY],
            "counties": [t for t in totals if t.place.level == PlaceLevel.COUNTY],
            "commended": [t for t in totals if t.outcome == "commend"],
            "summoned": [t for t in totals if t.outcome == "summon"],
            "may_run": dispatch.may_run(request.user),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def appraisal_place(request, pk, code):
    item = get_object_or_404(_visible_appraisals(request.user), pk=pk)
    scores = list(
        AppraisalScore.objects.restrict(request.user, Action.VIEW)
        .filter(appraisal=item, place__code=code)
        .select_related("place")
    )
    if not scores:
        raise Http404
    total = AppraisalTotal.objects.filter(appraisal=item, place=scores[0].place).first()
    names = appraisals.criterion_names(item)
    weights = {c["key"]: c["weight"] for c in item.scheme["criteria"]}
    may_edit = dispatch.may_run(request.user) and item.status == IssueStatus.DRAFT
    forms = {}
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        score = next((s for s in scores if str(s.pk) == request.POST.get("score")), None)
        if score is None:
            raise Http404
        form = (HandScoreForm if score.kind != "computed" else AdjustForm)(request.POST)
        forms[score.pk] = form
        if form.is_valid():
            try:
                if score.kind == "computed":
                    appraisals.adjust_score(score, acting_user=request.user, **form.cleaned_data)
                else:
                    appraisals.score_by_hand(score, acting_user=request.user, **form.cleaned_data)
                return redirect("supervision:appraisal_place", pk, code)
            except SERVICE_ERRORS as exc:
                _add_error(form, exc)
        status = 400
    rows = []
    for score in scores:
        form = forms.get(score.pk) or (
            (HandScoreForm if score.kind != "computed" else AdjustForm)(
                initial={"points": abs(score.points)}, prefix=None
            )
            if may_edit
            else None
        )
        rows.append(
            (score, names.get(score.criterion, score.criterion), weights.get(score.criterion), form)
        )
    return render(
        request,
        "supervision/appraisal_place.html",
        {
            "appraisal": item,
            "place": scores[0].place,
            "rows": rows,
            "total": total,
            "may_edit": may_edit,
        },
        status=status,
    )


@login_required
def appraisal_file(request, pk, fmt):
    item = get_object_or_404(
        _visible_appraisals(request.user).exclude(status=IssueStatus.DRAFT), pk=pk
    )
    return _serve(item.files, fmt, f"{item.number}{item.year}年度考核结果")


# ── the province's own tasks ────────────────────────────────────────────────


@login_required
def province_tasks(request):
    """The province's task list with each department's status this month; a department
    reports on the tasks that name it."""
    from citycheck.accounts.models import Department
    from citycheck.renewal.forms import MonthField

    from . import province_tasks as tasks_service
    from .models import ProvinceTask, TaskStatus

    if not (_may_see_board(request.user) or request.user.role == "department_filler"):
        raise PermissionDenied
    field = MonthField(required=False)
    error = ""
    try:
        month = field.clean(request.GET.get("month") or None) or dt.date.today().replace(day=1)
    except Exception as exc:  # a ValidationError: shown beside the picker
        month, error = (
            dt.date.today().replace(day=1),
            "；".join(getattr(exc, "messages", [str(exc)])),
        )
    status = 400 if error else 200
    if request.method == "POST":
        task = get_object_or_404(ProvinceTask, pk=request.POST.get("task"))
        department = get_object_or_404(Department, pk=request.POST.get("department"))
        try:
            tasks_service.report_status(
                task,
                month=month,
                department=department,
                status=request.POST.get("status", ""),
                note=request.POST.get("note", "")[:2000],
                acting_user=request.user,
            )
            return redirect(f"{request.path}?month={month:%Y-%m}")
        except tasks_service.TaskReportError as exc:
            error, status = str(exc), 400
    rows = []
    for task, departments, cells in tasks_service.month_table(month):
        rows.append(
            (
                task,
                [
                    (d, *cells[d.pk], tasks_service.may_report(request.user, task, d))
                    for d in departments
                ],
            )
        )
    return render(
        request,
        "supervision/province_tasks.html",
        {"rows": rows, "month": month, "statuses": TaskStatus.choices, "error": error},
        status=status,
    )
