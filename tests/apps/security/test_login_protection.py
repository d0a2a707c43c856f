"""Login protection: the sixth wrong password locks a username out (from that address) for a
while, even with the right password, on the login page and on HTTP Basic alike; API tokens
authenticate machine clients, are stored hashed and stop working once revoked; the API is
rate-limited; a password like the username is refused."""

import base64
import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.throttling import AnonRateThrottle

from citycheck.accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Gan-river-2025!"
API = "/api/collection/rounds/"


@pytest.fixture
def person(db):
    return User.objects.create_user("nanchang_planner", password=PASSWORD)


def log_in(client, password, username="nanchang_planner"):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def basic(password, username="nanchang_planner"):
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {encoded}"}


def test_the_sixth_wrong_password_locks_out_even_the_right_one(client, person):
    assert settings.AXES_FAILURE_LIMIT == 6
    for _attempt in range(5):
        response = log_in(client, "wrong-password")
        assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    locked = log_in(client, "wrong-password")
    assert locked.status_code == 429 and 'data-testid="lockout"' in locked.content.decode()
    right = log_in(client, PASSWORD)
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    # Another person is not locked out by it.
    User.objects.create_user("jiujiang_planner", password=PASSWORD)
    assert log_in(Client(), PASSWORD, "jiujiang_planner").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, person):
    from axes.models import AccessAttempt

    for _attempt in range(6):
        log_in(client, "wrong-password")
    assert log_in(client, PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    )
    assert log_in(client, PASSWORD).status_code == 302


def test_basic_auth_guessing_is_locked_out_too(client, person):
    assert client.get(API, **basic(PASSWORD)).status_code == 200
    for _attempt in range(6):
        assert client.get(API, **basic("guess")).status_code in (401, 403)
    assert client.get(API, **basic(PASSWORD)).status_code in (401, 403, 429)


def test_a_token_authenticates_the_api_is_stored_hashed_and_stops_when_revoked(client, person):
    client.force_login(person)
    created = client.post("/api/auth/token/")
    assert created.status_code == 200, created.content
    token = created.json()["token"]
    stored = AuthToken.objects.get(user=person)
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) >= 64
    machine = Client()
    header = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert machine.get(API, **header).status_code == 200
    assert machine.post("/api/auth/logout/", **header).status_code == 204
    assert machine.get(API, **header).status_code in (401, 403)
    assert not AuthToken.objects.exists()


def test_a_made_up_token_is_refused(client, person):
    assert client.get(API, HTTP_AUTHORIZATION="Token " + "0" * 64).status_code in (401, 403)


def test_anonymous_api_requests_are_rate_limited(client, monkeypatch):
    cache.clear()
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/minute", raising=False)
    answers = [client.get("/api/collection/values/").status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200] and answers[3] == 429
    cache.clear()


@pytest.mark.parametrize("password", ["nanchang_planner", "nanchang_planner1", "12345678901"])
def test_a_password_like_the_username_or_all_digits_is_refused(person, password):
    with pytest.raises(ValidationError):
        password_validation.validate_password(password, user=person)


def test_a_good_password_passes(person):
    password_validation.validate_password(PASSWORD, user=person)
