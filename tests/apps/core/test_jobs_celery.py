"""Celery for real: a job queued on Redis is run by a real ``celery -A citycheck worker``
process (skipped when no Redis answers on 127.0.0.1:6379)."""

import subprocess
import sys
import time
import uuid

import pytest
import redis

from citycheck import celery_app
from citycheck.core import jobs
from citycheck.core.choices import Role
from citycheck.core.models import Job

from .test_worker_faults import worker_env  # noqa: F401  (fixture)

BROKER = "redis://127.0.0.1:6379/15"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # send_task always goes to the broker, whatever the test settings say.
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


@pytest.fixture
def broker(settings):
    settings.CITYCHECK_JOBS_MODE = "database"  # the job waits until we send it
    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    return BROKER


def test_the_package_loads_the_celery_app_with_the_job_task():
    celery_app.loader.import_default_modules()  # what a worker does at start
    assert celery_app.main == "citycheck"
    for task in ("citycheck.run_job", "citycheck.recover_jobs", "citycheck.run_periodic"):
        assert task in celery_app.tasks
    tasks = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert tasks == {"citycheck.run_periodic", "citycheck.recover_jobs"}


def test_a_real_celery_worker_runs_a_job_from_redis(small_province, broker, worker_env):  # noqa: F811
    database, env, _ = worker_env
    queue = f"citycheck-test-{uuid.uuid4().hex[:8]}"  # no other worker takes our task
    job = jobs.start_job(
        "collection.send_reminders",
        acting_user=small_province.users[Role.PROVINCE_ADMIN],
        today="2025-03-30",
    )
    assert job.status == Job.Status.QUEUED
    database.to_worker()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "citycheck",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--queues",
            queue,
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env={**env, "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with celery_app.connection_for_write(broker) as connection:
            celery_app.send_task(
                "citycheck.run_job", args=[job.pk], queue=queue, connection=connection
            )
        deadline = time.monotonic() + 60
        while database.job_status(job.pk) in Job.ACTIVE and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            time.sleep(0.2)
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    database.from_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, (job.traceback, errors.decode()[-2000:])
    assert job.attempts == 1 and job.worker.split(":")[1] == str(worker.pid)
    assert job.result is not None
