"""Pages of the treatment step: project library with map and Excel in/out, candidate
projects (propose, edit, adopt), the annual construction plan, project page with monthly
reports, the monthly progress board, the what-if page of a place and project effects.

Every row comes through :func:`citycheck.core.access.restrict` (directly or through the
restricted generic views); objects out of reach answer 404.
"""

import datetime as dt
import tempfile
from collections import Counter
from io import BytesIO
from pathlib import Path
from urllib.parse import quote
from zipfile import BadZipFile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from openpyxl.utils.exceptions import InvalidFileException

from citycheck.assessment.labels import indicator_names
from citycheck.collection.models import Round, RoundKind, RoundStatus
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.redirects import redirect_to_next
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView
from citycheck.diagnosis.models import Problem
from citycheck.diagnosis.services import catalogue
from citycheck.places.models import Place

from . import services
from .filtersets import RenewalProjectFilterSet
from .forms import (
    CandidateForm,
    CandidateSelectionForm,
    ProgressBoardForm,
    ProgressReportForm,
    ProjectImportForm,
    ProjectStatusForm,
    ProposeForm,
    first_error,
)
from .models import ProjectStatus, RenewalProject

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _choices_context() -> dict:
    return {
        "project_types": sorted(services.project_type_names().items()),
        "diseases": [(d.code, d.name_zh) for d in catalogue().diseases],
        "statuses": ProjectStatus.choices,
    }


def _xlsx_response(write, filename: str) -> HttpResponse:
    """An Excel download: ``write(file)`` fills the workbook."""
    buffer = BytesIO()
    write(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


class ProjectListView(RestrictedListView):
    """The library: the same filters narrow the table, the map layer and the export."""

    queryset = RenewalProject.objects.select_related("place")

    def get_queryset(self):
        self.filterset = RenewalProjectFilterSet(self.request.GET, super().get_queryset())
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        query = self.request.GET.urlencode()
        root = user.place or Place.objects.filter(parent__isnull=True).order_by("code").first()
        context["object_list"] = services.with_names(context["object_list"])
        context.update(
            _choices_context(),
            query=query,
            map_root=root.code if root else "",
            boundaries_url=reverse("places-api:place-boundaries", args=[root.code]) if root else "",
            layer_url=f"{reverse('renewal-api:renewalproject-geojson')}?{query}",
            may_change=access.may(user, Action.CHANGE),
            any_located=self.object_list.filter(location__isnull=False).exists(),
            projects_by_region=_projects_by_region(self.object_list, root) if root else {},
        )
        return context


def _projects_by_region(projects, root: Place) -> dict[str, int]:
    """Number of ``projects`` per region of the map: ``root`` (all of them) and each of its
    children (those in the child's subtree), by place code."""
    counts = Counter()
    for path in projects.filter(place__path__startswith=root.path).values_list(
        "place__path", flat=True
    ):
        counts[root.code] += 1
        below = path.removeprefix(root.path).split("/")[0]
        if below:
            counts[below] += 1
    return dict(counts)


@login_required
def project_export(request):
    """The library as Excel, filtered like the page (re-imports through the template)."""
    rows = RenewalProjectFilterSet(
        request.GET, access.restrict(RenewalProject.objects.all(), request.user)
    ).qs
    return _xlsx_response(
        lambda file: services.export_projects(file, user=request.user, projects=rows),
        _("项目库") + ".xlsx",
    )


@login_required
def project_import(request):
    """Upload the project template; every error is listed by cell and nothing is written."""
    if not access.may(request.user, Action.CHANGE):
        raise PermissionDenied
    issues, created = [], None
    posted = request.method == "POST"
    form = ProjectImportForm(request.POST, request.FILES) if posted else ProjectImportForm()
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(upload.name).name
            path.write_bytes(upload.read())
            try:
                created = services.import_projects(path, acting_user=request.user)
            except services.ProjectImportError as exc:
                issues = str(exc).splitlines()
            except (BadZipFile, InvalidFileException, OSError) as exc:  # not a workbook
                issues = [
                    _("无法读取文件 %(name)s：%(error)s") % {"name": upload.name, "error": exc}
                ]
        if created is not None:
            messages.success(request, _("已导入 %(count)d 个项目。") % {"count": len(created)})
            return redirect("renewal:project_list")
    context = {
        "form": form,
        "issues": issues,
        "columns": [label for label, _f in services.TEMPLATE_COLUMNS],
    }
    refused = issues or form.errors
    return render(request, "renewal/project_import.html", context, status=400 if refused else 200)


class ProjectView(RestrictedDetailView):
    queryset = RenewalProject.objects.select_related("place").prefetch_related(
        "problems__round", "reports"
    )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("report_form", ProgressReportForm())
        context = super().get_context_data(**kwargs)
        context["may_change"] = _changeable(self.request.user, self.object.pk) is not None
        services.with_names([self.object])  # sets the names on the page's object
        return context


def _changeable(user, pk):
    return access.restrict(RenewalProject.objects.all(), user, Action.CHANGE).filter(pk=pk).first()


@login_required
@require_POST
def project_status(request, pk):
    project = _changeable(request.user, pk)
    if project is None:
        raise Http404
    form = ProjectStatusForm(request.POST)
    if form.is_valid():
        services.set_project_status(project, form.cleaned_data["status"], acting_user=request.user)
    else:
        messages.error(request, first_error(form))
    return redirect_to_next(request, "renewal:project", pk=pk)


@login_required
def project_edit(request, pk):
    """Edit a candidate (name, budget, dates, unit, expected changes) before adoption;
    with ``adopt`` the edit and the adoption are saved together or not at all."""
    project = _changeable(request.user, pk)
    if project is None:
        raise Http404
    form = CandidateForm.for_project(project, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.update_candidate(
                    project,
                    name=data["name"],
                    budget=data["budget"],
                    start=data["start"],
                    end=data["end"],
                    unit=form.unit(),
                    targets=data["targets"],
                    acting_user=request.user,
                )
                if request.POST.get("adopt"):
                    services.set_project_status(
                        project, ProjectStatus.ADOPTED, acting_user=request.user
                    )
        except services.CandidateError as refused:
            form.add_error(None, str(refused))
        else:
            return redirect("renewal:candidate_list")
    services.with_names([project])
    return render(
        request,
        "renewal/project_edit.html",
        {"object": project, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def candidate_list(request):
    """Candidates proposed from confirmed problems, by priority; adopt the ticked ones
    (all of them or, if one is not a candidate the user may change, none)."""
    candidates = access.restrict(RenewalProject.objects.all(), request.user, Action.CHANGE).filter(
        status=ProjectStatus.CANDIDATE
    )
    form = CandidateSelectionForm(
        request.POST if request.method == "POST" else None, candidates=candidates
    )
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["project"])
        with transaction.atomic():
            for project in chosen:
                services.set_project_status(
                    project, ProjectStatus.ADOPTED, acting_user=request.user
                )
        messages.success(
            request, _("已将 %(count)d 个候选项目纳入项目库。") % {"count": len(chosen)}
        )
        return redirect("renewal:candidate_list")
    rows = (
        candidates.select_related("place")
        .prefetch_related("problems")
        .order_by("year", "-priority", "place__code")
    )
    return render(
        request,
        "renewal/candidate_list.html",
        {"candidates": services.with_names(rows), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def project_propose(request):
    form = ProposeForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("renewal:project_list")
    round_ = (
        Round.objects.own_first(request.user)
        .filter(year=form.cleaned_data["year"], kind=RoundKind.ANNUAL)
        .first()
    )
    if (
        round_ is None
        or not access.restrict(round_.places.all(), request.user, Action.CHANGE).exists()
    ):
        raise Http404
    created = services.propose_projects(round_, acting_user=request.user)
    messages.info(request, _("已生成 %(count)d 个候选项目。") % {"count": len(created)})
    return redirect("renewal:candidate_list")


@login_required
@require_POST
def project_from_problem(request, problem_pk):
    """Make a candidate project from one problem (see
    :func:`services.propose_project_for_problem`) and open it for editing; for users who
    may propose projects for the problem's place."""
    problem = (
        access.restrict(Problem.objects.all(), request.user)
        .select_related("place", "round")
        .filter(pk=problem_pk)
        .first()
    )
    if problem is None or not services.may_propose_for(request.user, problem.place):
        raise Http404
    try:
        project, created = services.propose_project_for_problem(problem, acting_user=request.user)
    except services.CandidateError as refused:
        messages.error(request, str(refused))
        return redirect("diagnosis:problem", pk=problem.pk)
    if not created:
        messages.info(
            request,
            _("%(place)s已有同类项目“%(name)s”，已将该问题关联到此项目。")
            % {"place": problem.place.name, "name": project.name},
        )
    if project.status != ProjectStatus.CANDIDATE:
        return redirect("renewal:project", pk=project.pk)
    return redirect("renewal:project_edit", pk=project.pk)


def _plan(request):
    year = request.GET.get("year") or str(dt.date.today().year)
    if not year.isdigit():
        raise Http404
    rows = access.restrict(RenewalProject.objects.all(), request.user).filter(
        year=int(year), status__in=services.PLAN_STATUSES
    )
    return int(year), rows.select_related("place").order_by("place__code", "-priority", "name")


@login_required
def annual_plan(request):
    """The year's annual construction plan (年度建设计划): its adopted projects."""
    year, rows = _plan(request)
    rows = services.with_names(rows)
    return render(
        request,
        "renewal/annual_plan.html",
        {"year": year, "projects": rows, "total_budget": sum(p.budget for p in rows)},
    )


@login_required
def annual_plan_export(request):
    year, rows = _plan(request)
    return _xlsx_response(
        lambda file: services.export_projects(file, user=request.user, projects=rows),
        _("%(year)d年度建设计划") % {"year": year} + ".xlsx",
    )


@login_required
@require_POST
def project_report(request, pk):
    """Record a month's progress; a refused report shows the project page again with each
    error beside its field (status 400)."""
    project = _changeable(request.user, pk)
    if project is None:
        raise Http404
    form = ProgressReportForm(request.POST)
    if form.is_valid():
        try:
            services.report_progress(project, **form.cleaned_data, acting_user=request.user)
        except services.ProgressError as refused:
            form.add_error(refused.field, str(refused))
        else:
            return redirect("renewal:project", pk=pk)
    page = ProjectView(object=project)
    page.setup(request, pk=pk)
    response = page.render_to_response(page.get_context_data(report_form=form))
    response.status_code = 400
    return response


# Column headers of the progress board's tables, engine column → label (lazy: translated
# in the language of each request, not the one active at import).
FLAG_COLUMNS = {
    "expected_percent": gettext_lazy("计划进度（%）"),
    "percent_complete": gettext_lazy("实际进度（%）"),
    "lag": gettext_lazy("滞后（百分点）"),
    "investment_to_date": gettext_lazy("累计完成投资（万元）"),
    "months_without_progress": gettext_lazy("无进展月数"),
}
ROLLUP_COLUMNS = {
    "projects": gettext_lazy("项目数"),
    "budget": gettext_lazy("总投资（万元）"),
    "investment_to_date": gettext_lazy("累计完成投资（万元）"),
    "investment_share": gettext_lazy("投资完成率"),
    "percent_complete": gettext_lazy("加权形象进度（%）"),
    "late": gettext_lazy("滞后项目"),
    "stalled": gettext_lazy("停滞项目"),
}


@login_required
def progress_board(request):
    """The month's dispatch (this month unless ``as_of`` names another); a month written
    wrongly is answered beside the field, over this month's board (status 400)."""
    form = ProgressBoardForm(request.GET)
    valid = form.is_valid()
    as_of = (valid and form.cleaned_data["as_of"]) or dt.date.today().replace(day=1)
    board = services.progress_board(as_of=as_of, user=request.user)
    projects = RenewalProject.objects.select_related("place").in_bulk(list(board.flags.index))
    place_names = dict(Place.objects.values_list("code", "name_zh"))
    disease_names = {d.code: d.name_zh for d in catalogue().diseases}
    group_names = {
        "city": place_names,
        "project_type": services.project_type_names(),
        "disease": disease_names,
    }
    rollups = []
    for title, key, frame in (
        (_("按城市"), "city", board.by_city),
        (_("按项目类型"), "project_type", board.by_project_type),
        (_("按城市病"), "disease", board.by_disease),
    ):
        rows = [
            (group_names[key].get(group, group), [row.get(c) for c in ROLLUP_COLUMNS])
            for group, row in frame.to_dict("index").items()
        ]
        rollups.append((title, rows))
    flags = board.flags.sort_values(["late", "stalled", "lag"], ascending=False)
    context = {
        "as_of": as_of,
        "projects": [
            (projects[pk], row, [row.get(c) for c in FLAG_COLUMNS])
            for pk, row in flags.to_dict("index").items()
        ],
        "late_count": int(board.flags["late"].sum()) if len(board.flags) else 0,
        "stalled_count": int(board.flags["stalled"].sum()) if len(board.flags) else 0,
        "flag_columns": FLAG_COLUMNS.values(),
        "rollup_columns": ROLLUP_COLUMNS.values(),
        "rollups": rollups,
        "form": form,
    }
    return render(request, "renewal/progress_board.html", context, status=200 if valid else 400)


def _annual_round(year, user) -> Round:
    round_ = (
        Round.objects.own_first(user).filter(year=year or 0, kind=RoundKind.ANNUAL).first()
        if str(year or "").isdigit()
        else None
    )
    if round_ is None:
        raise Http404
    return round_


@login_required
def what_if(request):
    """A place's planned projects and their expected effect on next year's values,
    warning colours and index. The form offers the rounds with values to start from,
    the latest first; any other round is answered with a message on the page. A round
    not yet published is projected from the values adopted so far, and the page says so
    and offers the latest round whose collection is complete."""
    rounds = services.rounds_with_values(
        access.restrict(Round.objects.filter(kind=RoundKind.ANNUAL), request.user)
    )
    places = Place.objects.restrict(request.user).exclude(level="province").order_by("code")
    context = {
        "rounds": rounds.order_by("-year"),
        "places": places,
        "result": None,
        "latest_complete": rounds.exclude(status=RoundStatus.OPEN).order_by("-year").first(),
    }
    if request.GET.get("round") and request.GET.get("place"):
        round_ = _annual_round(request.GET["round"], request.user)
        try:
            place = access.get_place(request.user, request.GET["place"])
        except PermissionDenied as exc:
            raise Http404 from exc
        context.update(round=round_, place=place)
        try:
            result = services.what_if_for_place(round_, place)
        except services.WhatIfUnavailable as exc:
            context["error"] = str(exc)
            return render(request, "renewal/what_if.html", context, status=400)
        names = indicator_names(round_.system)
        for row in result["indicators"]:
            row["name"] = names.get(row["indicator"], row["indicator"])
        context.update(
            result=result,
            planned=services.with_names(RenewalProject.objects.filter(pk__in=result["projects"])),
        )
    return render(request, "renewal/what_if.html", context)


@login_required
def effects(request):
    """Difference-in-differences per project type × indicator with its interval and the
    number of places; open to users who see the whole round (the estimate pools places).
    Others get the page with the reason and status 403."""
    rounds = services.effects_rounds(request.user).order_by("-year")
    context = {"rounds": rounds, "rows": None}
    round_ = _annual_round(request.GET["round"], request.user) if request.GET.get("round") else None
    if not rounds.exists() or (round_ is not None and round_ not in rounds):
        context["refusal"] = _("项目成效评估仅对全省范围的用户开放。")
        return render(request, "renewal/effects.html", context, status=403)
    if round_ is not None:
        frame = services.project_effects(round_)
        type_names = services.project_type_names()
        names = indicator_names(round_.system)
        context.update(
            round=round_,
            rows=[
                {
                    **row,
                    "type_name": type_names.get(row["project_type"], row["project_type"]),
                    "indicator_name": names.get(row["indicator"], row["indicator"]),
                }
                for row in frame.to_dict("records")
            ],
        )
    return render(request, "renewal/effects.html", context)
