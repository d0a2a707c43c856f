"""Per-user job limits: a user with CITYCHECK_JOBS_PER_USER jobs queued or running is
refused another — 429 with the reason on the API, the reason as a message on the page —
while joining an identical running job and other users' jobs are unaffected."""

import pytest
from django.test import Client
from django.urls import reverse

from citycheck.core import jobs
from citycheck.core.choices import Role
from citycheck.core.models import Job


@pytest.fixture
def queued_mode(settings, monkeypatch):
    """Jobs wait in the database for a worker (the embedded set-up), so they stay active."""
    settings.CITYCHECK_JOBS_MODE = "database"
    settings.CITYCHECK_JOBS_PER_USER = 3
    monkeypatch.setitem(jobs.JOB_FUNCTIONS, "test.ok", lambda job, **parameters: parameters)


def fill_quota(user):
    return [jobs.start_job("test.ok", acting_user=user, n=n) for n in range(3)]


def test_a_fourth_job_is_refused_but_joining_and_other_users_are_not(small_province, queued_mode):
    admin = small_province.users[Role.PROVINCE_ADMIN]
    other = small_province.users[Role.CITY_ADMIN]
    started = fill_quota(admin)
    assert all(job.status == Job.Status.QUEUED for job in started)
    with pytest.raises(jobs.TooManyJobsError, match="最多 3 个"):
        jobs.start_job("test.ok", acting_user=admin, n=99)
    assert Job.objects.filter(created_by=admin).count() == 3  # nothing half-created
    # An identical request joins the running job: no new job, so no refusal.
    assert jobs.start_job("test.ok", acting_user=admin, n=0).pk == started[0].pk
    assert jobs.start_job("test.ok", acting_user=other, n=5).status == Job.Status.QUEUED
    # Once one of the three ends, the user may start another.
    Job.objects.filter(pk=started[0].pk).update(status=Job.Status.SUCCEEDED)
    assert jobs.start_job("test.ok", acting_user=admin, n=99).status == Job.Status.QUEUED


def test_the_api_answers_429_with_the_reason(small_province, queued_mode):
    admin = small_province.users[Role.PROVINCE_ADMIN]
    fill_quota(admin)
    client = Client()
    client.force_login(admin)
    answer = client.post(
        "/api/diagnosis/problems/run/",
        {"round": small_province.open_round.pk},
        content_type="application/json",
    )
    assert answer.status_code == 429
    assert "最多 3 个" in answer.json()["detail"]
    assert not Job.objects.filter(kind="diagnosis.run").exists()


def test_a_page_goes_back_with_the_reason_as_a_message(small_province, queued_mode):
    admin = small_province.users[Role.PROVINCE_ADMIN]
    fill_quota(admin)
    client = Client()
    client.force_login(admin)
    page = reverse("diagnosis:problem_list")
    answer = client.post(
        reverse("diagnosis:diagnosis_run"),
        {"round": small_province.open_round.pk},
        HTTP_REFERER=f"http://testserver{page}",
        follow=True,
    )
    assert answer.status_code == 200
    assert answer.redirect_chain[0] == (f"http://testserver{page}", 302)
    assert "最多 3 个" in answer.content.decode()
    assert not Job.objects.filter(kind="diagnosis.run").exists()
    # A referer on another site is not followed.
    answer = client.post(
        reverse("diagnosis:diagnosis_run"),
        {"round": small_province.open_round.pk},
        HTTP_REFERER="https://evil.example/",
    )
    assert answer.status_code == 302 and answer.url == reverse("home")
