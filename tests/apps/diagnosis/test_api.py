"""Problem API: scoped lists with evidence, review action."""

from django.urls import reverse
from rest_framework.test import APIClient

from citycheck.core.choices import Role
from citycheck.diagnosis import services
from citycheck.diagnosis.models import Problem, ProblemStatus


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_problem_list_is_scoped_and_carries_evidence(province):
    services.run_diagnosis(province.open_round)
    url = reverse("diagnosis-api:problem-list")
    assert client_for().get(url).json()["count"] == 0  # nothing public
    assert client_for(province.users[Role.CITY_ADMIN]).get(url).json()["count"] == 0
    answer = (
        client_for(province.users[Role.PROVINCE_ADMIN]).get(url, {"disease": "waterlogging"}).json()
    )
    assert answer["count"] == 1
    problem = answer["results"][0]
    assert problem["place_name"] == "浔阳区" and problem["year"] == 2024
    assert problem["evidence"][0]["indicator"] == "waterlogging"
    assert problem["explanation"].startswith("浔阳区存在城市内涝风险")


def test_review_through_the_api(province):
    services.run_diagnosis(province.open_round)
    problem = Problem.objects.get(round=province.open_round, disease="waterlogging")
    url = reverse("diagnosis-api:problem-review", args=[problem.pk])
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    assert admin.post(url, {"status": "confirmed", "reason": ""}, format="json").status_code == 400
    answer = admin.post(url, {"status": "confirmed", "reason": "现场核实"}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == ProblemStatus.CONFIRMED
    other_city = client_for(province.users[Role.CITY_ADMIN])
    assert (
        other_city.post(url, {"status": "dismissed", "reason": "x"}, format="json").status_code
        == 404
    )
