"""/healthz: database, cache, broker and disk as JSON, 200 when all pass and 503 naming
the failing check otherwise; open without login and giving no secrets."""

import pytest
from django.db import connection
from django.test import Client

from citycheck.core import views


@pytest.fixture
def probe(db):
    return lambda: Client().get("/healthz")


def test_all_checks_pass(probe):
    answer = probe()
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    body = answer.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "disk"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["database"]["vendor"] == connection.vendor
    assert body["checks"]["broker"]["queue"] == "database"
    assert "no-cache" in answer["Cache-Control"]


def test_a_full_disk_gives_503_naming_it(probe, settings):
    settings.CITYCHECK_HEALTH_MIN_FREE_BYTES = 2**62
    answer = probe()
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "failing"
    assert body["checks"]["disk"] == {
        "ok": False,
        "error": "OSError",
        "ms": pytest.approx(0, abs=1e4),
    }
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]


def test_an_unreachable_broker_or_database_gives_503(probe, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    answer = probe()
    assert answer.status_code == 503
    assert answer.json()["checks"]["broker"]["ok"] is False

    settings.CELERY_BROKER_URL = ""

    def refused():
        from django.db import OperationalError

        raise OperationalError("password=secret host=db")

    monkeypatch.setitem(views.HEALTH_CHECKS, "database", refused)
    answer = probe()
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"]["error"] == "OperationalError"
    assert b"secret" not in answer.content
