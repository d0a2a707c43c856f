"""The public library of selected outstanding cases (优秀案例): search by place, type and
year. Only selected cases are shown (``Case.objects.published()``)."""

from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from citycheck.supervision.models import Case, CaseType


def case_list(request):
    cases = Case.objects.published().select_related("place").order_by("-year", "place__code", "pk")
    place = request.GET.get("place", "").strip()[:60]
    kind = request.GET.get("type", "")
    year = request.GET.get("year", "")
    if place:
        cases = cases.filter(
            Q(place__name_zh__icontains=place)
            | Q(place__code__startswith=place)
            | Q(place__parent__name_zh__icontains=place)
        )
    if kind in CaseType.values:
        cases = cases.filter(case_type=kind)
    if year.isdigit() and len(year) == 4:
        cases = cases.filter(year=int(year))
    years = sorted(set(Case.objects.published().values_list("year", flat=True)), reverse=True)
    return render(
        request,
        "portal/cases.html",
        {
            "cases": cases[:200],
            "types": CaseType.choices,
            "years": years,
            "query": {"place": place, "type": kind, "year": year},
        },
    )


def case(request, pk):
    item = get_object_or_404(Case.objects.published().select_related("place"), pk=pk)
    return render(request, "portal/case.html", {"case": item})
