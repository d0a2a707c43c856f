"""Review pages of a check-step round: third-party discrepancies and the province's
adjudication, the completeness board with reminders (and its 催报 button).

Rows reach a page only through :func:`citycheck.core.access.restrict`; every write goes
through the check-step services, which decide permission again and leave the audit.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citycheck.accounts.models import Department
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.redirects import redirect_to_next
from citycheck.places.models import Place, PlaceLevel

from . import reminders, services
from .completeness import completeness_board
from .forms import AdjudicationForm
from .models import Reminder, Round, RoundStatus, Source, SubmissionStatus
from .views import user_level

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
        "may_remind": round_.status == RoundStatus.OPEN
        and access.may(request.user, Action.APPROVE)
        and user_level(request.user) in reminders.REMINDING_LEVELS,
    }
    return render(request, "collection/completeness.html", context)


@login_required
@require_POST
def completeness_remind(request, pk):
    """催报: remind now whoever in the user's places still owes data of the round."""
    round_ = get_object_or_404(access.restrict(Round.objects.all(), request.user), pk=pk)
    try:
        created = reminders.remind_now(round_, acting_user=request.user)
    except PermissionDenied as denied:
        messages.error(request, str(denied))
    except services.CheckStepError as refused:
        messages.error(request, refused.message)
    else:
        if created:
            messages.success(
                request,
                _("已向 %(people)d 人发送催报提醒，涉及 %(places)d 个未提交的地区。")
                % {
                    "people": len({r.user_id for r in created}),
                    "places": len({r.place_id for r in created}),
                },
            )
        else:
            messages.info(request, _("没有发送新的提醒：各地区均已提交，或今天已经提醒过。"))
    return redirect("collection:completeness", pk=pk)


@login_required
@require_POST
def reminder_read(request, pk):
    reminder = get_object_or_404(Reminder.objects.filter(user=request.user), pk=pk)
    reminders.mark_read(reminder, acting_user=request.user)
    return redirect_to_next(request, "collection:round_list")
