"""The home page: what the user is responsible for, the rounds and what is due.

It lives in the check step, the first app that knows both places and rounds; every query
goes through ``access.restrict``.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from citycheck.core import access
from citycheck.core.choices import Role
from citycheck.places.models import Place, PlaceLevel

from .models import Round, RoundStatus, Source, Value


@login_required
def home(request):
    user = request.user
    places = access.restrict(Place.objects.all(), user)
    rounds = access.restrict(Round.objects.select_related("system"), user)
    level_counts = dict(places.values_list("level").annotate(n=Count("pk")).order_by())
    return render(
        request,
        "collection/home.html",
        {
            # The nation is a level only in a national instance (and only its users reach it).
            "level_counts": [
                (level.label, level_counts.get(level, 0))
                for level in PlaceLevel
                if level != PlaceLevel.NATION or level in level_counts
            ],
            "top_places": places.order_by("path")[:12],
            "rounds": rounds,
            "due": _due(user, rounds.filter(status=RoundStatus.OPEN), places),
        },
    )


def _due(user, open_rounds, places) -> list[dict]:
    """Per open round: values filled versus expected for the user's places."""
    source = Source.THIRD_PARTY if user.role == Role.EVALUATOR else Source.SELF_CHECK
    due = []
    for round_ in open_rounds:
        round_places = places.filter(pk__in=round_.places.values("pk"))
        indicators = round_.system.all_indicators()
        if user.role == Role.DEPARTMENT_FILLER:
            indicators = indicators.filter(department=user.department_id)
        expected = round_places.count() * indicators.count()
        filled = (
            Value.objects.restrict(user)
            .filter(round=round_, source=source, place__in=round_places, value__isnull=False)
            .count()
        )
        percent = round(100 * filled / expected) if expected else 100
        due.append({"round": round_, "filled": filled, "expected": expected, "percent": percent})
    return due
