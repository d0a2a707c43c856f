"""Who may see and change which places' data: the one place every view, API call, job
and export asks.

A user's *reach* is a set of places: the subtree under the user's own place, or, for a
third-party evaluator or a survey interviewer, the places assigned to it. :data:`~citycheck.core.choices.ROLE_ACTIONS`
says which actions the role may take inside the reach. Data that a published round made
public is readable by everybody, logged in or not.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .choices import ROLE_ACTIONS, Action, Role

# Roles whose reach is the places assigned to the user, not a subtree.
ASSIGNED_ROLES = (Role.EVALUATOR, Role.INTERVIEWER)


def may(user, action: str) -> bool:
    """Whether the user's role allows ``action`` at all (somewhere in its reach)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return action in ROLE_ACTIONS.get(user.role, frozenset())


def reach(user) -> QuerySet:
    """The places the user is responsible for (empty for anonymous and public users)."""
    Place = apps.get_model("places", "Place")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Place.objects.none()
    cached = getattr(user, "_citycheck_reach", None)
    if cached is not None:
        return Place.objects.filter(pk__in=cached)
    if user.is_superuser:
        places = Place.objects.all()
    elif user.role in ASSIGNED_ROLES:
        places = user.assigned_places.all()
    elif user.role == Role.PUBLIC or user.place_id is None:
        places = Place.objects.none()
    else:
        places = Place.objects.subtree_of(user.place)
    ids = list(places.values_list("pk", flat=True))
    user._citycheck_reach = ids
    return Place.objects.filter(pk__in=ids)


def place_filter(user, action: str, place_lookup: str = "place") -> Q | None:
    """A ``Q`` keeping rows whose place is in the user's reach, or None for no rows."""
    if not may(user, action):
        return None
    if user.is_superuser:
        return Q()
    # Expressed as a condition on the place (a path prefix or the assignment table) rather
    # than a list of ids, so a national-size reach stays one join instead of 3,000 parameters.
    prefix = "" if place_lookup == "pk" else f"{place_lookup}__"
    if user.role in ASSIGNED_ROLES:
        through = user.assigned_places.through.objects.filter(user_id=user.pk)
        return Q(**{f"{prefix}pk__in": through.values("place_id")})
    if user.role == Role.PUBLIC or user.place_id is None:
        return Q(**{f"{prefix}pk__in": []})
    return Q(**{f"{prefix}path__startswith": user.place.path})


def get_place(user, code: str, action: str = Action.VIEW):
    """The place with division ``code`` if the user may take ``action`` on it.

    Raises ``PermissionDenied`` otherwise, with the same message whether the place does
    not exist or is out of reach, so codes cannot be probed.
    """
    Place = apps.get_model("places", "Place")
    place = Place.objects.restrict(user, action).filter(code=code).first()
    if place is None:
        raise denied(_("代码为 %(code)s 的地区") % {"code": code}, action)
    return place


def check_place(user, place, action: str) -> None:
    """Raise ``PermissionDenied`` unless the user may take ``action`` on ``place``."""
    if not may(user, action) or not (user.is_superuser or reach(user).filter(pk=place.pk).exists()):
        raise denied(str(place), action)


def denied(place: str, action: str) -> PermissionDenied:
    """The refusal a person reads on the 403 page, in the page's language: which place's
    data, which action, and the two reasons it can have (never which one, so codes cannot
    be probed)."""
    return PermissionDenied(
        _(
            "您的账号无权%(action)s%(place)s的数据：该地区不在您负责的范围内，"
            "或您的角色不能进行此操作。"
        )
        % {"action": str(Action(action).label).lower(), "place": place}
    )


# Reference data that is not bound to a place: every user (and the public) may read it;
# only roles allowed to manage the platform may change it.
REFERENCE_MODELS = frozenset(
    {
        "accounts.Department",
        "indicators.BaseFigure",
        "indicators.Crosswalk",
        "indicators.Dimension",
        "indicators.Indicator",
        "indicators.IndicatorSystem",
        "indicators.Standard",
    }
)


def restrict(queryset: QuerySet, user, action: str = Action.VIEW) -> QuerySet:
    """Keep the rows of ``queryset`` that ``user`` may take ``action`` on.

    The single entry point of the generic views (``core.views_base``) and API viewsets
    (``core.api``): place-bound querysets decide through their own ``restrict``
    (:class:`~citycheck.core.querysets.PlaceScopedQuerySet`, ``PlaceQuerySet``, and
    ``RoundQuerySet``, through the places taking part), reference data through
    :data:`REFERENCE_MODELS`.
    Models known to none of these are refused rather than shown unscoped.
    """
    if hasattr(queryset, "restrict"):
        return queryset.restrict(user, action)
    label = queryset.model._meta.label
    if label in REFERENCE_MODELS:
        return queryset if action == Action.VIEW or may(user, Action.MANAGE) else queryset.none()
    raise TypeError(f"citycheck.core.access.restrict: no access rule for model {label!r}.")
