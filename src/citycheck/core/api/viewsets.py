"""API viewset bases: every request's queryset goes through :func:`citycheck.core.access.restrict`.

The action comes from the HTTP method (GET/HEAD/OPTIONS → view, anything else → change).
Rows out of reach answer 404. A created or updated row must still be inside the user's
reach after the write, otherwise the write is rolled back (as NetBox does).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, viewsets
from rest_framework.exceptions import APIException, PermissionDenied

from citycheck.core import access
from citycheck.core.choices import Action


class Conflict(APIException):
    status_code = 409
    default_detail = _("数据已被他人修改，请刷新后重试。")
    default_code = "conflict"


class RestrictedViewSetMixin:
    # Reading is open to anonymous users: restrict() leaves them the published rows only.
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @property
    def permission_action(self) -> str:
        return Action.VIEW if self.request.method in permissions.SAFE_METHODS else Action.CHANGE

    def get_queryset(self):
        return access.restrict(super().get_queryset(), self.request.user, self.permission_action)

    def _save_within_reach(self, serializer):
        with transaction.atomic():
            instance = serializer.save()
            if not self.get_queryset().filter(pk=instance.pk).exists():
                raise PermissionDenied(_("无权在该地区填报或修改此数据。"))

    def perform_create(self, serializer):
        self._save_within_reach(serializer)

    def perform_update(self, serializer):
        self._save_within_reach(serializer)


class RestrictedReadOnlyViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class RestrictedModelViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
