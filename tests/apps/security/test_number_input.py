"""One number parser for the entry form, the API and the Excel upload: full-width digits
are read as the digits they are, an ambiguous comma and anything not a finite number is
refused naming the indicator or field, and a non-finite number already stored never
breaks a page or an API answer."""

import math

import pytest
from django.urls import reverse

from citycheck.collection import services
from citycheck.collection.models import Source, Value
from tests.apps.collection.test_views import COUNTY, form_data, login, open_submission, save

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("１２", 12.0), ("１２．５", 12.5), ("1,234", 1234.0), ("12,345.6", 12345.6), ("－３", -3.0)],
)
def test_the_form_reads_full_width_digits_and_thousands_separators(client, province, typed, stored):
    login(client, province, "county")
    submission = open_submission(client, province)
    response = save(client, submission, form_data(client, submission, {"schools": typed}))
    assert "save-ok" in response.content.decode(), response.content.decode()
    assert Value.objects.get(place__code=COUNTY, indicator__code="schools").value == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("1,5", "逗号只能用作千位分隔符"),
        ("٣", "不是数字"),
        ("nan", "不是数字"),
        ("inf", "不是数字"),
        ("-Infinity", "不是数字"),
        ("1e309", "有限的数字"),
    ],
)
def test_the_form_refuses_what_is_not_a_finite_number_and_stores_nothing(
    client, province, typed, reason
):
    login(client, province, "county")
    submission = open_submission(client, province)
    response = save(client, submission, form_data(client, submission, {"schools": typed}))
    body = response.content.decode()
    assert "save-refused" in body and "schools" in body and reason in body
    assert not Value.objects.filter(place__code=COUNTY).exists()


@pytest.mark.parametrize("sent", ["1,5", "٣", "NaN", "inf", "1e309"])
def test_the_api_refuses_the_same_text_naming_the_field(client, province, sent):
    services.save_values(
        province.round, province.entries(COUNTY), acting_user=province.users["county"]
    )
    value = Value.objects.get(place__code=COUNTY, indicator__code="schools")
    client.force_login(province.users["county"])
    response = client.patch(
        f"/api/collection/values/{value.pk}/",
        {"value": sent, "version": value.version},
        content_type="application/json",
    )
    assert response.status_code == 400 and "value" in response.json()
    value.refresh_from_db()
    assert value.value == GOOD_VALUES["schools"]


def test_the_api_reads_full_width_digits_as_the_form_does(client, province):
    services.save_values(
        province.round, province.entries(COUNTY), acting_user=province.users["county"]
    )
    value = Value.objects.get(place__code=COUNTY, indicator__code="schools")
    client.force_login(province.users["county"])
    response = client.patch(
        f"/api/collection/values/{value.pk}/",
        {"value": "１２", "version": value.version},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    value.refresh_from_db()
    assert value.value == 12.0


def test_an_infinity_already_stored_is_shown_as_null_not_a_server_error(client, province):
    services.save_values(
        province.round, province.entries(COUNTY), acting_user=province.users["county"]
    )
    services.save_values(
        province.round,
        province.entries(COUNTY, {**GOOD_VALUES, "schools": 50.0}),
        source=Source.THIRD_PARTY,
        acting_user=province.users["evaluator"],
    )
    Value.objects.filter(indicator__code="schools", source=Source.SELF_CHECK).update(value=math.inf)
    stored = Value.objects.get(indicator__code="schools", source=Source.SELF_CHECK)
    client.force_login(province.users["province"])
    one = client.get(f"/api/collection/values/{stored.pk}/")
    assert one.status_code == 200 and one.json()["value"] is None
    listing = client.get("/api/collection/values/", {"limit": 500})
    assert listing.status_code == 200
    discrepancies = client.get(f"/api/collection/rounds/{province.round.pk}/discrepancies/")
    assert discrepancies.status_code == 200, discrepancies.content
    page = client.get(reverse("collection:discrepancies", args=[province.round.pk]))
    assert page.status_code == 200
