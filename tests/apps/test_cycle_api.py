"""One round through the REST API with Basic auth, as machine clients of each level would
drive it: counties and cities enter and submit, cities approve, the province accepts and
assesses. What the assessment reads is what the people entered and the province accepted;
a corrected value accepted again moves the county's score in the next assessment."""

import base64

import pytest

from citycheck.collection.models import RoundStatus, Source, SubmissionStatus, Value
from citycheck.collection.services import open_round
from citycheck.core.choices import Role
from citycheck.places.models import PlaceLevel
from citycheck.testing import PASSWORD, build_reporting_province, offer_method
from tests.apps.assessment.conftest import METHOD

pytestmark = pytest.mark.django_db

# Values each place enters: green_space (higher), built_density, waterlogging (lower).
ENTERED = {
    "360100": (14.0, 10.0, 1.0),
    "360400": (11.0, 12.0, 2.0),
    "360102": (16.0, 10.0, 0.0),
    "360103": (12.5, 11.0, 2.0),
    "360402": (9.0, 9.0, 3.0),
    "360403": (7.0, 11.5, 6.0),
}
CODES = ("green_space", "built_density", "waterlogging")


class Api:
    """A Django test client speaking to the API as one user, with Basic auth."""

    def __init__(self, client, username):
        token = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
        self.client, self.auth = client, {"HTTP_AUTHORIZATION": f"Basic {token}"}

    def get(self, path, **params):
        response = self.client.get(path, params, **self.auth)
        assert response.status_code == 200, response.content
        return response.json()

    def post(self, path, payload=None, *, expect=(200, 201)):
        response = self.client.post(
            path, payload or {}, content_type="application/json", **self.auth
        )
        assert response.status_code in expect, response.content
        return response.json()

    def patch(self, path, payload):
        response = self.client.patch(path, payload, content_type="application/json", **self.auth)
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture
def cycle(client, settings, tmp_path):
    """The small province's places, system and people, a round the province has just
    opened (nothing entered), and the test method offered to officials."""
    offer_method(settings, tmp_path / "methods", "test-index.yaml", METHOD)
    province = build_reporting_province()
    users = province.users
    admins = {code: user.username for code, user in province.fillers.items()}
    places, indicators = province.places, province.indicators
    round_ = open_round(
        year=2025,
        system=province.system,
        places=province.reporting,
        acting_user=users[Role.PROVINCE_ADMIN],
    )
    return {
        "round": round_,
        "places": {p.code: p for p in places.values()},
        "indicators": indicators,
        "admins": admins,
        "province": Api(client, Role.PROVINCE_REVIEWER),
        "client": client,
    }


def api_for(cycle, code):
    return Api(cycle["client"], cycle["admins"][code])


def submission_of(cycle, code):
    listed = cycle["province"].get(
        "/api/collection/submissions/",
        round=cycle["round"].pk,
        place=code,
        source=Source.SELF_CHECK,
    )
    return listed["results"][0]["id"]


def enter_and_submit(cycle, code, numbers):
    api = api_for(cycle, code)
    for indicator, number in zip(CODES, numbers, strict=True):
        api.post(
            "/api/collection/values/",
            {
                "round": cycle["round"].pk,
                "place": code,
                "indicator": cycle["indicators"][indicator].pk,
                "source": Source.SELF_CHECK,
                "value": number,
                "note": "统计年报",  # every value explained, so no warning blocks the test
            },
        )
    return api.post(f"/api/collection/submissions/{submission_of(cycle, code)}/submit/")


def approve_up_the_chain(cycle, code):
    submission = submission_of(cycle, code)
    place = cycle["places"][code]
    if place.level == PlaceLevel.COUNTY:
        city = api_for(cycle, place.parent.code)
        city.post(f"/api/collection/submissions/{submission}/approve/")
    accepted = cycle["province"].post(f"/api/collection/submissions/{submission}/accept/")
    assert accepted["status"] == SubmissionStatus.ACCEPTED


def assess(cycle):
    province = Api(cycle["client"], Role.PROVINCE_ADMIN)
    job = province.post(
        "/api/assessment/releases/run/",
        {"round": cycle["round"].pk, "method": "test-index.yaml"},
        expect=(202,),
    )
    job = province.get(f"/api/assessment/jobs/{job['id']}/")
    assert job["status"] == "succeeded", job
    release = province.get("/api/assessment/releases/", round=cycle["round"].pk)["results"][0]
    rows = province.get("/api/assessment/results/", release=release["id"], limit=500)["results"]
    return release, {(r["place"], r["code"]): r for r in rows}


def test_entered_and_approved_values_reach_the_index(cycle):
    for code, numbers in ENTERED.items():
        enter_and_submit(cycle, code, numbers)
        approve_up_the_chain(cycle, code)
    # accepting adopted exactly what the places entered
    adopted = Value.objects.filter(round=cycle["round"], source=Source.ADOPTED)
    assert {(v.place.code, v.indicator.code): v.value for v in adopted} == {
        (code, indicator): number
        for code, numbers in ENTERED.items()
        for indicator, number in zip(CODES, numbers, strict=True)
    }
    _release, results = assess(cycle)
    assert results[("360403", "green_space")]["value"] == 7.0
    before = results[("360403", "index")]["score"]

    # 浔阳区 asks to correct a value; the province reopens it; the corrected value goes up
    # the chain again and moves the county's score in the next assessment
    county = api_for(cycle, "360403")
    submission = submission_of(cycle, "360403")
    revision = county.post(
        f"/api/collection/submissions/{submission}/revision/", {"reason": "绿地统计口径更正"}
    )
    # the city may not reopen data the province accepted; the province may
    city = api_for(cycle, "360400")
    city.post(f"/api/collection/revisions/{revision['id']}/decide/", {"grant": True}, expect=(403,))
    decided = cycle["province"].post(
        f"/api/collection/revisions/{revision['id']}/decide/", {"grant": True, "note": "同意"}
    )
    assert decided["status"] == "granted"
    stored = county.get(
        "/api/collection/values/",
        round=cycle["round"].pk,
        place="360403",
        source=Source.SELF_CHECK,
        indicator=cycle["indicators"]["green_space"].pk,
    )["results"][0]
    county.patch(
        f"/api/collection/values/{stored['id']}/",
        {"value": 13.0, "note": "更正：新增湿地公园", "version": stored["version"]},
    )
    county.post(f"/api/collection/submissions/{submission}/submit/")
    # until the correction is accepted, the province keeps the figure it accepted
    assert (
        Value.objects.get(
            round=cycle["round"],
            place__code="360403",
            indicator__code="green_space",
            source=Source.ADOPTED,
        ).value
        == 7.0
    )
    approve_up_the_chain(cycle, "360403")
    _release, results = assess(cycle)
    assert results[("360403", "green_space")]["value"] == 13.0
    assert results[("360403", "index")]["score"] > before


def test_a_round_with_a_county_still_in_draft_assesses_as_provisional(cycle):
    for code, numbers in ENTERED.items():
        if code == "360402":
            api = api_for(cycle, code)  # entered one value, not submitted
            api.post(
                "/api/collection/values/",
                {
                    "round": cycle["round"].pk,
                    "place": code,
                    "indicator": cycle["indicators"]["green_space"].pk,
                    "source": Source.SELF_CHECK,
                    "value": numbers[0],
                },
            )
            continue
        enter_and_submit(cycle, code, numbers)
        approve_up_the_chain(cycle, code)
    release, results = assess(cycle)
    assert release["provisional"]
    # nothing of the draft reached the index: the county is left out of the ranking
    assert ("360402", "index") not in results
    assert results[("360402", "green_space")]["value"] is None
    # and the province cannot publish it while the round is open
    assert cycle["round"].status == RoundStatus.OPEN
    refused = cycle["client"].post(
        f"/api/assessment/releases/{release['id']}/publish/",
        **Api(cycle["client"], Role.PROVINCE_ADMIN).auth,
    )
    assert refused.status_code in (400, 403)
