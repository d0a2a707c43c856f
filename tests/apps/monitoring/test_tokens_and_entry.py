"""The token page (issue with the key shown once, list, revoke — province administrator,
and a city administrator within its subtree) and entry by hand of one observation through
the same checks as the API."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.monitoring import services
from citycheck.monitoring.models import IngestToken, MonitoringIndicator, Observation


def _client(province, role):
    client = Client()
    client.force_login(province.users[role])
    return client


def _issue(client, province, place="city", name="一网统管"):
    return client.post(
        "/monitoring/tokens/",
        {
            "name": name,
            "feed": province.feed("city_operation").pk,
            "place": province.places[place].pk,
        },
    )


def test_province_issues_a_token_shown_once_that_works_then_revokes_it(province):
    cache.clear()
    admin = _client(province, Role.PROVINCE_ADMIN)
    page = admin.get("/monitoring/tokens/")
    assert page.status_code == 200
    issued = _issue(admin, province)
    assert issued.status_code == 200
    key = issued.context["key"]
    assert key.startswith("cct_") and key in issued.content.decode()
    assert "no-store" in issued["Cache-Control"]
    token = IngestToken.objects.get()
    assert token.created_by == province.users[Role.PROVINCE_ADMIN]
    assert token.place == province.places["city"] and token.feed.code == "city_operation"
    assert ChangeRecord.objects.filter(event="issued", object_id=str(token.pk)).exists()
    listing = admin.get("/monitoring/tokens/").content.decode()
    assert "一网统管" in listing and token.prefix in listing and key not in listing
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {
        "batch_id": "b1",
        "rows": [
            {"place": "360102", "indicator": "waterlogging_points", "period": "2025-01", "value": 3}
        ],
    }
    assert api.post("/api/monitoring/observations/batches/", body, format="json").status_code == 201
    assert admin.post(f"/monitoring/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked is not None
    assert ChangeRecord.objects.filter(event="revoked", object_id=str(token.pk)).exists()
    body["batch_id"] = "b2"
    assert api.post("/api/monitoring/observations/batches/", body, format="json").status_code == 401
    # revoking again is refused with a message, not a second event
    admin.post(f"/monitoring/tokens/{token.pk}/revoke/")
    assert ChangeRecord.objects.filter(event="revoked", object_id=str(token.pk)).count() == 1


def test_city_admin_manages_tokens_of_its_subtree_only(province):
    city = _client(province, Role.CITY_ADMIN)
    assert _issue(city, province, place="county").status_code == 200
    refused = _issue(city, province, place="other_city")
    assert refused.status_code == 200 and "place" in refused.context["form"].errors
    assert IngestToken.objects.count() == 1
    other, _key = services.create_token(
        "九江",
        feed=province.feed("city_operation"),
        place=province.places["other_city"],
        acting_user=province.users[Role.PROVINCE_ADMIN],
    )
    listing = city.get("/monitoring/tokens/").context["tokens"]
    assert [t.name for t in listing] == ["一网统管"]
    assert city.post(f"/monitoring/tokens/{other.pk}/revoke/").status_code == 404
    other.refresh_from_db()
    assert other.revoked is None


@pytest.mark.parametrize(
    "role", [Role.COUNTY_ADMIN, Role.PROVINCE_REVIEWER, Role.DEPARTMENT_FILLER, Role.EVALUATOR]
)
def test_other_roles_have_no_token_page(province, role):
    client = _client(province, role)
    assert client.get("/monitoring/tokens/").status_code == 403
    assert _issue(client, province, place="county").status_code == 403
    assert not IngestToken.objects.exists()


def test_anonymous_is_sent_to_log_in(province):
    assert Client().get("/monitoring/tokens/").status_code == 302
    assert Client().get("/monitoring/enter/").status_code == 302


def _enter(client, province, place="county", indicator="waterlogging_points", **extra):
    data = {
        "place": province.places[place].pk,
        "indicator": MonitoringIndicator.objects.get(code=indicator).pk,
        "period": "2025-03",
        "value": "12",
    }
    data.update(extra)
    return client.post("/monitoring/enter/", data)


def test_county_enters_an_observation_by_hand(province):
    county = _client(province, Role.COUNTY_ADMIN)
    assert county.get("/monitoring/enter/").status_code == 200
    response = _enter(county, province, value="1,234.5")
    assert response.status_code == 302
    stored = Observation.objects.get()
    assert stored.value == 1234.5 and stored.period == dt.date(2025, 3, 1)
    assert stored.source == services.MANUAL_FEED and stored.place.code == "360102"
    assert ChangeRecord.objects.filter(event="ingested").exists()
    # the same again changes nothing; a different value is refused as by the API
    assert _enter(county, province, value="1234.5").status_code == 302
    refused = _enter(county, province, value="99")
    assert refused.status_code == 200
    assert "该期已有不同的数值" in " ".join(refused.context["form"].errors["value"])
    assert Observation.objects.count() == 1


@pytest.mark.parametrize(
    "extra, field, words",
    [
        ({"value": "abc"}, "value", ""),
        ({"period": "2025/03"}, "period", "2025-03"),
        ({"period": "2999-01"}, "period", "未来"),
        ({"indicator": "congestion_index"}, "place", "层级"),
    ],
)
def test_hand_entry_shows_the_ingest_refusals(province, extra, field, words):
    county = _client(province, Role.COUNTY_ADMIN)
    response = _enter(county, province, **extra)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert errors and words in errors
    assert not Observation.objects.exists()


def test_hand_entry_outside_the_reach_is_refused(province):
    county = _client(province, Role.COUNTY_ADMIN)
    response = _enter(county, province, place="other_city")
    assert response.status_code == 200 and "place" in response.context["form"].errors
    assert not Observation.objects.exists()
    assert Client().post("/monitoring/enter/", {}).status_code == 302


def test_dashboard_links_to_entry_and_tokens_by_role(province):
    admin = _client(province, Role.PROVINCE_ADMIN).get("/monitoring/")
    assert admin.context["may_enter"] and admin.context["may_tokens"]
    county = _client(province, Role.COUNTY_ADMIN).get("/monitoring/")
    assert county.context["may_enter"] and not county.context["may_tokens"]
    assert "/monitoring/tokens/" not in county.content.decode()


def test_the_new_pages_read_in_english(province):
    from django.conf import settings

    from tests.apps.core.test_english import data_names, literal_chinese

    services.create_token(
        "一网统管",
        feed=province.feed("city_operation"),
        place=province.places["city"],
        acting_user=province.users[Role.PROVINCE_ADMIN],
    )
    admin = _client(province, Role.PROVINCE_ADMIN)
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    anonymous = Client()
    anonymous.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    names = [*data_names(), "一网统管"]
    pages = {
        "/monitoring/tokens/": admin.get("/monitoring/tokens/"),
        "issued": _issue(admin, province),
        "/monitoring/enter/": admin.get("/monitoring/enter/"),
        "/monitoring/warnings/": admin.get("/monitoring/warnings/"),
        "/portal/warnings/": anonymous.get("/portal/warnings/"),
    }
    untranslated = {
        url: found
        for url, response in pages.items()
        if (found := literal_chinese(response.content.decode(), names))
    }
    assert not untranslated, untranslated
