"""``citycheck worker``: claims queued jobs (one worker per job), runs them one at a time,
calls the periodic tasks, and takes up the jobs of a worker that died."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from citycheck.core import jobs
from citycheck.core.choices import Role
from citycheck.core.models import Job


@pytest.fixture
def queued(settings, monkeypatch):
    settings.CITYCHECK_JOBS_MODE = "database"
    monkeypatch.setitem(jobs.JOB_FUNCTIONS, "test.ok", lambda job, **parameters: parameters)


def dead_worker() -> str:
    """The identity of a process of this host that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = jobs.worker_identity().split(":")[0]
    import psutil

    started = int(psutil.Process(process.pid).create_time())
    process.wait()
    return f"{identity}:{process.pid}:{started}"


def test_a_queued_job_waits_for_the_worker_which_runs_it(small_province, queued):
    admin = small_province.users[Role.PROVINCE_ADMIN]
    first = jobs.start_job("test.ok", acting_user=admin, n=1)
    second = jobs.start_job("test.ok", acting_user=admin, n=2)
    assert first.status == second.status == Job.Status.QUEUED  # not run by the web process
    call_command("worker", once=True, schedule_interval=0)
    for job in (first, second):
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED and job.attempts == 1
        assert job.worker.startswith(jobs.worker_identity())
    assert first.result == {"n": 1} and second.result == {"n": 2}


def test_one_job_is_claimed_by_one_worker(small_province, queued):
    job = jobs.start_job("test.ok", n=1)
    assert jobs.claim(job.pk, "host:1:1") is True
    assert jobs.claim(job.pk, "host:2:2") is False
    assert jobs.claim_next("host:2:2") is None
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.worker == "host:1:1"


def test_the_job_of_a_dead_worker_reruns_once_then_fails_with_the_reason(small_province, queued):
    job = jobs.start_job("test.ok", n=1)
    gone = dead_worker()
    jobs.claim(job.pk, gone)
    assert jobs.recover_interrupted_jobs() == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.worker == "" and job.attempts == 1
    assert job.message == "上次运行被中断，已重新排队"
    jobs.claim(job.pk, gone)  # the second attempt's worker dies too
    assert jobs.recover_interrupted_jobs() == []
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 2
    assert job.failure_message == (
        "任务未能完成。原因：任务已中断（运行它的进程已停止）。请按此处理后重新开始任务。"
    )


def test_a_live_worker_keeps_its_job_unless_silent_too_long(small_province, queued):
    job = jobs.start_job("test.ok", n=1)
    jobs.claim(job.pk, jobs.worker_identity())  # this process: alive
    assert jobs.recover_interrupted_jobs() == []
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING
    other_host = "elsewhere:1:1"
    Job.objects.filter(pk=job.pk).update(worker=other_host)
    assert jobs.recover_interrupted_jobs() == []  # another host's worker: cannot tell
    Job.objects.filter(pk=job.pk).update(last_report=timezone.now() - timedelta(hours=1))
    assert jobs.recover_interrupted_jobs() == [job.pk]


def test_the_worker_runs_the_periodic_tasks(small_province, queued, monkeypatch):
    from citycheck.core import schedule

    called = []
    monkeypatch.setattr(schedule, "run_due", lambda now=None: called.append(now) or [])
    call_command("worker", once=True)
    assert called == [None]
