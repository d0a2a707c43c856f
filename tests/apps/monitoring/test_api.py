"""A machine client with an ingest token: a batch post, its retry, a forbidden place, a
refused row, a revoked token, the rate limit; and the warnings list's reach."""

import datetime as dt

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from citycheck.core.choices import Role
from citycheck.monitoring import services
from citycheck.monitoring.models import EarlyWarning, IngestBatch, Observation
from citycheck.monitoring.testing import series_rows

URL = "/api/monitoring/observations/batches/"


@pytest.fixture
def token_client(province):
    cache.clear()
    token, key = services.create_token(
        "一网统管（南昌）",
        feed=province.feed("city_operation"),
        place=province.places["city"],
        acting_user=province.users[Role.PROVINCE_ADMIN],
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.token = token
    return client


def _rows(place="360102", values=(3, 4, 5)):
    return series_rows(place, "waterlogging_points", list(values), dt.date(2025, 1, 1))


def test_batch_post_then_retry_then_forbidden_place(token_client):
    body = {"batch_id": "ops-2025-03-001", "rows": _rows()}
    first = token_client.post(URL, body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["accepted"] == 3
    retry = token_client.post(URL, body, format="json")
    assert retry.status_code == 200
    assert retry.json() | {"replayed": None} == first.json() | {"replayed": None}
    assert retry.json()["replayed"] is True
    assert Observation.objects.count() == 3 and IngestBatch.objects.count() == 1
    assert IngestBatch.objects.get().token == token_client.token

    mixed = {"batch_id": "ops-2025-03-002", "rows": _rows("360100", (1,)) + _rows("360402", (1,))}
    forbidden = token_client.post(URL, mixed, format="json")
    assert forbidden.status_code == 403
    assert "360402" in forbidden.json()["detail"]
    assert Observation.objects.count() == 3  # nothing of the forbidden batch


def test_refused_rows_answer_400_with_row_field_reason_and_write_nothing(token_client):
    rows = [
        *_rows(),
        {"place": "360102", "indicator": "waterlogging_points", "period": "2099-01", "value": 1},
    ]
    response = token_client.post(URL, {"batch_id": "b", "rows": rows}, format="json")
    assert response.status_code == 400
    assert response.json()["refused"] == [
        {"row": 4, "field": "period", "reason": "期 2099-01 在未来。"}
    ]
    assert Observation.objects.count() == 0
    # The same batch id, corrected, is accepted: a refused batch was never recorded.
    fixed = token_client.post(URL, {"batch_id": "b", "rows": _rows()}, format="json")
    assert fixed.status_code == 201


def test_reused_batch_id_is_409_and_malformed_bodies_400(token_client):
    assert (
        token_client.post(URL, {"batch_id": "x", "rows": _rows()}, format="json").status_code == 201
    )
    other = token_client.post(URL, {"batch_id": "x", "rows": _rows(values=(9,))}, format="json")
    assert other.status_code == 409
    for body in ({}, {"batch_id": "y", "rows": []}, {"batch_id": "y", "rows": [1, 2]}, [1]):
        assert token_client.post(URL, body, format="json").status_code == 400


def test_no_token_unknown_or_revoked_token_is_401(token_client, province):
    assert APIClient().post(URL, {"batch_id": "a", "rows": _rows()}, format="json").status_code in (
        401,
        403,
    )
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer cct_nothing")
    assert stranger.post(URL, {"batch_id": "a", "rows": _rows()}, format="json").status_code == 401
    services.revoke_token(token_client.token, acting_user=province.users[Role.PROVINCE_ADMIN])
    revoked = token_client.post(URL, {"batch_id": "a", "rows": _rows()}, format="json")
    assert revoked.status_code == 401
    assert Observation.objects.count() == 0


def test_token_key_is_stored_only_as_its_digest(token_client):
    token = token_client.token
    key = token_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    assert key not in (token.digest, token.prefix) and token.digest == services._hash(key)


def test_per_token_rate_limit(token_client):
    token = token_client.token
    token.rate = "2/minute"
    token.save()
    codes = [
        token_client.post(URL, {"batch_id": f"r{n}", "rows": _rows()}, format="json").status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]


def test_warnings_api_shows_the_reach_and_the_public_none(province, token_client):
    rows = series_rows("360102", "waterlogging_points", [2] * 23 + [30], dt.date(2024, 1, 1))
    rows += series_rows("360402", "waterlogging_points", [2] * 23 + [30], dt.date(2024, 1, 1))
    services.ingest(rows, feed=province.feed("city_operation"), today=dt.date(2025, 12, 1))
    services.evaluate(dt.date(2025, 12, 1))
    assert EarlyWarning.objects.count() == 2
    client = APIClient()
    client.force_authenticate(province.users[Role.CITY_ADMIN])
    seen = client.get("/api/monitoring/warnings/").json()["results"]
    assert [w["place"] for w in seen] == ["360102"]
    other = EarlyWarning.objects.get(place__code="360402")
    assert client.get(f"/api/monitoring/warnings/{other.pk}/").status_code == 404
    public = APIClient().get("/api/monitoring/warnings/")
    assert public.status_code == 200 and public.json()["results"] == []
