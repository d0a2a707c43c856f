"""The permission matrix: role × place × action, over the queryset, the pages and the API.

Every expectation is written out below. Places are named by their relation to the city
user (南昌市, "city") and the county user (东湖区, "county"); see citycheck.testing.
The evaluator is assigned 南昌市 and 濂溪区 ("other_county") only, not their subtrees; the
interviewer 东湖区 and 西湖区, for survey interviews only.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from citycheck.collection.models import Round, Source, Value
from citycheck.core import access
from citycheck.core.choices import Action, Role
from citycheck.testing import build_small_province

ANONYMOUS = "anonymous"
# The national administrator needs a nation place above the province, which the small
# province has not: tests/apps/places/test_provinces.py covers that role.
ROLES = [*(role for role in Role.values if role != Role.NATIONAL_ADMIN), ANONYMOUS]
ACTIONS = [Action.VIEW, Action.CHANGE, Action.APPROVE, Action.PUBLISH]
ALL = frozenset({"province", "city", "county", "sibling_county", "other_city", "other_county"})
NANCHANG = frozenset({"city", "county", "sibling_county"})
NONE = frozenset()

# Unpublished data (the open round, and self-check values of the published round):
# which places' values each role may view / change / approve / publish.
EXPECTED = {
    Role.PROVINCE_ADMIN: {"view": ALL, "change": ALL, "approve": ALL, "publish": ALL},
    Role.PROVINCE_REVIEWER: {"view": ALL, "change": NONE, "approve": ALL, "publish": NONE},
    Role.CITY_ADMIN: {"view": NANCHANG, "change": NANCHANG, "approve": NANCHANG, "publish": NONE},
    Role.COUNTY_ADMIN: {"view": {"county"}, "change": {"county"}, "approve": NONE, "publish": NONE},
    Role.DEPARTMENT_FILLER: {
        "view": NANCHANG,
        "change": NANCHANG,
        "approve": NONE,
        "publish": NONE,
    },
    Role.EVALUATOR: {
        "view": {"city", "other_county"},
        "change": {"city", "other_county"},
        "approve": NONE,
        "publish": NONE,
    },
    # The interviewer (assigned 东湖区 and 西湖区) enters survey interviews only: no values.
    Role.INTERVIEWER: {"view": NONE, "change": NONE, "approve": NONE, "publish": NONE},
    Role.PUBLIC: {"view": NONE, "change": NONE, "approve": NONE, "publish": NONE},
    ANONYMOUS: {"view": NONE, "change": NONE, "approve": NONE, "publish": NONE},
}
# Adopted values of a published round: everybody may view all of them; the other actions
# stay as for unpublished data.
EXPECTED_PUBLISHED_VIEW = ALL


@pytest.fixture
def small_province(db):
    return build_small_province()


def user_for(province, role):
    return AnonymousUser() if role == ANONYMOUS else province.users[role]


def client_for(client, province, role):
    if role != ANONYMOUS:
        client.force_login(province.users[role])
    return client


def labels_of(province, values) -> set[str]:
    label_of = {place.pk: label for label, place in province.places.items()}
    return {label_of[value.place_id] for value in values if label_of[value.place_id] in ALL}


def matrix_values(province, round_, source=Source.SELF_CHECK):
    return Value.objects.filter(
        round=round_, source=source, indicator=province.indicators["green_space"]
    )


def test_the_table_covers_every_role_and_action():
    assert set(EXPECTED) == set(ROLES)
    assert all(set(row) == set(ACTIONS) for row in EXPECTED.values())


@pytest.mark.parametrize("role", ROLES)
def test_queryset_matrix_unpublished(small_province, role):
    user = user_for(small_province, role)
    values = matrix_values(small_province, small_province.open_round)
    observed = {
        action: labels_of(small_province, values.restrict(user, action)) for action in ACTIONS
    }
    assert observed == EXPECTED[role]


@pytest.mark.parametrize("role", ROLES)
def test_queryset_matrix_published_round(small_province, role):
    user = user_for(small_province, role)
    round_ = small_province.published_round
    adopted = matrix_values(small_province, round_, Source.ADOPTED)
    observed = {
        action: labels_of(small_province, adopted.restrict(user, action)) for action in ACTIONS
    }
    assert observed == {**EXPECTED[role], "view": EXPECTED_PUBLISHED_VIEW}
    # Self-check values of a published round are not public.
    self_check = matrix_values(small_province, round_, Source.SELF_CHECK)
    assert (
        labels_of(small_province, self_check.restrict(user, Action.VIEW)) == EXPECTED[role]["view"]
    )


def test_department_filler_sees_only_its_departments_indicators(small_province):
    filler = small_province.users[Role.DEPARTMENT_FILLER]
    visible = Value.objects.restrict(filler).filter(round=small_province.open_round)
    assert {v.indicator.code for v in visible} == {"green_space", "waterlogging"}  # housing
    other = Value.objects.filter(indicator=small_province.indicators["built_density"])
    assert not other.restrict(filler, Action.CHANGE).exists()


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(client, small_province, role):
    client = client_for(client, small_province, role)
    for label in ALL:
        value = small_province.value(small_province.open_round, label)
        response = client.get(reverse("collection:value", args=[value.pk]))
        if role == ANONYMOUS:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        else:
            expected = 200 if label in EXPECTED[role]["view"] else 404
            assert response.status_code == expected, (role, label)
    response = client.get(reverse("collection:round", args=[small_province.open_round.pk]))
    if role in (ANONYMOUS, Role.PUBLIC, Role.INTERVIEWER):
        # The open round has no place they may view: it does not exist for them.
        assert response.status_code == (302 if role == ANONYMOUS else 404)
    else:
        label_of = {place.code: label for label, place in small_province.places.items()}
        shown = {label_of[place.code] for place, _ in response.context["rows"]}
        assert shown & ALL == EXPECTED[role]["view"]


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(client, small_province, role):
    client = client_for(client, small_province, role)
    for round_, source, expected_view in [
        (small_province.open_round, Source.SELF_CHECK, EXPECTED[role]["view"]),
        (small_province.published_round, Source.ADOPTED, EXPECTED_PUBLISHED_VIEW),
    ]:
        response = client.get(
            "/api/collection/values/",
            {
                "round": round_.pk,
                "source": source,
                "indicator": small_province.indicators["green_space"].pk,
            },
        )
        assert response.status_code == 200
        codes = {row["place"] for row in response.json()["results"]}
        matrix_codes = {small_province.places[label].code for label in ALL}
        assert codes & matrix_codes == {
            small_province.places[label].code for label in expected_view
        }
    # The evaluator enters third-party values, everybody else self-check values.
    source = Source.THIRD_PARTY if role == Role.EVALUATOR else Source.SELF_CHECK
    for label in ALL:
        value = small_province.value(small_province.open_round, label, source=source)
        url = f"/api/collection/values/{value.pk}/"
        expected = 200 if label in EXPECTED[role]["view"] else 404
        assert client.get(url).status_code == expected, (role, label, "view")
        response = client.patch(
            url, {"value": 99.0, "version": value.version}, content_type="application/json"
        )
        if role == ANONYMOUS:
            assert response.status_code in (401, 403)
        else:
            expected = 200 if label in EXPECTED[role]["change"] else 404
            assert response.status_code == expected, (role, label, "change")
        value.refresh_from_db()
        assert (value.value == 99.0) == (response.status_code == 200)


def test_county_never_reads_sibling_county_unpublished_data(client, small_province):
    """东湖区 must not see 西湖区's unpublished values by any route, nor probe its code."""
    client.force_login(small_province.users[Role.COUNTY_ADMIN])
    sibling = small_province.places["sibling_county"]
    value = small_province.value(small_province.open_round, "sibling_county")
    assert client.get(reverse("places:place", args=[sibling.code])).status_code == 404
    assert client.get(reverse("places:place", args=["999999"])).status_code == 404
    assert client.get(reverse("collection:value", args=[value.pk])).status_code == 404
    assert client.get(f"/api/collection/values/{value.pk}/").status_code == 404
    assert client.get(f"/api/places/places/{sibling.code}/").status_code == 404
    listed = client.get("/api/collection/values/", {"place": sibling.code, "limit": 1000}).json()
    assert all(row["round"] != small_province.open_round.pk for row in listed["results"])
    assert {row["source"] for row in listed["results"]} <= {Source.ADOPTED}


def test_superuser_reaches_every_row_of_every_round(small_province):
    """An empty "everywhere" filter must not be lost when OR-ed with the published rows."""
    superuser = small_province.users[Role.PROVINCE_ADMIN]
    superuser.is_superuser = True
    superuser.save()
    everything = Value.objects.count()
    for action in ACTIONS:
        assert Value.objects.restrict(superuser, action).count() == everything
    rounds = access.restrict(Round.objects.all(), superuser)
    assert set(rounds) == {small_province.open_round, small_province.published_round}
