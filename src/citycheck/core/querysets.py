"""The queryset every place-bound model uses, so access is decided in one place."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from . import access
from .choices import Action, Role


class PlaceScopedQuerySet(models.QuerySet):
    """Rows belonging to a place, filtered by :meth:`restrict`.

    Subclasses set ``place_lookup`` (the path from the row to its ``Place``),
    optionally ``department_lookup`` (the path to the responsible department, which
    limits department fillers) and override :meth:`published_q` when some rows become
    public.
    """

    place_lookup = "place"
    department_lookup: str | None = None

    def published_q(self) -> Q | None:
        """Rows anyone may read; None when this model has no public rows."""
        return None

    def published(self):
        q = self.published_q()
        return self.filter(q) if q is not None else self.none()

    def restrict(self, user, action: str = Action.VIEW):
        """Keep the rows ``user`` may take ``action`` on."""
        public = self.published_q() if action == Action.VIEW else None
        scoped = access.place_filter(user, action, self.place_lookup)
        if (
            scoped is not None
            and self.department_lookup
            and not user.is_superuser
            and user.role == Role.DEPARTMENT_FILLER
        ):
            scoped &= Q(**{self.department_lookup: user.department_id})
        if scoped is not None and not scoped:
            return self.all()  # an empty Q means everywhere; OR-ing it would drop it
        if scoped is None and public is None:
            return self.none()
        if scoped is None:
            return self.filter(public)
        if public is None:
            return self.filter(scoped)
        return self.filter(scoped | public)
