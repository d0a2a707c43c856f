"""Anonymous public pages answered before Django (issue 17: the cached portal at ≥ 1,000
requests/s on 2 cores, where Django's middleware alone costs ~2.5 ms a request).

:class:`PublicPages` wraps the WSGI application (``citycheck/wsgi.py``). A GET or HEAD under
one of ``CITYCHECK_PUBLIC_PAGE_PREFIXES`` from a visitor carrying no cookie but the CSRF and
language ones (no session: nobody logged in, no pending message) is looked up in the
``public_pages`` cache under its scheme, host, language (decided as ``LocaleMiddleware``
decides it), path and query, and the cache's *generation*. On a hit the stored page is
answered as Django answered it — status, Content-Type, Content-Language, Vary, CSP and the
security headers — with a request id, a log line, the visitor's own CSRF token (a new
mask of the secret in their cookie, or a new secret and its cookie, as
``CsrfViewMiddleware`` does) and an ETag (304 when the browser has the page). On a miss
Django answers, and a view decorated with :func:`public_page` lets its 200 be stored.

What a page shows must change only when :func:`invalidate` is called: an app whose data
a stored page shows calls it on commit of every change of that data (the portal on each
publication of a release). The generation lives in the shared cache (Redis in
production, a file cache in the embedded set-up), so a publication by any process — a
command, a job, another worker — changes it for every worker at once. Entries also
expire after ``PAGE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from functools import wraps
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.translation import get_language_from_request

from .middleware import incoming_request_id, request_logger

CACHE_ALIAS = "public_pages"
GENERATION_KEY = "public-pages:generation"
PAGE_SECONDS = 600
# Set by the front layer on a request it may store; set to True by @public_page.
STORE = "citycheck.public_page"
# The token of ``{% csrf_token %}`` (the only per-visitor part of an anonymous page).
TOKEN = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
PLACEHOLDER = b"\x00csrf-token\x00"
# The visitor's cookies, parsed once by the layer.
COOKIES = "citycheck.public_page.cookies"
# Headers of Django's answer that belong to one request, not to the page.
OWN_HEADERS = {"set-cookie", "x-request-id", "content-length", "date", "server"}


def _cache():
    return caches[CACHE_ALIAS]


def generation() -> str:
    """The current generation: a random token, made on first use (or after eviction)."""
    value = _cache().get(GENERATION_KEY)
    if value is None:
        _cache().add(GENERATION_KEY, uuid.uuid4().hex, None)
        value = _cache().get(GENERATION_KEY)
    return value


def invalidate() -> None:
    """Forget every stored page (a new generation); call it on commit of a change."""
    _cache().set(GENERATION_KEY, uuid.uuid4().hex, None)


def public_page(view):
    """Let the front layer store this view's 200 answers to the anonymous visitors it
    sent (it sends only visitors without a session). The view must show the same page to
    every such visitor of a URL and language until :func:`invalidate` is called."""

    @wraps(view)
    def storable(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if (
            STORE in request.environ
            and response.status_code == 200
            and not response.streaming
            and not request.user.is_authenticated
        ):
            request.environ[STORE] = True
        return response

    return storable


class PublicPages:
    """The WSGI layer in front of Django (see the module's docstring)."""

    def __init__(self, application):
        self.application = application
        self.prefixes = tuple(getattr(settings, "CITYCHECK_PUBLIC_PAGE_PREFIXES", ()))
        self.cookies = {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}
        self.proxy_header = (settings.SECURE_PROXY_SSL_HEADER or ("", ""))[0]

    def __call__(self, environ, start_response):
        key = self._key(environ) if self.prefixes else None
        if key is None:
            return self.application(environ, start_response)
        began = time.monotonic()
        entry = _cache().get(key)
        if entry is not None:
            return self._answer(entry, environ, start_response, began)
        environ[STORE] = False
        captured, body = call_capturing(self.application, environ, start_response)
        if environ[STORE] is not True or environ["REQUEST_METHOD"] != "GET":
            return body
        content = body_bytes(body)
        if sets_other_cookies(captured["headers"], {settings.CSRF_COOKIE_NAME}):
            return [content]
        _cache().set(key, _entry(captured["status"], captured["headers"], content), PAGE_SECONDS)
        return [content]

    def _key(self, environ) -> str | None:
        """The cache key of a request the layer may answer, else None."""
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefixes):
            return None
        cookies = environ[COOKIES] = parse_cookie(environ.get("HTTP_COOKIE", ""))
        if not cookies.keys() <= self.cookies:
            return None
        language = get_language_from_request(SimpleNamespace(COOKIES=cookies, META=environ))
        parts = (
            generation(),
            environ["wsgi.url_scheme"],
            environ.get(self.proxy_header, ""),
            environ.get("HTTP_HOST", ""),
            language,
            path,
            environ.get("QUERY_STRING", ""),
        )
        digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogateescape"))
        return "public-page:" + digest.hexdigest()

    def _answer(self, entry, environ, start_response, began):
        status, headers, content, digest = entry
        request_id = incoming_request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        headers = [*headers, ("X-Request-ID", str(request_id))]
        secret = csrf_secret(environ[COOKIES]) if PLACEHOLDER in content else None
        if secret is not None:
            tag = hashlib.sha256(f"{digest}:{secret}".encode()).hexdigest()[:32]
        else:
            tag = digest[:32]
        headers.append(("ETag", f'"{tag}"'))
        if environ.get("HTTP_IF_NONE_MATCH", "") == f'"{tag}"':
            status, content = "304 Not Modified", b""
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        elif secret is not None:
            content = content.replace(PLACEHOLDER, masked_token(secret).encode())
            headers.append(("Set-Cookie", csrf_cookie(secret)))
        headers.append(("Content-Length", str(len(content))))
        start_response(status, headers)
        log_request(environ, int(status[:3]), began, public_page="hit")
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [content]


def log_request(environ, status: int, began: float, **extra) -> None:
    """The line ``RequestIdMiddleware`` logs for a request, for one answered before
    Django (``extra`` says by which layer)."""
    request_logger.info(
        "%s %s %s",
        environ["REQUEST_METHOD"],
        environ["PATH_INFO"],
        status,
        extra={
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "status": status,
            "duration_ms": round((time.monotonic() - began) * 1000, 1),
            "user": None,
            **extra,
        },
    )


def call_capturing(application, environ, start_response) -> tuple[dict, object]:
    """Call the WSGI ``application``; returns what it answered (``status`` and ``headers``
    in the dict once it has started the response) and its body, for a layer that may store
    the answer."""
    captured: dict = {}

    def capture(status, headers, exc_info=None):
        captured.update(status=status, headers=headers)
        return start_response(status, headers, exc_info)

    return captured, application(environ, capture)


def body_bytes(body) -> bytes:
    """A WSGI body read whole, and closed as the server would close it."""
    try:
        return b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()


def sets_other_cookies(headers: list, names: set[str]) -> bool:
    """Whether Django's answer set a cookie not named in ``names`` (a session, a
    message): then it belongs to this visitor and is not stored."""
    return any(
        name.lower() == "set-cookie" and value.lstrip().split("=", 1)[0] not in names
        for name, value in headers
    )


def page_headers(headers: list) -> list:
    """Django's headers that belong to the page, not to one request."""
    return [(name, value) for name, value in headers if name.lower() not in OWN_HEADERS]


def _entry(status: str, headers: list, content: bytes) -> tuple:
    """What is stored of Django's answer: its status and page headers, the page with its
    CSRF token taken out, and the page's digest (for the ETag)."""
    content = TOKEN.sub(rb"\1" + PLACEHOLDER + rb"\2", content)
    return status, page_headers(headers), content, hashlib.sha256(content).hexdigest()


# The CSRF token of a page answered before Django (the portal's layer and the survey
# form's, survey/front.py). These make what Django's ``get_token`` and
# ``CsrfViewMiddleware`` make — the middleware accepts them (test_public_pages.py) — at
# a quarter of the cost: Django draws each random character of a mask (and of a new
# secret) separately, 86 µs a token against 24 µs here (timeit, this machine), too much
# for the portal's target of 1,000 answers/s on 2 cores.


def csrf_secret(cookies: dict) -> str:
    """The CSRF secret of the visitor's cookie, or a new one: what ``CsrfViewMiddleware``
    keeps (a well-formed 32-character secret) or makes."""
    secret = cookies.get(settings.CSRF_COOKIE_NAME, "")
    if len(secret) == CSRF_SECRET_LENGTH and not secret.strip(CSRF_ALLOWED_CHARS):
        return secret
    return _random_chars(CSRF_SECRET_LENGTH)


def _random_chars(count: int) -> str:
    """``count`` characters of Django's CSRF alphabet from the system's random source
    (one ``urandom`` call; bytes beyond the last whole multiple of the alphabet are
    dropped, so each character is uniform)."""
    size = len(CSRF_ALLOWED_CHARS)
    limit = 256 - 256 % size
    chars = []
    while len(chars) < count:
        chars += [CSRF_ALLOWED_CHARS[b % size] for b in os.urandom(2 * count) if b < limit]
    return "".join(chars[:count])


def masked_token(secret: str) -> str:
    """The token a form carries: the secret masked by a new random mask, as Django's
    ``get_token`` makes it."""
    mask = _random_chars(CSRF_SECRET_LENGTH)
    size = len(CSRF_ALLOWED_CHARS)
    index = CSRF_ALLOWED_CHARS.index
    return mask + "".join(
        CSRF_ALLOWED_CHARS[(index(s) + index(m)) % size] for s, m in zip(secret, mask, strict=True)
    )


def cookie_header(name: str, value: str, **options) -> str:
    """The Set-Cookie value Django's ``HttpResponse.set_cookie(name, value, **options)``
    sends."""
    response = HttpResponse()
    response.set_cookie(name, value, **options)
    return response.cookies[name].OutputString()


def csrf_cookie(secret: str) -> str:
    """The Set-Cookie value ``CsrfViewMiddleware`` sends with a page that used the token."""
    return cookie_header(
        settings.CSRF_COOKIE_NAME,
        secret,
        max_age=settings.CSRF_COOKIE_AGE,
        domain=settings.CSRF_COOKIE_DOMAIN,
        path=settings.CSRF_COOKIE_PATH,
        secure=settings.CSRF_COOKIE_SECURE,
        httponly=settings.CSRF_COOKIE_HTTPONLY,
        samesite=settings.CSRF_COOKIE_SAMESITE,
    )
