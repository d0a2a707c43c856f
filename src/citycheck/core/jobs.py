"""Background jobs with progress: one registry of job functions, one way to start them.

A job function takes the :class:`~citycheck.core.models.Job` first and its parameters as
keywords, calls ``job.report(percent, message)`` as it goes and returns a JSON-able result.
A request identical to a job still queued or running (same kind, same parameters) joins
that job. A failed job says why in words when the error is one its kind expects
(``known_errors``); any other failure is logged with its traceback under the job's
reference, and the page gives a general sentence with that reference.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import traceback
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from .context import acting
from .models import Job

logger = logging.getLogger(__name__)

JOB_FUNCTIONS: dict[str, Callable] = {}
# Job kind → the page a finished job's result is shown on, from the result.
RESULT_URLS: dict[str, Callable[[dict], str]] = {}
# Job kind → the exceptions whose message tells the user what went wrong.
KNOWN_ERRORS: dict[str, tuple[type[Exception], ...]] = {}
# Errors every kind may raise on purpose, with messages written for users.
COMMON_KNOWN_ERRORS = (PermissionDenied, ValidationError)
# A queued or running job that reported nothing for this long is taken as interrupted
# (its worker or web process ended): an identical request then starts a new one.
SILENCE_LIMIT = timedelta(minutes=30)


def job_function(
    kind: str,
    *,
    result_url: Callable[[dict], str] | None = None,
    known_errors: tuple[type[Exception], ...] = (),
):
    """Register ``func`` as the job named ``kind``; ``result_url(result)`` names the page
    its job page links to once it has succeeded; the message of an exception of
    ``known_errors`` is shown to the user when the job fails with it."""

    def register(func):
        JOB_FUNCTIONS[kind] = func
        if result_url is not None:
            RESULT_URLS[kind] = result_url
        KNOWN_ERRORS[kind] = known_errors
        return func

    return register


def job_result_url(job: Job) -> str:
    """Where the result of a succeeded job is shown; empty while there is none."""
    if not job.result or job.kind not in RESULT_URLS:
        return ""
    return RESULT_URLS[job.kind](job.result)


def request_key(kind: str, parameters: dict) -> str:
    """The digest that makes two requests for a job identical: kind and parameters."""
    text = json.dumps([kind, parameters], sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def start_job(kind: str, *, acting_user=None, **parameters) -> Job:
    """Create the job and run it in the background (Celery, a thread, or inline in tests).

    While an identical job (same kind and parameters) is queued or running, no second one
    starts: ``acting_user`` joins that job, which is returned.
    """
    if kind not in JOB_FUNCTIONS:
        raise ValueError(f"unknown job kind {kind!r}; known: {sorted(JOB_FUNCTIONS)}")
    key = request_key(kind, parameters)
    with transaction.atomic():
        _give_up_silent_jobs(key)
        running = Job.objects.filter(key=key, status__in=Job.ACTIVE).first()
        if running is not None:
            return _join(running, acting_user)
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    kind=kind,
                    key=key,
                    parameters=parameters,
                    created_by=acting_user,
                    language=translation.get_language() or settings.LANGUAGE_CODE,
                )
        except IntegrityError:  # an identical request created it a moment ago
            return _join(Job.objects.get(key=key, status__in=Job.ACTIVE), acting_user)
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


def _join(job: Job, user) -> Job:
    if user is not None and user.pk != job.created_by_id:
        job.joined_by.add(user)
    return job


def _give_up_silent_jobs(key: str) -> None:
    """Mark as failed the active jobs of ``key`` that have not been heard of for
    :data:`SILENCE_LIMIT`: their process ended without saying so."""
    now = timezone.now()
    silent = Job.objects.filter(key=key, status__in=Job.ACTIVE).exclude(
        last_report__gte=now - SILENCE_LIMIT
    )
    for job in silent.filter(created__lt=now - SILENCE_LIMIT):
        with translation.override(job.language or settings.LANGUAGE_CODE):
            error = gettext("任务已中断（运行它的进程已停止）")
        Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, finished=now, error=error)
        logger.warning("Job %s (%s) given up: silent since %s", job.reference, job.kind, now)


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
    """Run a queued job to its end, recording success or the error (a job no longer
    queued, e.g. given up as interrupted, is left alone)."""
    job = Job.objects.select_related("created_by").get(pk=job_pk)
    now = timezone.now()
    claimed = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started=now, last_report=now
    )
    if not claimed:
        return
    with translation.override(job.language or settings.LANGUAGE_CODE), acting(job.created_by):
        try:
            result = JOB_FUNCTIONS[job.kind](job, **job.parameters)
        except Exception as exc:  # a failed job must say why on its page, whatever failed
            _record_failure(job, exc)
            return
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED, progress=100, finished=timezone.now(), result=result
    )


def _record_failure(job: Job, exc: Exception) -> None:
    """Keep the message of an expected error for the page; log any other failure with its
    traceback under the job's reference and keep the traceback for administrators."""
    if isinstance(exc, COMMON_KNOWN_ERRORS + KNOWN_ERRORS.get(job.kind, ())):
        error = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        logger.warning("Job %s (%s) failed: %s", job.reference, job.kind, error)
    else:
        error = ""
        logger.error("Job %s (%s) failed", job.reference, job.kind, exc_info=exc)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.FAILED,
        finished=timezone.now(),
        error=error,
        traceback=traceback.format_exc(),
    )
