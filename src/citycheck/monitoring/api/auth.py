"""Ingest tokens: ``Authorization: Bearer cct_…`` authenticates a machine client as its
token (``request.auth``); the per-token rate limit is a DRF throttle."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from ..models import IngestToken
from ..services import token_for_key

DEFAULT_RATE = "600/minute"


class IngestTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("接入令牌格式不正确。"))
        try:
            key = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("接入令牌格式不正确。")) from None
        token = token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("接入令牌无效或已吊销。"))
        IngestToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
        return AnonymousUser(), token

    def authenticate_header(self, request):
        return self.keyword


class IngestTokenScheme(OpenApiAuthenticationExtension):
    target_class = "citycheck.monitoring.api.auth.IngestTokenAuthentication"
    name = "ingestToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A monitoring ingest token."}


class HasIngestToken(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, IngestToken)


class IngestTokenThrottle(SimpleRateThrottle):
    """Requests per token: the token's own ``rate``, else ``MONITORING_INGEST_RATE``."""

    scope = "monitoring_ingest"

    def get_rate(self):
        return getattr(settings, "MONITORING_INGEST_RATE", DEFAULT_RATE)

    def allow_request(self, request, view):
        token = request.auth
        if isinstance(token, IngestToken) and token.rate:
            self.rate = token.rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        token = request.auth
        if not isinstance(token, IngestToken):
            return None
        return f"throttle_monitoring_ingest_{token.pk}"
