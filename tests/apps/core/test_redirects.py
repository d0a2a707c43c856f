"""A ``next`` is followed only when it stays on this site; anything else falls back."""

import datetime as dt

import pytest
from django.test import RequestFactory
from django.urls import reverse

from citycheck.collection.models import Reminder, ReminderKind
from citycheck.core.choices import Role
from citycheck.core.redirects import redirect_to_next

FALLBACK = "collection:round_list"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "http://evil.example/rounds/",
        "javascript:alert(1)",
        "///evil.example",
        "",
    ],
)
def test_a_next_off_this_site_falls_back(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert redirect_to_next(request, FALLBACK)["Location"] == reverse(FALLBACK)


@pytest.mark.parametrize("target", ["/renewal/projects/?page=2", "http://testserver/rounds/"])
def test_a_next_on_this_site_is_followed(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert redirect_to_next(request, FALLBACK)["Location"] == target


def test_next_is_read_from_the_query_too_and_the_fallback_takes_arguments():
    request = RequestFactory().post("/x/?next=/rounds/")
    assert redirect_to_next(request, FALLBACK)["Location"] == "/rounds/"
    request = RequestFactory().post("/x/?next=//evil.example")
    response = redirect_to_next(request, "renewal:project", pk=7)
    assert response["Location"] == reverse("renewal:project", args=[7])


def test_a_plain_http_next_is_refused_on_a_secure_request():
    request = RequestFactory().post("/x/", {"next": "http://testserver/rounds/"}, secure=True)
    assert redirect_to_next(request, FALLBACK)["Location"] == reverse(FALLBACK)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example"])
def test_marking_a_reminder_read_never_leaves_the_site(client, small_province, target):
    user = small_province.users[Role.COUNTY_ADMIN]
    reminder = Reminder.objects.create(
        user=user,
        round=small_province.open_round,
        place=small_province.places["county"],
        kind=ReminderKind.OVERDUE,
        day=dt.date(2024, 7, 1),
        message="x",
    )
    client.force_login(user)
    url = reverse("collection:reminder_read", args=[reminder.pk])
    response = client.post(url, {"next": target})
    assert response.status_code == 302 and response["Location"] == reverse(FALLBACK)
    reminder.refresh_from_db()
    assert reminder.read_at is not None
    reminder.read_at = None
    reminder.save()
    assert client.post(url, {"next": "/rounds/?page=2"})["Location"] == "/rounds/?page=2"
