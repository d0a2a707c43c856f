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


def page_links(request, page, parameter: str = "page") -> dict:
    """What ``includes/pages.html`` needs to link the pages of ``page`` (a Paginator page
    numbered by the query ``parameter``): the other query parameters (filters, another
    table's page) are kept in the links."""
    others = request.GET.copy()
    others.pop(parameter, None)
    return {"page": page, "parameter": parameter, "query": others.urlencode()}


class RestrictedListView(RestrictedQuerysetMixin, ListView):
    """A restricted list in pages of ``paginate_by``; ``pages`` in the context is what
    ``{% include "includes/pages.html" %}`` links them with."""

    paginate_by = 200

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context["is_paginated"]:
            context["pages"] = page_links(self.request, context["page_obj"])
        return context


class RestrictedDetailView(RestrictedQuerysetMixin, DetailView):
    # Detail templates are named after the model: templates/<app>/<model>.html.
    template_name_suffix = ""
