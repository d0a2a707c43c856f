"""Pages of the outstanding cases library (优秀案例): write, attach, submit; review,
shortlist, decide; files served only to those who may see the case."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Avg
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render

from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.places.models import PlaceLevel

from . import cases
from .forms import CaseDecisionForm, CaseFileForm, CaseForm, CaseReviewForm
from .models import Case, CaseFile, CaseStatus


def _writable_places(user):
    if not access.may(user, Action.CHANGE):
        return []
    return list(
        access.reach(user)
        .filter(level__in=[PlaceLevel.CITY, PlaceLevel.COUNTY])
        .order_by("code")[:300]
    )


@login_required
def case_list(request):
    user = request.user
    visible = (
        Case.objects.restrict(user, Action.VIEW)
        .select_related("place")
        .annotate(mean=Avg("reviews__score"))
    )
    error = ""
    if request.method == "POST":  # the year's shortlist
        try:
            year = int(request.POST.get("year", ""))
            count = int(request.POST.get("count", ""))
            if not (2021 <= year <= 2035 and 1 <= count <= 100):
                raise ValueError
        except ValueError:
            error = "年度须为 2021–2035，入围数须为 1–100"
        else:
            cases.shortlist(year, count=count, acting_user=user)
            return redirect("supervision:case_list")
    return render(
        request,
        "supervision/case_list.html",
        {
            "cases": visible,
            "may_write": bool(_writable_places(user)),
            "may_review": cases.may_review(user),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def case_new(request):
    places = _writable_places(request.user)
    if not places:
        raise PermissionDenied
    form = CaseForm(places=places, initial={"year": 2025})
    status = 200
    if request.method == "POST":
        form = CaseForm(request.POST, places=places)
        if form.is_valid():
            data = form.cleaned_data
            place = next(p for p in places if p.code == data.pop("place"))
            try:
                case = cases.save_case(place, acting_user=request.user, **data)
                return redirect("supervision:case", case.pk)
            except cases.CaseError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        status = 400
    return render(request, "supervision/case_new.html", {"form": form}, status=status)


@login_required
def case(request, pk):
    user = request.user
    item = get_object_or_404(
        Case.objects.restrict(user, Action.VIEW).select_related("place"), pk=pk
    )
    may_write = (
        item.status == CaseStatus.DRAFT
        and access.may(user, Action.CHANGE)
        and access.reach(user).filter(pk=item.place_id).exists()
    )
    may_review = cases.may_review(user) and item.status != CaseStatus.DRAFT
    forms = {"file": CaseFileForm(), "review": CaseReviewForm(), "decision": CaseDecisionForm()}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if (action in ("file", "submit") and not may_write) or (
            action in ("review", "decision") and not may_review
        ):
            raise PermissionDenied
        try:
            if action == "file":
                form = forms["file"] = CaseFileForm(request.POST, request.FILES)
                if form.is_valid():
                    upload = form.cleaned_data["file"]
                    if upload.size > cases.DOCUMENT_LIMIT:  # refused before it is read
                        raise cases.CaseError("file", "文件超过 20 MB")
                    cases.attach_file(
                        item, name=upload.name, content=upload.read(), acting_user=user
                    )
                    return redirect("supervision:case", pk)
            elif action == "submit":
                cases.submit_case(item, acting_user=user)
                return redirect("supervision:case", pk)
            elif action == "review":
                form = forms["review"] = CaseReviewForm(request.POST)
                if form.is_valid():
                    cases.review_case(item, acting_user=user, **form.cleaned_data)
                    return redirect("supervision:case", pk)
            elif action == "decision":
                form = forms["decision"] = CaseDecisionForm(request.POST)
                if form.is_valid():
                    cases.decide(item, acting_user=user, **form.cleaned_data)
                    return redirect("supervision:case", pk)
            else:
                raise Http404
        except cases.CaseError as exc:
            target = forms.get(action if action != "submit" else "file")
            target.add_error(exc.field if exc.field in target.fields else None, str(exc))
        status = 400
    return render(
        request,
        "supervision/case.html",
        {
            "case": item,
            "forms": forms,
            "may_write": may_write,
            "may_review": may_review,
            "reviews": item.reviews.select_related("reviewer") if cases.may_review(user) else [],
        },
        status=status,
    )


def case_file(request, pk, file_pk):
    """A case's photo or document: to those who may see the case; to everybody once the
    case is selected (the portal links here)."""
    item = (
        CaseFile.objects.restrict(request.user, Action.VIEW).filter(case_id=pk, pk=file_pk).first()
    )
    if item is None:
        raise Http404
    return FileResponse(
        item.file.open("rb"),
        content_type=item.content_type,
        as_attachment=item.kind == CaseFile.Kind.DOCUMENT,
        filename=item.original_name,
    )
