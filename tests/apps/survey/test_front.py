"""The survey form's lean path (survey/front.py): the form and thanks pages answered before
Django's middleware chain with Django's headers, and every protection still applied — CSRF,
the signed form key and its nonce, the open survey, the rate limit, the device's second
answer — or the request handed to Django, which refuses it with its own page."""

import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import RequestFactory

from citycheck.survey.front import PublicForm
from citycheck.survey.models import Flag, Response
from citycheck.survey.services import close_survey

from .test_views import form_answers, link_url

# Headers of one request, not of the page.
PER_REQUEST = {"x-request-id", "content-length", "set-cookie"}


@pytest.fixture(autouse=True)
def _clear_rate_limit():
    cache.clear()


@pytest.fixture
def front():
    return PublicForm(WSGIHandler())


class Visitor:
    """A browser calling an application as gunicorn does, keeping its cookies."""

    def __init__(self, application, **headers):
        self.application, self.headers, self.cookies = application, headers, {}

    def __call__(self, method, path, data=None, content_type=None, **headers):
        """``data``: the form's fields, or with ``content_type`` the raw body."""
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        factory = RequestFactory(HTTP_COOKIE=cookie, **self.headers, **headers)
        if method == "GET":
            environ = factory.get(path).environ
        elif content_type:
            environ = factory.post(path, data, content_type).environ
        else:
            body = urlencode(data, doseq=True)
            environ = factory.post(path, body, "application/x-www-form-urlencoded").environ
        answer = {}

        def start_response(status, header_list, exc_info=None):
            answer.update(status=int(status[:3]), headers=header_list)

        # The test's database connection stays open across requests (as Django's test
        # client keeps it): the request signals would close it.
        for signal in (signals.request_started, signals.request_finished):
            signal.disconnect(close_old_connections)
        try:
            body = b"".join(self.application(environ, start_response)).decode()
        finally:
            for signal in (signals.request_started, signals.request_finished):
                signal.connect(close_old_connections)
        for name, value in answer["headers"]:
            if name.lower() == "set-cookie":
                morsel = next(iter(SimpleCookie(value).values()))
                self.cookies[morsel.key] = morsel.value
        return answer["status"], answer["headers"], body


def lean(caplog) -> list[int]:
    """Statuses of the requests the lean path answered itself (its log lines)."""
    return [r.status for r in caplog.records if getattr(r, "survey_form", "") == "lean"]


def page_headers(headers) -> dict:
    """Headers of the page, and each cookie's attributes without its value and date."""
    page = {name.lower(): value for name, value in headers if name.lower() not in PER_REQUEST}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, attributes = value.partition(";")
            attributes = re.sub(r"expires=[^;]*;\s*", "", attributes)
            page[f"cookie {key.split('=')[0].strip()}"] = attributes  # Django: a space first
    return page


def answers_of(page: str) -> dict:
    """Complete answers for the form in ``page``, with its CSRF token."""
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return {**form_answers(page), "csrfmiddlewaretoken": token}


def test_lean_answers_carry_djangos_headers_and_the_answer_is_stored(surveyed, front, caplog):
    caplog.set_level("INFO", logger="citycheck.request")
    url = link_url(surveyed)
    django = Visitor(WSGIHandler())
    django_page = django("GET", url)
    django_thanks = django("POST", url, answers_of(django_page[2]))
    visitor = Visitor(front)
    first = visitor("GET", url)  # Django's, stored
    status, headers, page = visitor("GET", url)
    assert status == 200 and lean(caplog) == [200]
    assert page_headers(headers) == page_headers(django_page[1]) == page_headers(first[1])
    assert {"content-security-policy", "x-frame-options", "content-language"} <= set(
        page_headers(headers)
    )
    assert {"x-request-id", "content-length"} <= {name.lower() for name, _ in headers}
    # The same page but for the form key and the CSRF tokens (each request's own).
    assert re.sub(r'value="[^"]{40,}"', "", page) == re.sub(r'value="[^"]{40,}"', "", first[2])
    assert page != first[2]

    visitor("POST", url, answers_of(page))  # the first thanks page: Django's, stored
    status, headers, thanks = visitor("POST", url, answers_of(visitor("GET", url)[2]))
    assert status == 200 and 'data-testid="survey-thanks"' in thanks
    assert lean(caplog) == [200, 200, 200]  # GET, GET, POST
    assert page_headers(headers) == page_headers(django_thanks[1])
    stored = Response.objects.order_by("pk")
    assert stored.count() == 3 and stored.last().place.code == "360102"
    assert "*" * 11 in stored.last().answers["comment"]  # the phone number masked
    assert {Flag.SPEEDER, Flag.DEVICE} <= set(stored.last().flags)  # the same browser, fast

    english = Visitor(front, HTTP_ACCEPT_LANGUAGE="en")
    english("GET", url)
    status, headers, page = english("GET", url)
    assert "Very satisfied" in page and ("Content-Language", "en") in headers
    assert len(lean(caplog)) == 4


def test_lean_path_refuses_what_django_refuses(surveyed, front, caplog, settings):
    caplog.set_level("INFO", logger="citycheck.request")
    url = link_url(surveyed)
    visitor = Visitor(front)
    visitor("GET", url)
    visitor("POST", url, answers_of(visitor("GET", url)[2]))  # both pages now stored
    data = answers_of(visitor("GET", url)[2])
    assert visitor("POST", url, data)[0] == 200
    replay = visitor("POST", url, data)
    assert replay[0] == 409 and "survey-replayed" in replay[2]
    forged = dict(data, form_key=data["form_key"][:-3] + "abc")
    assert "survey-invalid_form" in visitor("POST", url, forged)[2]
    another = answers_of(visitor("GET", url)[2])
    assert visitor("GET", url.replace(url.split("/")[-2], "forged-token"))[0] == 404
    assert visitor("POST", url, dict(another, csrfmiddlewaretoken="x" * 64))[0] == 403
    assert Visitor(front)("POST", url, another)[0] == 403  # no CSRF cookie
    missing = dict(another)
    del missing["sex"]
    assert "form-errors" in visitor("POST", url, missing)[2]
    # A malformed body is Django's 400, not an error escaping the lean path.
    assert visitor("POST", url, b"--x", content_type="multipart/form-data; boundary=")[0] == 400
    assert Response.objects.count() == 2

    cache.clear()  # the rate limit's counts
    settings.CITYCHECK_SURVEY_POSTS_PER_MINUTE = 2
    codes = [visitor("POST", url, answers_of(visitor("GET", url)[2]))[0] for _ in range(3)]
    assert codes == [200, 200, 429]
    assert "survey-too_many" in visitor("POST", url, answers_of(visitor("GET", url)[2]))[2]

    cache.clear()
    last_form = visitor("GET", url)[2]
    close_survey(surveyed.survey, acting_user=surveyed.admin)
    assert visitor("GET", url)[0] == 410
    assert visitor("POST", url, answers_of(last_form))[0] == 410
    assert Response.objects.count() == 4
    # Every refusal came from Django: the lean path answered only what it stored.
    assert set(lean(caplog)) == {200}
