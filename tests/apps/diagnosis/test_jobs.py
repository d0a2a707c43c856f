"""Diagnosis and re-check started from the web and the API as background jobs: what they
write, who may start them, the job page, and joining a job that is still running."""

from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from citycheck.accounts.models import User
from citycheck.core.choices import Role
from citycheck.core.jobs import request_key
from citycheck.core.models import ChangeRecord, Job
from citycheck.diagnosis import services
from citycheck.diagnosis.models import Problem, RecheckStatus


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def problems_of(round_):
    return sorted((p.place.name_zh, p.disease) for p in round_.problems.select_related("place"))


def test_province_admin_diagnoses_a_round_from_the_problem_list(province):
    admin = province.users[Role.PROVINCE_ADMIN]
    client = client_for(admin)
    page = client.get(reverse("diagnosis:problem_list")).content.decode()
    assert 'id="diagnosis-run"' in page and "运行诊断" in page
    answer = client.post(reverse("diagnosis:diagnosis_run"), {"round": province.open_round.pk})
    job = Job.objects.get(kind="diagnosis.run")
    assert answer.status_code == 302 and answer["Location"] == reverse("job", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED and job.created_by == admin
    assert problems_of(province.open_round) == [
        ("浔阳区", "lack_of_green_space"),
        ("浔阳区", "waterlogging"),
    ]
    assert job.result == {"round": province.open_round.pk, "year": 2024, "problems": 2, "places": 1}
    event = ChangeRecord.objects.get(event="diagnosed")
    assert event.user == admin and event.after["problems"] == 2
    job_page = client.get(reverse("job", args=[job.pk])).content.decode()
    result_url = reverse("diagnosis:problem_list") + "?year=2024"
    assert "已完成" in job_page and f'href="{result_url}"' in job_page
    listed = client.get(result_url).content.decode()
    assert "城市内涝" in listed and "绿地不足" in listed


def test_province_admin_rechecks_the_earlier_round_from_the_recheck_page(province):
    services.run_diagnosis(province.published_round)  # 2023: 东湖区 waterlogged
    admin = province.users[Role.PROVINCE_ADMIN]
    client = client_for(admin)
    page = client.get(reverse("diagnosis:recheck")).content.decode()
    assert 'id="recheck-run"' in page and "运行复查" in page
    answer = client.post(reverse("diagnosis:recheck_run"), {"round": province.open_round.pk})
    job = Job.objects.get(kind="diagnosis.recheck")
    assert answer["Location"] == reverse("job", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["rechecked"] == 1 and job.result["conclusions"] == {"resolved": 1}
    earlier = Problem.objects.get(round=province.published_round)
    assert earlier.recheck_status == RecheckStatus.RESOLVED and earlier.recheck_year == 2024
    assert problems_of(province.open_round)  # the 2024 round was diagnosed on the way
    job_page = client.get(reverse("job", args=[job.pk])).content.decode()
    result_url = reverse("diagnosis:recheck") + "?year=2024"
    assert f'href="{result_url}"' in job_page
    assert "已解决" in client.get(result_url).content.decode()


def test_a_round_with_nothing_before_it_cannot_be_rechecked(province):
    client = client_for(province.users[Role.PROVINCE_ADMIN])
    assert 'id="recheck-run"' not in client.get(reverse("diagnosis:recheck")).content.decode()
    answer = client.post(
        reverse("diagnosis:recheck_run"), {"round": province.open_round.pk}, follow=True
    )
    assert "2024 年之前没有做过诊断的轮次" in answer.content.decode()
    assert not Job.objects.exists()


def test_users_below_the_province_never_see_the_buttons_and_are_refused(province):
    services.run_diagnosis(province.published_round)
    for role in (Role.COUNTY_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_REVIEWER):
        client = client_for(province.users[role])
        assert "diagnosis-run" not in client.get(reverse("diagnosis:problem_list")).content.decode()
        assert "recheck-run" not in client.get(reverse("diagnosis:recheck")).content.decode()
        for name in ("diagnosis:diagnosis_run", "diagnosis:recheck_run"):
            answer = client.post(reverse(name), {"round": province.open_round.pk})
            assert answer.status_code == 403, (role, name)
    assert not Job.objects.exists() and not province.open_round.problems.exists()
    assert Client().post(reverse("diagnosis:diagnosis_run")).status_code == 302  # to login


def test_a_second_request_joins_the_running_diagnosis(province):
    admin = province.users[Role.PROVINCE_ADMIN]
    colleague = User.objects.create_user(
        username="province_admin_2", role=Role.PROVINCE_ADMIN, place=admin.place
    )
    parameters = {"round_id": province.open_round.pk}
    running = Job.objects.create(
        kind="diagnosis.run",
        key=request_key("diagnosis.run", parameters),
        parameters=parameters,
        status=Job.Status.RUNNING,
        created_by=admin,
        progress=10,
    )
    client = client_for(colleague)
    answer = client.post(reverse("diagnosis:diagnosis_run"), {"round": province.open_round.pk})
    assert answer["Location"] == reverse("job", args=[running.pk])
    assert Job.objects.count() == 1 and not province.open_round.problems.exists()
    page = client.get(reverse("job", args=[running.pk])).content.decode()
    assert "运行中" in page and reverse("job_progress", args=[running.pk]) in page


def test_diagnosis_and_recheck_through_the_api(province):
    url = reverse("diagnosis-api:problem-run")
    county = APIClient()
    county.force_authenticate(province.users[Role.COUNTY_ADMIN])
    assert county.post(url, {"round": province.open_round.pk}, format="json").status_code == 403
    admin = APIClient()
    admin.force_authenticate(province.users[Role.PROVINCE_ADMIN])
    assert admin.post(url, {"round": "x"}, format="json").status_code == 400
    answer = admin.post(url, {"round": province.published_round.pk}, format="json")
    assert answer.status_code == 202 and answer.json()["status"] == "succeeded"
    assert problems_of(province.published_round) == [("东湖区", "waterlogging")]
    recheck = reverse("diagnosis-api:problem-recheck")
    refused = admin.post(recheck, {"round": province.published_round.pk}, format="json")
    assert refused.status_code == 400 and "没有可复查的问题" in refused.json()["round"]
    answer = admin.post(recheck, {"round": province.open_round.pk}, format="json")
    assert answer.status_code == 202
    status = admin.get(reverse("assessment-api:job-detail", args=[answer.json()["id"]])).json()
    assert status["status"] == "succeeded" and status["result"]["conclusions"] == {"resolved": 1}
