"""The check-step API: batch submission, workflow steps, adjudication, completeness and
discrepancies; each with its refusals (403 permission, 409 state, 400 fields)."""

import pytest

from citycheck.collection import services
from citycheck.collection.models import (
    Adjudication,
    ChangeChannel,
    Source,
    SubmissionStatus,
    Value,
    ValueChange,
)

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db

COUNTY = "360102"
API = "/api/collection"


def as_user(client, province, name):
    client.force_login(province.users[name])
    return client


def records(code=COUNTY, values=GOOD_VALUES):
    return [{"place": code, "indicator": k, "value": v} for k, v in values.items()]


def batch(client, province, body):
    return client.post(
        f"{API}/rounds/{province.round.pk}/batch/", body, content_type="application/json"
    )


def post_step(client, submission, step, comment=""):
    return client.post(
        f"{API}/submissions/{submission.pk}/{step}/",
        {"comment": comment},
        content_type="application/json",
    )


def test_batch_stores_audits_and_reports(client, province):
    as_user(client, province, "county")
    response = batch(client, province, {"records": records(), "reason": "统计年鉴"})
    assert response.status_code == 200, response.json()
    assert response.json() == {"records": 6, "changed": 6, "method": "orm"}
    assert Value.objects.filter(place__code=COUNTY).count() == 6
    change = ValueChange.objects.filter(value__indicator__code="schools").get()
    assert (change.channel, change.reason) == (ChangeChannel.BATCH, "统计年鉴")


def test_batch_errors_name_the_record_field_and_store_nothing(client, province):
    as_user(client, province, "county")
    bad = records()
    bad[2]["value"] = "四十"
    bad[4]["indicator"] = "nope"
    response = batch(client, province, {"records": bad})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"records[2].value", "records[4].indicator"}
    negative = records(values={"schools": -3})
    response = batch(client, province, {"records": negative})
    assert response.status_code == 400 and "records[0].value" in response.json()["errors"]
    assert not Value.objects.exists()
    assert batch(client, province, {"records": []}).status_code == 400


def test_batch_refuses_another_place_foreign_indicators_and_foreign_sources(client, province):
    as_user(client, province, "county")
    assert batch(client, province, {"records": records("360103")}).status_code == 403
    as_user(client, province, "housing")
    assert batch(client, province, {"records": records()}).status_code == 403
    housing = {k: GOOD_VALUES[k] for k in ("green_space_rate", "park_green_area_per_capita")}
    assert batch(client, province, {"records": records(values=housing)}).status_code == 200
    as_user(client, province, "evaluator")
    third = {"records": records(), "source": Source.THIRD_PARTY}
    assert batch(client, province, third).status_code == 200
    assert batch(client, province, {**third, "records": records("360104")}).status_code == 403
    assert batch(client, province, {"records": records()}).status_code == 403  # self-check
    assert not Value.objects.filter(place__code="360103").exists()


def test_batch_on_locked_data_is_a_conflict(client, province):
    as_user(client, province, "county")
    batch(client, province, {"records": records()})
    submission = province.submission(COUNTY)
    assert post_step(client, submission, "submit").status_code == 200
    response = batch(client, province, {"records": records(values={"schools": 1})})
    assert response.status_code == 409 and "锁定" in response.json()["detail"]


def test_workflow_steps_through_the_api(client, province):
    services.save_values(
        province.round, province.entries(COUNTY), acting_user=province.users["county"]
    )
    submission = province.submission(COUNTY)
    as_user(client, province, "county")
    assert post_step(client, submission, "approve").status_code == 403
    body = post_step(client, submission, "submit").json()
    assert body["status"] == SubmissionStatus.SUBMITTED and body["submitted_by"] == "county"
    as_user(client, province, "other_city")
    assert post_step(client, submission, "approve").status_code == 404
    as_user(client, province, "city")
    assert post_step(client, submission, "return").status_code == 409  # no comment
    returned = post_step(client, submission, "return", "请核实").json()
    assert returned["status"] == SubmissionStatus.RETURNED
    as_user(client, province, "county")
    post_step(client, submission, "submit")
    as_user(client, province, "city")
    assert post_step(client, submission, "approve").json()["status"] == "city_approved"
    assert post_step(client, submission, "accept").status_code == 403
    as_user(client, province, "reviewer")
    assert post_step(client, submission, "accept").json()["status"] == "accepted"
    assert post_step(client, submission, "accept").status_code == 409
    as_user(client, province, "county")
    response = client.post(
        f"{API}/submissions/{submission.pk}/revision/",
        {"reason": "口径调整"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["status"] == "pending"


def test_submissions_list_is_restricted(client, province):
    as_user(client, province, "county")
    places = {row["place"] for row in client.get(f"{API}/submissions/").json()["results"]}
    assert places == {COUNTY}


def test_adjudication_by_the_province_only(client, province):
    users = province.users
    services.save_values(province.round, province.entries(COUNTY), acting_user=users["county"])
    services.save_values(
        province.round,
        province.entries(COUNTY, {**GOOD_VALUES, "schools": 50.0}),
        source=Source.THIRD_PARTY,
        acting_user=users["evaluator"],
    )
    url = f"{API}/rounds/{province.round.pk}/adjudications/"
    body = {"place": COUNTY, "indicator": "schools", "chosen_source": "self_check", "reason": "x"}
    as_user(client, province, "city")
    assert client.post(url, body, content_type="application/json").status_code == 403
    as_user(client, province, "province")
    discrepancies = client.get(
        f"{API}/rounds/{province.round.pk}/discrepancies/?exceeds=true"
    ).json()
    assert [(d["place"], d["indicator"], d["exceeds"]) for d in discrepancies] == [
        (COUNTY, "schools", True)
    ]
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["adopted_value"] == 40.0 and response.json()["decided_by"] == "province"
    no_reason = {**body, "reason": ""}
    assert client.post(url, no_reason, content_type="application/json").status_code == 400
    assert Adjudication.objects.count() == 1


def test_completeness_is_limited_to_the_reach(client, province):
    as_user(client, province, "city")
    body = client.get(f"{API}/rounds/{province.round.pk}/completeness/").json()
    assert {p["code"] for p in body["places"]} == {
        "360100",
        "360102",
        "360103",
        "360104",
        "360111",
        "360112",
    }
    rollup = {row["code"]: row for row in body["rollup"]}
    assert rollup["360100"]["places"] == 5 and rollup["360100"]["draft"] == 5
    assert {d["dimension"] for d in body["dimensions"]} == {"ecology", "health_comfort"}
    assert {d["department"] for d in body["departments"]} == {"housing", "education", "statistics"}
    bad = client.get(f"{API}/rounds/{province.round.pk}/completeness/?source=adopted")
    assert bad.status_code == 400


def test_schema_lists_the_check_step_endpoints(client, province):
    as_user(client, province, "province")
    schema = client.get("/api/schema/?format=json").json()
    for path in (
        "/api/collection/rounds/{id}/batch/",
        "/api/collection/rounds/{id}/completeness/",
        "/api/collection/rounds/{id}/adjudications/",
        "/api/collection/submissions/{id}/submit/",
        "/api/collection/submissions/{id}/return/",
    ):
        assert path in schema["paths"], path
