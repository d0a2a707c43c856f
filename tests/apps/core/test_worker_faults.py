"""Faults: a worker killed (SIGKILL) in the middle of an assessment, a batch upload and a
report archive leaves nothing half-written, and the next worker reruns each job to its end.

The worker is a real ``citycheck worker`` process on the test's database (PostgreSQL: the
test database itself; SQLite: the in-memory test database copied to a file and back). A
hook in the worker process pauses each job's first attempt once it has written part of its
work — inside the job's transaction, or in the middle of the archive's zip — and says so
through a marker file; the test then kills the process.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from django.db import connection

from citycheck.assessment.models import Release
from citycheck.collection.models import RoundStatus, Value
from citycheck.core import jobs
from citycheck.core.choices import Role
from citycheck.core.models import Job
from citycheck.reports import services as reports
from citycheck.testing import build_round
from tests.apps.assessment.conftest import method, province  # noqa: F401
from tests.apps.reports.conftest import draft_release, published_release  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

# Run in the worker process: pause a job's first attempt part-way, then run the worker.
PAUSING_WORKER = r"""
import pathlib, sys, time, zipfile
import django
django.setup()
from django.db.backends.signals import connection_created
from citycheck.core import jobs
from citycheck.core.management.commands import worker
from citycheck.core.models import Job

marker = pathlib.Path(sys.argv[1])
state = {"first": False, "writes": 0, "kind": ""}

def pause(where):
    if state["first"]:
        marker.write_text(f"{state['kind']}:{where}")
        time.sleep(600)

execute = jobs.execute
def pausing_execute(pk):
    job = Job.objects.get(pk=pk)
    state["first"], state["kind"] = job.attempts == 1, job.kind
    state["writes"] = 0
    return execute(pk)
jobs.execute = pausing_execute

def writes(run, sql, params, many, context):
    result = run(sql, params, many, context)
    words = sql.lstrip().split(None, 3)
    if (
        context["connection"].in_atomic_block
        and words[0].upper() in ("INSERT", "UPDATE", "DELETE")
        and "core_job" not in sql
    ):
        state["writes"] += 1
        if state["writes"] == 3:
            pause("sql")
    return result
connection_created.connect(
    lambda connection, **kw: connection.execute_wrappers.append(writes), weak=False
)

writestr = zipfile.ZipFile.writestr
def pausing_writestr(self, *args, **kwargs):
    writestr(self, *args, **kwargs)
    pause("zip")
zipfile.ZipFile.writestr = pausing_writestr

from django.core.management import call_command
call_command("worker", once=True, schedule_interval=0, poll=0.2)
"""


class SharedDatabase:
    """The test's database as a worker process sees it."""

    def __init__(self, folder):
        self.sqlite = connection.vendor == "sqlite"
        self.file = folder / "worker.sqlite3"
        if self.sqlite:
            self.url = f"sqlite:///{self.file}"
        else:
            settings = connection.settings_dict
            self.url = (
                f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
                f"{settings['PORT'] or 5432}/{settings['NAME']}"
            )

    def to_worker(self):
        if self.sqlite:
            connection.ensure_connection()
            with sqlite3.connect(self.file) as target:
                connection.connection.backup(target)

    def job_status(self, pk: int) -> str:
        """The job's status as the worker's database has it now."""
        if not self.sqlite:
            return Job.objects.get(pk=pk).status
        with sqlite3.connect(self.file) as database:
            return database.execute("SELECT status FROM core_job WHERE id = ?", [pk]).fetchone()[0]

    def from_worker(self):
        if self.sqlite:
            connection.ensure_connection()
            source = sqlite3.connect(self.file)
            source.backup(connection.connection)
            source.close()


@pytest.fixture
def worker_env(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CITYCHECK_JOBS_MODE = "database"
    database = SharedDatabase(tmp_path)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CELERY_BROKER_URL", "DATABASE_URL", "PYTEST_XDIST_WORKER")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="citycheck.settings.dev",
        DATABASE_URL=database.url,
        SECRET_KEY=settings.SECRET_KEY,
        CITYCHECK_VAR_DIR=str(tmp_path),
        CITYCHECK_LOG_LEVEL="WARNING",
    )
    return database, env, tmp_path


def run_worker_until_paused(database, env, folder, timeout=60):
    """Start a pausing worker; when a job stops part-way, kill it (SIGKILL). Returns
    "<job kind>:<sql or zip>" of the pause, or None if the worker ran out of jobs."""
    database.to_worker()
    marker = folder / "paused"
    marker.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSING_WORKER, str(marker)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    where = marker.read_text() if marker.exists() else None
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    _, errors = process.communicate()
    assert where is not None or process.returncode == 0, errors.decode()[-3000:]
    database.from_worker()
    return where


def test_killed_mid_job_nothing_is_half_written_and_the_next_worker_reruns_it(
    province,  # noqa: F811
    method,  # noqa: F811
    published_release,  # noqa: F811
    worker_env,
):
    database, env, folder = worker_env
    admin = province.users[Role.PROVINCE_ADMIN]
    county = province.users[Role.COUNTY_ADMIN]
    open_round = build_round(province.system, province.places, year=2025, status=RoundStatus.OPEN)
    releases_before = Release.objects.count()
    values_before = Value.objects.filter(round=open_round).count()
    records = [
        {"place": county.place.code, "indicator": code, "value": number}
        for code, number in (("green_space", 13.5), ("built_density", 9.5), ("waterlogging", 1))
    ]
    from citycheck.assessment.services import start_assessment

    assessment = start_assessment(province.open_round, method, acting_user=admin)
    upload = jobs.start_job(
        "collection.submit_batch",
        acting_user=county,
        round_id=open_round.pk,
        records=records,
        source="self_check",
    )
    archive = reports.start_render_all(published_release, ["html"], acting_user=admin, workers=1)
    media = folder / "media"

    # 1. Killed during the assessment: no release, no result row.
    assert run_worker_until_paused(database, env, folder) == "assessment.run:sql"
    assessment.refresh_from_db()
    assert assessment.status == Job.Status.RUNNING and assessment.attempts == 1
    assert Release.objects.count() == releases_before

    # 2. The next worker reruns it to its end, then is killed during the upload.
    assert run_worker_until_paused(database, env, folder) == "collection.submit_batch:sql"
    assessment.refresh_from_db()
    assert assessment.status == Job.Status.SUCCEEDED and assessment.attempts == 2
    release = Release.objects.get(pk=assessment.result["release"])
    assert release.results.exists()
    assert Value.objects.filter(round=open_round).count() == values_before

    # 3. The next one finishes the upload (all three values), then is killed mid-archive.
    assert run_worker_until_paused(database, env, folder) == "reports.render_all:zip"
    upload.refresh_from_db()
    assert upload.status == Job.Status.SUCCEEDED and upload.result["records"] == 3
    stored = Value.objects.filter(round=open_round, place=county.place, source="self_check")
    assert sorted(stored.values_list("indicator__code", "value")) == [
        ("built_density", 9.5),
        ("green_space", 13.5),
        ("waterlogging", 1.0),
    ]
    assert not list(media.rglob("*.zip"))  # a half-written archive is never offered

    # 4. The last one finishes the archive and stops: the queue is empty.
    assert run_worker_until_paused(database, env, folder) is None
    archive.refresh_from_db()
    assert archive.status == Job.Status.SUCCEEDED and archive.attempts == 2
    assert [Path(archive.result["archive"])] == list(media.rglob("*.zip"))
    with zipfile.ZipFile(archive.result["archive"]) as packed:
        assert packed.testzip() is None and len(packed.namelist()) == 5
    assert not Job.objects.filter(status__in=Job.ACTIVE).exists()
