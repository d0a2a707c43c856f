"""Pages for getting data in: ingest tokens (issue, list, revoke) for the province
administrator and a city administrator within its subtree, and one observation entered
by hand through the same checks as the API."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import services
from .forms import ObservationForm, TokenForm
from .models import Observation


def _token_places(request):
    places = services.token_places(request.user)
    if not request.user.is_superuser and not places.exists():
        raise PermissionDenied(_("您的账号不能管理数据接入令牌。"))
    return places


@never_cache
@login_required
def tokens(request):
    """The tokens within the user's places and a form to issue one; a token's key is
    shown on the page answering the issue, once, and never again."""
    places = _token_places(request)
    if request.method == "POST":
        form = TokenForm(request.POST, places=places)
        if form.is_valid():
            token, key = services.create_token(
                form.cleaned_data["name"].strip(),
                feed=form.cleaned_data["feed"],
                place=form.cleaned_data["place"],
                acting_user=request.user,
            )
            response = render(request, "monitoring/token_issued.html", {"token": token, "key": key})
            response["Cache-Control"] = "no-store"
            return response
    else:
        form = TokenForm(places=places)
    rows = services.tokens_for(request.user).select_related("feed", "place").order_by("-created")
    return render(request, "monitoring/tokens.html", {"form": form, "tokens": rows})


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(services.tokens_for(request.user), pk=pk)
    try:
        services.revoke_token(token, acting_user=request.user)
        messages.success(request, _("已吊销令牌 %(name)s。") % {"name": token})
    except services.MonitoringError as refused:
        messages.error(request, str(refused))
    return redirect(reverse("monitoring:tokens"))


@login_required
def enter(request):
    """录入: one observation (place, indicator, period, value) by hand."""
    places = services.entry_places(request.user)
    if not places.exists():
        raise PermissionDenied(_("您的账号不能录入监测数据。"))
    if request.method == "POST":
        form = ObservationForm(request.POST, places=places)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = services.enter_observation(
                    place=data["place"],
                    indicator=data["indicator"],
                    period=data["period"],
                    value=data["value"],
                    acting_user=request.user,
                )
            except services.MonitoringError as refused:
                form.add_error(None, str(refused))
            else:
                for refusal in result.refused:
                    field = refusal.field if refusal.field in form.fields else None
                    form.add_error(field, refusal.reason)
                if not result.refused:
                    if result.accepted:
                        messages.success(request, _("已录入。"))
                    else:
                        messages.info(request, _("该期已有相同的数值，未作改动。"))
                    return redirect(reverse("monitoring:enter"))
    else:
        form = ObservationForm(places=places)
    recent = (
        Observation.objects.filter(source=services.MANUAL_FEED, place__in=places)
        .select_related("place", "indicator")
        .order_by("-received", "-pk")[:20]
    )
    return render(request, "monitoring/enter.html", {"form": form, "recent": recent})
