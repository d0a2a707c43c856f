"""Generic page views that restrict their queryset through :func:`citycheck.core.access.restrict`.

A view declares ``queryset`` (and, if it changes data, ``action``); the rows it can show
are decided here once per request, so no view repeats a permission check. Objects out of
reach answer 404, exactly like objects that do not exist, so codes cannot be probed.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.views.generic import DetailView, ListView

from . import access
from .choices import Action


class RestrictedQuerysetMixin(LoginRequiredMixin):
    """Login required; ``get_queryset`` keeps what the user may take ``action`` on."""

    queryset = None
    action = Action.VIEW

    def get_queryset(self):
        if self.queryset is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must declare `queryset`.")
        return access.restrict(self.queryset.all(), self.request.user, self.action)


class RestrictedListView(RestrictedQuerysetMixin, ListView):
    paginate_by = 200


class RestrictedDetailView(RestrictedQuerysetMixin, DetailView):
    # Detail templates are named after the model: templates/<app>/<model>.html.
    template_name_suffix = ""
