"""Pages of the check step (体检) about rounds: the rounds and what each user owes, round
management (open, assign, status), and each value's audit. The data-entry pages of a
submission are in ``entry_views``; approval of third-party discrepancies, adjudication
and the completeness board in ``review_views``.

Rows reach a page only through :func:`citycheck.core.access.restrict`; every write goes
through the check-step services (``services``, ``workflow``, ``excel``), which decide
permission again and leave the audit. Refusals are shown as the services word them.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citycheck.accounts.models import department_names
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView
from citycheck.places.models import PlaceLevel

from . import reminders, services, workflow
from .forms import (
    DepartmentAssignmentForm,
    EvaluatorAssignmentForm,
    RoundOpenForm,
)
from .models import (
    Round,
    RoundStatus,
    Source,
    Submission,
    SubmissionStatus,
    Value,
    ValueComment,
)

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
    """Submissions waiting for this user's decision: at a city, its counties' submitted
    data and its departments' parts; at the province, what the city approved and the
    submitted data that skips the city (``workflow.CITY_STEP``)."""
    if not access.may(user, Action.APPROVE):
        return []
    level = user_level(user)
    rows = Submission.objects.restrict(user, Action.APPROVE).filter(round=round_)
    if level == PlaceLevel.CITY:
        rows = rows.filter(workflow.CITY_STEP, status=SubmissionStatus.SUBMITTED)
    elif level == PlaceLevel.PROVINCE:
        rows = rows.filter(workflow.CITY_STEP, status=SubmissionStatus.CITY_APPROVED) | rows.filter(
            status=SubmissionStatus.SUBMITTED
        ).exclude(workflow.CITY_STEP)
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
