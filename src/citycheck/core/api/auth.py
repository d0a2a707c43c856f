"""API tokens for machine clients (django-rest-knox): created by a signed-in person or, while
HTTP Basic is allowed, by the client itself; stored only as a hash; revoked by logging the
token out. A token acts as its user: it reaches exactly what the user may reach.

Routes (under ``/api/auth/``): ``token/`` (POST: a new token, shown once), ``logout/``
(POST with the token: revoke it), ``logoutall/`` (POST: revoke every token of the user).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from knox import views as knox_views
from rest_framework import serializers
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.throttling import ScopedRateThrottle

TOKEN_RESPONSE = inline_serializer(
    "ApiToken",
    {
        "token": serializers.CharField(help_text="Shown once; send as 'Authorization: Token …'."),
        "expiry": serializers.DateTimeField(allow_null=True),
    },
)


class TokenLoginView(knox_views.LoginView):
    """A new API token for the signed-in user (session, or HTTP Basic where allowed)."""

    authentication_classes = [
        SessionAuthentication,
        *([BasicAuthentication] if settings.CITYCHECK_API_BASIC_AUTH else []),
    ]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=None, responses={200: TOKEN_RESPONSE})
    def post(self, request, format=None):
        return super().post(request, format=format)


class TokenLogoutView(knox_views.LogoutView):
    """Revoke the token this request is authenticated with."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format=format)


class TokenLogoutAllView(knox_views.LogoutAllView):
    """Revoke every token of the user."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format=format)


app_name = "auth-api"
urlpatterns = [
    path("token/", TokenLoginView.as_view(), name="token"),
    path("logout/", TokenLogoutView.as_view(), name="logout"),
    path("logoutall/", TokenLogoutAllView.as_view(), name="logoutall"),
]
