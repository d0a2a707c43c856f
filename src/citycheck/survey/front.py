"""The public survey form answered before Django's middleware chain (issue 11: ≥ 200
submissions/s with the 95th percentile under 100 ms on 2 cores; the chain and the ORM
cost ~10 ms of the ~18 ms of CPU a submission took).

:class:`PublicForm` wraps the WSGI application (``citycheck/wsgi.py``). It takes the GET
and POST of ``/survey/r/<token>/`` without a query string from a visitor carrying no
cookie but the CSRF, language and survey-device ones (no session: nobody logged in, no
pending message), and answers only what Django answered before for the same link,
language, scheme and version of the form (``form_cache.form_objects``): the first form
page and the first thanks page of each are Django's own, stored with their per-request
parts (CSRF token, form key) taken out; later ones are these pages with a new form key,
the visitor's CSRF token and device cookie, a request id and a log line, and Django's
page headers (security headers, CSP, Content-Language, Vary).

The layer checks with Django's and the view's own functions: ``SecurityMiddleware``'s
HTTPS redirect and ``CommonMiddleware``'s host and user-agent checks, the posted token by
``CsrfViewMiddleware``, the signed form key and its link (``views.served_form``), the
rate limit (``views.rate_limited``), and the answers, the survey's open state and the
nonce by ``services.submit_web_response``, which also flags a second answer of the
device, speeders, straight-liners and duplicates. Whatever is not a plain success — an
unknown, forged or closed link, a failed check, answers with errors, a replay, a flood,
an unreachable database — is handed to Django untouched (the layer has written
nothing), and Django answers with its own page.
"""

from __future__ import annotations

import io
import re
import secrets
import time

from django.conf import settings
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError
from django.http.cookie import parse_cookie
from django.http.multipartparser import MultiPartParserError
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import reverse
from django.utils import translation

from citycheck.core.context import acting
from citycheck.core.middleware import incoming_request_id
from citycheck.core.public_pages import (
    PLACEHOLDER,
    TOKEN,
    body_bytes,
    call_capturing,
    cookie_header,
    csrf_cookie,
    csrf_secret,
    log_request,
    masked_token,
    page_headers,
    sets_other_cookies,
)

from . import services, views
from .form_cache import form_objects

FORM_KEY = re.compile(rb'(name="form_key" value=")[^"]*(")')
FORM_KEY_PLACEHOLDER = b"\x00form-key\x00"
# What marks the stored pages: the form page and the thanks page.
MARKS = {"form": b'data-testid="survey-form"', "thanks": b'data-testid="survey-thanks"'}
# A new street or county list shows this many seconds late at most (form_cache).
SETS_SECONDS = 2.0
# Pages kept (2 kinds x 2 languages x 2 schemes a link); emptied when reaching this many.
PAGES_KEPT = 1024


def _never_called(request):  # the middleware instances below are used for their hooks
    raise AssertionError("not a middleware chain")


class PublicForm:
    """The WSGI layer in front of Django (see the module's docstring)."""

    def __init__(self, application):
        self.application = application
        self.prefix = reverse("survey:public_form", args=["-"]).removesuffix("-/")
        self.cookies = {
            settings.CSRF_COOKIE_NAME,
            settings.LANGUAGE_COOKIE_NAME,
            views.DEVICE_COOKIE,
        }
        # With the CSRF secret in the session the visitor's token needs the session.
        self.enabled = not settings.CSRF_USE_SESSIONS
        self.security = SecurityMiddleware(_never_called)
        self.common = CommonMiddleware(_never_called)
        self.csrf = CsrfViewMiddleware(_never_called)
        # (token, language, scheme, kind) → (version, status, headers, page with holes)
        self.pages: dict[tuple, tuple] = {}

    def __call__(self, environ, start_response):
        token = self._token(environ)
        if token is None:
            return self.application(environ, start_response)
        began = time.monotonic()
        body = None
        if environ["REQUEST_METHOD"] == "POST":
            body = self._body(environ)
            if body is None:
                return self.application(environ, start_response)
            environ["wsgi.input"] = io.BytesIO(body)
        request_id = incoming_request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            with acting(None, request_id):
                answer, store = self._handle(environ, token)
                if answer is not None:
                    log_request(environ, int(answer[0][:3]), began, survey_form="lean")
        finally:
            signals.request_finished.send(sender=self.__class__)
        if answer is None:
            if body is not None:  # read by the layer: Django reads it again
                environ["wsgi.input"] = io.BytesIO(body)
            return self._django(environ, start_response, store)
        status, headers, content = answer
        headers.append(("X-Request-ID", str(request_id)))
        headers.append(("Content-Length", str(len(content))))
        start_response(status, headers)
        return [content]

    def _token(self, environ) -> str | None:
        """The link token of a request the layer may answer, else None."""
        path = environ.get("PATH_INFO", "")
        if (
            not self.enabled
            or environ["REQUEST_METHOD"] not in ("GET", "POST")
            or not path.startswith(self.prefix)
            or environ.get("QUERY_STRING")
        ):
            return None
        token = path[len(self.prefix) :].removesuffix("/")
        if not token or "/" in token or len(token) + len(self.prefix) + 1 != len(path):
            return None
        if not parse_cookie(environ.get("HTTP_COOKIE", "")).keys() <= self.cookies:
            return None
        return token

    @staticmethod
    def _body(environ) -> bytes | None:
        """The posted body when it is whole and within Django's size limit."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length <= 0 or (limit is not None and length > limit):
            return None
        body = environ["wsgi.input"].read(length)
        return body if len(body) == length else None

    def _handle(self, environ, token):
        """(answer, None) — or (None, what to store Django's answer under, or None)."""
        request = WSGIRequest(environ)
        try:
            # Django's own checks before the view: HTTPS redirect, host, user agent.
            if self.security.process_request(request) or self.common.process_request(request):
                return None, None
            objects = form_objects(token, sets_seconds=SETS_SECONDS)
            if objects is None or not (objects.link.survey.is_open and objects.link.active):
                return None, None
            language = translation.get_language_from_request(request)
            kind = "form" if request.method == "GET" else "thanks"
            key = (token, language, request.is_secure(), kind)
            stored = self.pages.get(key)
            if stored is None or stored[0] != objects.version:
                return None, (key, objects.version)
            device = request.COOKIES.get(views.DEVICE_COOKIE) or secrets.token_urlsafe(16)
            if request.method == "GET":
                form_key = views.new_form_key(objects.link).encode()
                return self._page(stored, csrf_secret(request.COOKIES), device, form_key), None
            with translation.override(language):
                return self._submit(request, objects, stored, device), None
        except (
            DatabaseError,
            SuspiciousOperation,
            PermissionDenied,
            BadRequest,
            MultiPartParserError,
        ):
            # Django answers: 503, 400 (a malformed body too), 403 (and 409 for a
            # concurrent replay's IntegrityError: the transaction was rolled back)
            return None, None

    def _submit(self, request, objects, stored, device: str):
        """The thanks page once the answers are stored, else None (nothing written)."""
        self.csrf.process_request(request)
        if self.csrf.process_view(request, views.public_form, (), {}) is not None:
            return None
        link = objects.link
        served = views.served_form(request.POST, link)
        if served is None:
            return None
        if views.rate_limited(request.META.get("REMOTE_ADDR", "")):
            return None  # Django counts it again, still over the limit: 429
        request.environ[views.POST_COUNTED] = True
        try:
            response, _problems = services.submit_web_response(
                link,
                views.raw_answers(link.survey.questionnaire, request.POST),
                seconds=max(0, int(time.time() - served["t"])),
                device_id=device,
                nonce=served["n"],
                counties=objects.counties,
                streets=objects.streets,
            )
        except (services.ClosedSurveyError, services.ReplayError):
            return None  # Django answers with its 410 or 409 page
        if response is None:
            return None  # the answers had errors: Django shows them
        return self._page(stored, request.META["CSRF_COOKIE"], device)

    @staticmethod
    def _page(stored, secret: str, device: str, form_key: bytes = b""):
        """A stored page with this request's parts, and its cookies as the view and
        ``CsrfViewMiddleware`` set them (the device's first)."""
        _version, status, headers, content = stored
        content = content.replace(PLACEHOLDER, masked_token(secret).encode())
        if form_key:
            content = content.replace(FORM_KEY_PLACEHOLDER, form_key)
        cookies = [
            (
                "Set-Cookie",
                cookie_header(views.DEVICE_COOKIE, device, **views.DEVICE_COOKIE_OPTIONS),
            ),
            ("Set-Cookie", csrf_cookie(secret)),
        ]
        headers = [*headers, *cookies]
        return status, headers, content

    def _django(self, environ, start_response, store):
        """Django's answer; stored when it is the page ``store`` names."""
        if store is None:
            return self.application(environ, start_response)
        captured, body = call_capturing(self.application, environ, start_response)
        content = body_bytes(body)
        (token, language, secure, kind), version = store
        if (
            captured["status"].startswith("200 ")
            and MARKS[kind] in content
            and not sets_other_cookies(captured["headers"], self.cookies)
        ):
            page = TOKEN.sub(rb"\1" + PLACEHOLDER + rb"\2", content)
            if kind == "form":
                page = FORM_KEY.sub(rb"\1" + FORM_KEY_PLACEHOLDER + rb"\2", page)
            if len(self.pages) >= PAGES_KEPT:
                self.pages.clear()
            self.pages[token, language, secure, kind] = (
                version,
                captured["status"],
                page_headers(captured["headers"]),
                page,
            )
        return [content]
