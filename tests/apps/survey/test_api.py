"""The survey's read-only API: surveys, progress, scores and responses with the pages'
permissions — a city user sees its own places only, the public published scores only,
and no response carries identifying data."""

from rest_framework.test import APIClient

from citycheck.collection.models import RoundStatus
from citycheck.core.choices import Role
from citycheck.survey.weighting import weight_survey

from .conftest import enter, synthetic_rows


def rows(answer):
    assert answer.status_code == 200, answer.content
    data = answer.json()
    return data["results"] if isinstance(data, dict) and "results" in data else data


def test_the_api_follows_reach_and_publication(surveyed):
    survey = surveyed.survey
    enter(surveyed, synthetic_rows(["360102", "360103", "360402", "360403"], 30))
    weight_survey(survey, acting_user=surveyed.admin)
    city = APIClient()
    city.force_authenticate(surveyed.users[Role.CITY_ADMIN])  # 南昌市
    anonymous = APIClient()

    (listed,) = rows(city.get("/api/survey/surveys/", {"year": survey.round.year}))
    assert listed["id"] == survey.pk and listed["status"] == "open"
    progress = rows(city.get(f"/api/survey/surveys/{survey.pk}/progress/"))
    assert {r["county"] for r in progress} == {"360102", "360103"}
    assert sum(r["responses"] for r in progress) + sum(r["flagged"] for r in progress) == 60
    assert anonymous.get(f"/api/survey/surveys/{survey.pk}/progress/").status_code in (401, 403)

    scores = rows(city.get("/api/survey/scores/", {"survey": survey.pk, "kind": "overall"}))
    assert {s["place"] for s in scores} == {"360100", "360102", "360103"}
    assert all(s["low"] <= s["score"] <= s["high"] for s in scores)
    assert rows(anonymous.get("/api/survey/scores/")) == []  # the round is not published

    answers = rows(city.get("/api/survey/responses/", {"survey": survey.pk, "limit": 500}))
    assert len(answers) == 60 and {a["county"] for a in answers} == {"360102", "360103"}
    assert not {"device", "nonce", "fingerprint", "reference", "entered_by"} & set(answers[0])
    assert anonymous.get("/api/survey/responses/").status_code in (401, 403)

    survey.round.status = RoundStatus.PUBLISHED
    survey.round.save()
    public = rows(anonymous.get("/api/survey/scores/", {"kind": "overall", "limit": 500}))
    assert {s["place"] for s in public} >= {"360100", "360400"}


def test_the_schema_lists_the_survey_api(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/survey/surveys/", "/api/survey/scores/", "/api/survey/responses/"):
        assert path in schema
    assert "/api/survey/surveys/{id}/progress/" in schema
