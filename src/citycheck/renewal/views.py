"""Pages of the treatment step: project library, project page with monthly reports,
candidate proposal from confirmed problems, the monthly progress board."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citycheck.collection.models import Round, RoundKind
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView

from . import services
from .models import ProjectStatus, RenewalProject


class ProjectListView(RestrictedListView):
    queryset = RenewalProject.objects.select_related("place")

    def get_queryset(self):
        rows = super().get_queryset()
        for name in ("year", "status", "project_type"):
            if self.request.GET.get(name):
                rows = rows.filter(**{name: self.request.GET[name]})
        return rows


class ProjectView(RestrictedDetailView):
    queryset = RenewalProject.objects.select_related("place").prefetch_related(
        "problems", "reports"
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_change"] = _changeable(self.request.user, self.object.pk) is not None
        return context


def _changeable(user, pk):
    return access.restrict(RenewalProject.objects.all(), user, Action.CHANGE).filter(pk=pk).first()


@login_required
@require_POST
def project_status(request, pk):
    project = _changeable(request.user, pk)
    if project is None:
        raise Http404
    services.set_project_status(project, request.POST.get("status", ""), acting_user=request.user)
    return redirect("renewal:project", pk=pk)


@login_required
@require_POST
def project_report(request, pk):
    project = _changeable(request.user, pk)
    if project is None:
        raise Http404
    try:
        services.report_progress(
            project,
            month=dt.date.fromisoformat(f"{request.POST.get('month', '')}-01"),
            percent_complete=float(request.POST.get("percent_complete", "")),
            investment=float(request.POST["investment"])
            if request.POST.get("investment")
            else None,
            milestones=request.POST.get("milestones", ""),
            blockers=request.POST.get("blockers", ""),
            acting_user=request.user,
        )
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("renewal:project", pk=pk)


@login_required
@require_POST
def project_propose(request):
    round_ = Round.objects.filter(year=request.POST.get("year") or 0, kind=RoundKind.ANNUAL).first()
    if (
        round_ is None
        or not access.restrict(round_.places.all(), request.user, Action.CHANGE).exists()
    ):
        raise Http404
    created = services.propose_projects(round_, acting_user=request.user)
    messages.info(request, _("已生成 %(count)d 个候选项目。") % {"count": len(created)})
    return redirect("renewal:project_list")


@login_required
def progress_board(request):
    month = request.GET.get("as_of") or dt.date.today().strftime("%Y-%m")
    try:
        as_of = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        as_of = dt.date.today()
    board = services.progress_board(as_of=as_of, user=request.user)
    flagged = board.flags[board.flags["late"] | board.flags["stalled"]]
    projects = RenewalProject.objects.in_bulk(list(flagged.index))
    context = {
        "as_of": as_of,
        "flagged": [(projects[pk], row) for pk, row in flagged.iterrows()],
        "rollups": [
            ("城市", board.by_city),
            ("项目类型", board.by_project_type),
            ("城市病", board.by_disease),
        ],
        "statuses": ProjectStatus,
    }
    return render(request, "renewal/progress_board.html", context)
