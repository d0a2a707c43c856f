"""The front layer (core/public_pages.py): anonymous portal pages answered from the shared
cache before Django — the headers Django sends, each visitor's own CSRF token, 304 by
ETag, never a logged-in visitor's page, and nothing that is no longer published."""

import re

import pytest
from django.core import signals
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citycheck.assessment.models import ReleaseStatus
from citycheck.core.choices import Role
from citycheck.core.public_pages import PublicPages
from tests.apps.assessment.conftest import method, province  # noqa: F401  (fixtures)
from tests.apps.reports.conftest import draft_release, published_release  # noqa: F401

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fresh_caches():
    for alias in ("default", "public_pages"):
        caches[alias].clear()


@pytest.fixture
def front():
    return PublicPages(WSGIHandler())


def get(front, path="/portal/", **headers):
    """Call the layer as gunicorn does; (status, headers, body, queries)."""
    environ = RequestFactory().get(path, **headers).environ
    answer = {}

    def start_response(status, header_list, exc_info=None):
        answer.update(status=status, headers=dict(header_list))

    # The test's database connection stays open across requests (as Django's test client
    # keeps it): the handler's request signals would close it.
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    try:
        with CaptureQueriesContext(connection) as queries:
            body = b"".join(front(environ, start_response))
    finally:
        for signal in (signals.request_started, signals.request_finished):
            signal.connect(close_old_connections)
    return answer["status"], answer["headers"], body.decode(), len(queries)


def test_anonymous_portal_is_answered_before_django_as_django_answers_it(
    front,
    client,
    province,  # noqa: F811
    published_release,  # noqa: F811
):
    status, first, body, queries = get(front)
    assert status.startswith("200") and "ETag" not in first and queries > 0
    status, again, cached, queries = get(front)
    assert status.startswith("200") and queries == 0  # nothing read from the database
    assert f"数据版本 #{published_release.pk}" in cached
    for name in (
        "Content-Type",
        "Content-Language",
        "Vary",
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
    ):
        assert again[name] == first[name], name
    assert again["X-Request-ID"] != first["X-Request-ID"]
    assert TOKEN.sub("", cached) == TOKEN.sub("", body)
    # a new visitor gets a new CSRF secret and a token made from it
    assert again["Set-Cookie"].startswith("csrftoken=") and "SameSite=Lax" in again["Set-Cookie"]

    # a returning visitor's token is made from the secret of their cookie: Django takes it
    visitor = Client(enforce_csrf_checks=True)
    secret = "a" * 16 + "B" * 16
    visitor.cookies["csrftoken"] = secret
    status, headers, body, _queries = get(front, HTTP_COOKIE=f"csrftoken={secret}")
    assert headers["Set-Cookie"].startswith(f"csrftoken={secret};")
    token = TOKEN.search(body).group(1)
    switched = visitor.post(
        reverse("set_language"),
        {"language": "en", "next": "/portal/", "csrfmiddlewaretoken": token},
    )
    assert switched.status_code == 302
    status, unchanged, body, _queries = get(
        front, HTTP_COOKIE=f"csrftoken={secret}", HTTP_IF_NONE_MATCH=headers["ETag"]
    )
    assert status.startswith("304") and body == "" and unchanged["ETag"] == headers["ETag"]

    # languages are kept apart
    get(front, HTTP_ACCEPT_LANGUAGE="en")
    _status, english, text, _queries = get(front, HTTP_ACCEPT_LANGUAGE="en")
    assert (again["Content-Language"], english["Content-Language"]) == ("zh-hans", "en")
    assert '<html lang="zh-hans">' in cached and '<html lang="en">' in text

    # a logged-in visitor always reaches Django, and sees their own page
    reviewer = province.users[Role.PROVINCE_REVIEWER]
    client.force_login(reviewer)
    session = client.cookies["sessionid"].value
    _status, headers, body, queries = get(front, HTTP_COOKIE=f"sessionid={session}")
    assert "ETag" not in headers and queries > 0
    assert reviewer.get_full_name() in body or reviewer.username in body
    for _twice in range(2):  # a page not marked public_page is never stored
        _status, headers, _body, _queries = get(front, "/portal/method/")
        assert "ETag" not in headers


def test_a_release_no_longer_published_is_gone_at_once(
    front,
    published_release,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    get(front)
    assert f"数据版本 #{published_release.pk}" in get(front)[2]
    with django_capture_on_commit_callbacks(execute=True):
        published_release.status = ReleaseStatus.DRAFT
        published_release.save(update_fields=["status", "last_updated"])
    _status, headers, body, _queries = get(front)
    assert "ETag" not in headers and f"数据版本 #{published_release.pk}" not in body
