"""The read-only API: restricted to the reach like the pages; a place's assessment
scores only once issued; selected cases public."""

import pytest
from django.test import Client

from citycheck.core.choices import Role
from citycheck.supervision import appraisals, cases, plans
from tests.apps.supervision.test_cases import png

pytestmark = pytest.mark.django_db


def test_lists_follow_the_reach(small_province, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    city, admin = small_province.users[Role.CITY_ADMIN], small_province.users[Role.PROVINCE_ADMIN]
    plan = plans.save_plan(
        small_province.places["city"],
        title="方案",
        start_year=2021,
        end_year=2025,
        acting_user=city,
    )
    plans.set_target(plan, indicator="green_space", year=2025, value=50, acting_user=city)
    client = Client()
    client.force_login(small_province.users[Role.COUNTY_ADMIN])
    assert client.get("/api/supervision/plans/").json()["count"] == 0  # the city's plan is above it
    client.force_login(city)
    (listed,) = client.get("/api/supervision/plans/").json()["results"]
    assert listed["targets"][0]["indicator"] == "green_space"

    appraisal = appraisals.compute_appraisal(2024, acting_user=admin)
    assert client.get("/api/supervision/appraisal-scores/").json()["count"] == 0  # a draft
    client.force_login(admin)
    assert client.get("/api/supervision/appraisal-totals/").json()["count"] == 6
    appraisal.status = "issued"
    appraisal.save()
    client.force_login(city)
    scores = client.get("/api/supervision/appraisal-scores/").json()["results"]
    assert {s["place_code"] for s in scores} == {"360100", "360102", "360103"}

    case = cases.save_case(
        small_province.places["city"],
        year=2024,
        title="案例",
        case_type="green",
        summary="s",
        acting_user=city,
    )
    anonymous = Client()
    assert anonymous.get("/api/supervision/cases/").json()["count"] == 0
    cases.attach_file(case, name="a.png", content=png(), acting_user=city)
    cases.submit_case(case, acting_user=city)
    reviewer = small_province.users[Role.PROVINCE_REVIEWER]
    cases.review_case(case, score=90, acting_user=reviewer)
    cases.shortlist(2024, count=1, acting_user=reviewer)
    case.refresh_from_db()
    cases.decide(case, selected=True, note="好", acting_user=reviewer)
    assert anonymous.get(f"/api/supervision/cases/{case.pk}/").json()["title"] == "案例"
    assert anonymous.get("/api/supervision/plans/").json()["count"] == 0
