"""Background jobs: a failure is told in the page's language without a traceback, and an
identical request joins the job that is still running."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from citycheck.core import jobs
from citycheck.core.choices import Role
from citycheck.core.models import Job


class RefusedError(ValueError):
    """An error the test job expects, with a message for users."""


def failing_job(job, *, reason: str):
    job.report(30, "halfway")
    if reason == "known":
        raise RefusedError(_("只有省级管理员可以修改体检轮次状态。"))
    raise KeyError("internal_column_name")


@pytest.fixture
def test_jobs(monkeypatch):
    monkeypatch.setitem(jobs.JOB_FUNCTIONS, "test.fail", failing_job)
    monkeypatch.setitem(jobs.KNOWN_ERRORS, "test.fail", (RefusedError,))
    monkeypatch.setitem(jobs.JOB_FUNCTIONS, "test.ok", lambda job, **parameters: parameters)


def page_of(job, user, language="zh-hans"):
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    answer = client.get(reverse("job", args=[job.pk]))
    assert answer.status_code == 200
    return answer.content.decode()


def test_an_unexpected_failure_gives_a_reference_and_logs_the_traceback(
    small_province, test_jobs, caplog
):
    admin = small_province.users[Role.PROVINCE_ADMIN]
    with caplog.at_level(logging.ERROR, logger="citycheck.core.jobs"):
        job = jobs.start_job("test.fail", acting_user=admin, reason="bug")
    assert job.status == Job.Status.FAILED and job.error == ""
    assert "KeyError" in job.traceback and "internal_column_name" in job.traceback
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"JOB-{job.pk}" in logged.getMessage() and logged.exc_info[0] is KeyError
    for language, sentence in (
        ("zh-hans", "任务因系统内部错误未能完成"),
        ("en", "The job could not be completed because of an internal error"),
    ):
        page = page_of(job, admin, language)
        assert sentence in page and f"JOB-{job.pk}" in page
        assert "Traceback" not in page and "KeyError" not in page
        assert "internal_column_name" not in page


def test_a_known_failure_says_what_went_wrong_in_the_language_of_who_started_it(
    small_province, test_jobs
):
    admin = small_province.users[Role.PROVINCE_ADMIN]
    job = jobs.start_job("test.fail", acting_user=admin, reason="known")
    assert job.status == Job.Status.FAILED and job.error == "只有省级管理员可以修改体检轮次状态。"
    page = page_of(job, admin)
    assert (
        "任务未能完成。原因：只有省级管理员可以修改体检轮次状态。请按此处理后重新开始任务。" in page
    )
    assert "Traceback" not in page and "RefusedError" not in page
    with translation.override("en"):
        english = jobs.start_job("test.fail", acting_user=admin, reason="known")
    assert english.error == "Only a provincial administrator can change the status of a round."
    page = page_of(english, admin, "en")
    assert "Reason: Only a provincial administrator can change the status of a round." in page


def test_an_identical_request_joins_the_running_job(small_province, test_jobs):
    admin = small_province.users[Role.PROVINCE_ADMIN]
    reviewer = small_province.users[Role.PROVINCE_REVIEWER]
    county = small_province.users[Role.COUNTY_ADMIN]
    running = Job.objects.create(
        kind="test.ok",
        key=jobs.request_key("test.ok", {"year": 2024}),
        parameters={"year": 2024},
        status=Job.Status.RUNNING,
        created_by=admin,
        last_report=timezone.now(),
    )
    joined = jobs.start_job("test.ok", acting_user=reviewer, year=2024)
    assert joined == running and Job.objects.count() == 1
    assert "运行中" in page_of(running, reviewer)
    client = Client()
    client.force_login(county)
    assert client.get(reverse("job", args=[running.pk])).status_code == 404
    other = jobs.start_job("test.ok", acting_user=reviewer, year=2023)
    assert other != running and other.status == Job.Status.SUCCEEDED
    assert other.result == {"year": 2023}


def test_a_silent_job_is_given_up_and_the_request_starts_a_new_one(small_province, test_jobs):
    admin = small_province.users[Role.PROVINCE_ADMIN]
    long_ago = timezone.now() - jobs.SILENCE_LIMIT - timedelta(minutes=1)
    silent = Job.objects.create(
        kind="test.ok",
        key=jobs.request_key("test.ok", {"year": 2024}),
        parameters={"year": 2024},
        status=Job.Status.RUNNING,
        created_by=admin,
        last_report=long_ago,
    )
    Job.objects.filter(pk=silent.pk).update(created=long_ago)
    fresh = jobs.start_job("test.ok", acting_user=admin, year=2024)
    silent.refresh_from_db()
    assert fresh != silent and fresh.status == Job.Status.SUCCEEDED
    assert silent.status == Job.Status.FAILED and "中断" in silent.failure_message
    jobs.run_job(silent.pk)  # a worker that picks it up late leaves it alone
    silent.refresh_from_db()
    assert silent.status == Job.Status.FAILED
