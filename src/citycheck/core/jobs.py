"""Background jobs with progress: one registry of job functions, one way to start them.

A job function takes the :class:`~citycheck.core.models.Job` first and its parameters as
keywords, calls ``job.report(percent, message)`` as it goes and returns a JSON-able result.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from .context import acting
from .models import Job

JOB_FUNCTIONS: dict[str, Callable] = {}
# Job kind → the page a finished job's result is shown on, from the result.
RESULT_URLS: dict[str, Callable[[dict], str]] = {}


def job_function(kind: str, *, result_url: Callable[[dict], str] | None = None):
    """Register ``func`` as the job named ``kind``; ``result_url(result)`` names the page
    its job page links to once it has succeeded."""

    def register(func):
        JOB_FUNCTIONS[kind] = func
        if result_url is not None:
            RESULT_URLS[kind] = result_url
        return func

    return register


def job_result_url(job: Job) -> str:
    """Where the result of a succeeded job is shown; empty while there is none."""
    if not job.result or job.kind not in RESULT_URLS:
        return ""
    return RESULT_URLS[job.kind](job.result)


def start_job(kind: str, *, acting_user=None, **parameters) -> Job:
    """Create the job and run it in the background (Celery, a thread, or inline in tests)."""
    if kind not in JOB_FUNCTIONS:
        raise ValueError(f"unknown job kind {kind!r}; known: {sorted(JOB_FUNCTIONS)}")
    job = Job.objects.create(kind=kind, parameters=parameters, created_by=acting_user)
    mode = jobs_mode()
    if mode == "celery":
        from .tasks import run_job_task

        transaction.on_commit(lambda: run_job_task.delay(job.pk))
    elif mode == "thread":
        transaction.on_commit(
            lambda: threading.Thread(target=_run_in_thread, args=(job.pk,), daemon=True).start()
        )
    else:
        run_job(job.pk)
        job.refresh_from_db()
    return job


def jobs_mode() -> str:
    if settings.CELERY_BROKER_URL:
        return "celery"
    return getattr(settings, "CITYCHECK_JOBS_MODE", "thread")


def _run_in_thread(job_pk: int) -> None:
    try:
        run_job(job_pk)
    finally:
        close_old_connections()


def run_job(job_pk: int) -> None:
    """Run a queued job to its end, recording success or the error."""
    job = Job.objects.select_related("created_by").get(pk=job_pk)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started=timezone.now())
    try:
        with acting(job.created_by):
            result = JOB_FUNCTIONS[job.kind](job, **job.parameters)
    except Exception as exc:  # a failed job must say why on its page, whatever failed
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            finished=timezone.now(),
            error=f"{exc}\n\n{traceback.format_exc(limit=5)}",
        )
        return
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED, progress=100, finished=timezone.now(), result=result
    )
