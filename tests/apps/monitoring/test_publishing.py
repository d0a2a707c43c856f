"""Publishing warnings (公开): only a role with the publish action (the province) makes
warnings public, one or a month's at a time, audited; the public (portal page and API)
sees published warnings only, without measures, evidence, notes or names."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from rest_framework.test import APIClient

from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.monitoring import services
from citycheck.monitoring.models import EarlyWarning
from citycheck.monitoring.testing import series_rows


@pytest.fixture
def warned(province):
    start = dt.date(2024, 1, 1)
    rows = series_rows("360100", "congestion_index", [1.2] * 23 + [2.1], start)
    rows += series_rows("360102", "waterlogging_points", [2] * 23 + [30], start)
    rows += series_rows("360402", "waterlogging_points", [2] * 23 + [30], start)
    services.ingest(rows, feed=province.feed("city_operation"), today=dt.date(2025, 12, 1))
    services.evaluate(dt.date(2025, 12, 1))
    assert EarlyWarning.objects.count() == 3
    return province


def _client(province, role):
    client = Client()
    client.force_login(province.users[role])
    return client


def _public_page():
    response = Client().get("/portal/warnings/")
    assert response.status_code == 200
    return response


def test_unpublished_warnings_are_never_public(warned):
    page = _public_page()
    assert page.context["groups"] == []
    assert "暂无公开的预警" in page.content.decode()
    api = APIClient().get("/api/monitoring/warnings/")
    assert api.status_code == 200 and api.json()["results"] == []
    one = EarlyWarning.objects.first()
    assert APIClient().get(f"/api/monitoring/warnings/{one.pk}/").status_code in (403, 404)


def test_province_publishes_one_warning_and_the_public_sees_it_without_internals(warned):
    warning = EarlyWarning.objects.get(place__code="360102")
    admin = _client(warned, Role.PROVINCE_ADMIN)
    page = admin.get(f"/monitoring/warnings/{warning.pk}/")
    assert page.context["may_publish"] is True
    response = admin.post(f"/monitoring/warnings/{warning.pk}/publish/")
    assert response.status_code == 302
    warning.refresh_from_db()
    assert warning.published
    record = ChangeRecord.objects.get(
        content_type__model="earlywarning", object_id=str(warning.pk), event="published"
    )
    assert record.user == warned.users[Role.PROVINCE_ADMIN]
    # handled afterwards: the public sees the current status, never the measures
    services.handle(
        warning, acting_user=warned.users[Role.PROVINCE_ADMIN], measures="清淤 张三负责"
    )
    body = _public_page().content.decode()
    assert warning.place.name_zh in body
    assert warning.indicator.name_zh in body and "2025-12" in body
    assert "已处置" in body
    assert "清淤" not in body and "张三" not in body
    assert "南昌市" not in [p.name_zh for p, _rows in _public_page().context["groups"]]
    api = APIClient().get("/api/monitoring/warnings/").json()["results"]
    assert [w["id"] for w in api] == [warning.pk]
    assert "measures" not in api[0] and "evidence" not in api[0]
    # publishing again changes nothing and records nothing more
    assert services.publish([warning], acting_user=warned.users[Role.PROVINCE_ADMIN]) == 0
    assert ChangeRecord.objects.filter(event="published").count() == 1


def test_province_publishes_a_month(warned):
    admin = _client(warned, Role.PROVINCE_ADMIN)
    assert admin.get("/monitoring/warnings/").context["may_publish"] is True
    admin.post("/monitoring/warnings/publish/", {"month": "2025-11"})
    assert not EarlyWarning.objects.filter(published=True).exists()
    response = admin.post("/monitoring/warnings/publish/", {"month": "2025-12"})
    assert response.status_code == 302
    assert EarlyWarning.objects.filter(published=True).count() == 3
    assert ChangeRecord.objects.filter(event="published").count() == 3
    assert admin.get("/monitoring/warnings/").content.decode().count('data-testid="published"') == 3
    groups = _public_page().context["groups"]
    assert sorted(p.code for p, _rows in groups) == ["360100", "360102", "360402"]
    assert len(APIClient().get("/api/monitoring/warnings/").json()["results"]) == 3
    bad = admin.post("/monitoring/warnings/publish/", {"month": "12/2025"}, follow=True)
    assert "2025-12" in bad.content.decode()


@pytest.mark.parametrize(
    "role", [Role.COUNTY_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_REVIEWER, Role.DEPARTMENT_FILLER]
)
def test_only_the_province_publishes(warned, role):
    warning = EarlyWarning.objects.get(place__code="360102")
    user = warned.users[role]
    client = _client(warned, role)
    page = client.get(f"/monitoring/warnings/{warning.pk}/")
    if page.status_code == 200:
        assert page.context["may_publish"] is False
    assert client.post(f"/monitoring/warnings/{warning.pk}/publish/").status_code in (403, 404)
    assert client.post("/monitoring/warnings/publish/", {"month": "2025-12"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.publish([warning], acting_user=user)
    assert not EarlyWarning.objects.filter(published=True).exists()
    assert _public_page().context["groups"] == []
