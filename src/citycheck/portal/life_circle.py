"""The public pages of the 15-minute life circle: accepted analyses of published rounds
only (``Analysis.objects.published()``), with their gap map and county table."""

from django.http import Http404
from django.shortcuts import render

from citycheck.spatial.models import Analysis
from citycheck.spatial.views import report_context


def life_circle_list(request):
    analyses = (
        Analysis.objects.published()
        .select_related("dataset__place", "dataset__round")
        .order_by("-dataset__round__year", "dataset__place__code")
    )
    return render(request, "portal/life_circle_list.html", {"analyses": analyses[:200]})


def life_circle(request, pk: int):
    analysis = (
        Analysis.objects.published()
        .select_related("dataset__place", "dataset__round")
        .filter(pk=pk)
        .first()
    )
    if analysis is None:
        raise Http404
    section = report_context(request.user, analysis.dataset.place, analysis.dataset.round)
    if section is None:
        raise Http404
    return render(
        request, "portal/life_circle.html", {"life_circle": section, "analysis": analysis}
    )
