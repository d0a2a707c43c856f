"""Pages of the diagnosis step: the problem list with evidence and re-check, review."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView

from . import services
from .models import Problem, ProblemStatus


class ProblemListView(RestrictedListView):
    queryset = Problem.objects.select_related("place", "round")
    filters = {
        "year": "round__year",
        "place": "place__code",
        "status": "status",
        "disease": "disease",
    }

    def get_queryset(self):
        rows = super().get_queryset()
        for name, lookup in self.filters.items():
            if self.request.GET.get(name):
                rows = rows.filter(**{lookup: self.request.GET[name]})
        return rows


class ProblemView(RestrictedDetailView):
    queryset = Problem.objects.select_related("place", "round", "previous__round")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["may_review"] = (
            access.restrict(Problem.objects.all(), user, Action.CHANGE)
            .filter(pk=self.object.pk)
            .exists()
        )
        context["statuses"] = [ProblemStatus.CONFIRMED, ProblemStatus.DISMISSED]
        return context


@login_required
@require_POST
def problem_review(request, pk):
    problem = (
        access.restrict(Problem.objects.all(), request.user, Action.CHANGE).filter(pk=pk).first()
    )
    if problem is None:
        raise Http404
    try:
        services.review_problem(
            problem,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            acting_user=request.user,
        )
    except services.ReviewError as exc:
        messages.error(request, str(exc))
    return redirect("diagnosis:problem", pk=pk)
