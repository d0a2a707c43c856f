"""Background jobs with progress: one registry of job functions, one way to start them.

A job function takes the :class:`~citycheck.core.models.Job` first and its parameters as
keywords, calls ``job.report(percent, message)`` as it goes and returns a JSON-able result.
A request identical to a job still queued or running (same kind, same parameters) joins
that job. A failed job says why in words when the error is one its kind expects
(``known_errors``); any other failure is logged with its traceback under the job's
reference, and the page gives a general sentence with that reference.

Where jobs run (:func:`jobs_mode`): on a Celery worker when a broker is configured;
otherwise ("database" mode, the embedded set-up) the job waits in the table until a
``citycheck worker`` process claims it (one conditional ``UPDATE``, so two workers never
run one job) — the web process never forks or starts threads for a job; tests run jobs
inline. A user has at most :data:`settings.CITYCHECK_JOBS_PER_USER` jobs queued or
running; a further request is refused (:class:`TooManyJobsError`: HTTP 429 on the API, a
message on the page). A job whose worker died is taken up again once
(:func:`recover_interrupted_jobs`), then failed with a sentence saying so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework.exceptions import Throttled

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
# A job whose worker died is run again this many times in all, then failed.
MAX_ATTEMPTS = 2


class TooManyJobsError(Throttled):
    """The user already has as many queued or running jobs as allowed. A DRF exception,
    so the API answers 429 with the message; the web pages show it as a message
    (:class:`citycheck.core.middleware.JobLimitMiddleware`)."""

    def __init__(self, limit: int):
        super().__init__(
            detail=gettext(
                "您已有 %(count)d 个后台任务在排队或运行（每人最多 %(count)d 个），"
                "请等其中一个完成后再开始新的任务。"
            )
            % {"count": limit}
        )
        self.limit = limit

    def __str__(self):
        return str(self.detail)


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
    """Create the job and have it run (see :func:`jobs_mode`).

    While an identical job (same kind and parameters) is queued or running, no second one
    starts: ``acting_user`` joins that job, which is returned. A user who already has
    ``CITYCHECK_JOBS_PER_USER`` active jobs gets :class:`TooManyJobsError`.
    """
    if kind not in JOB_FUNCTIONS:
        raise ValueError(f"unknown job kind {kind!r}; known: {sorted(JOB_FUNCTIONS)}")
    key = request_key(kind, parameters)
    with transaction.atomic():
        _give_up_silent_jobs(key)
        running = Job.objects.filter(key=key, status__in=Job.ACTIVE).first()
        if running is not None:
            return _join(running, acting_user)
        _check_limit(acting_user)
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
        _send_to_celery(job.pk)
    elif mode == "inline":
        run_job(job.pk)
        job.refresh_from_db()
    # "database": the job waits, queued, for a `citycheck worker` to claim it.
    return job


def _send_to_celery(job_pk: int) -> None:
    from .tasks import run_job_task

    transaction.on_commit(lambda: run_job_task.delay(job_pk))


def _check_limit(user) -> None:
    """Refuse a new job to a user who already has the allowed number queued or running
    (the user's row is locked meanwhile, so two requests at once cannot both pass)."""
    limit = getattr(settings, "CITYCHECK_JOBS_PER_USER", 3)
    if user is None or not limit:
        return
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
    if Job.objects.filter(created_by=user, status__in=Job.ACTIVE).count() >= limit:
        logger.warning("Job refused to user %s: %d active jobs already", user.pk, limit)
        raise TooManyJobsError(limit)


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
    """ "celery" when a broker is configured; otherwise ``CITYCHECK_JOBS_MODE``:
    "database" (queued for ``citycheck worker``, the default) or "inline" (tests)."""
    if settings.CELERY_BROKER_URL:
        return "celery"
    return getattr(settings, "CITYCHECK_JOBS_MODE", "database")


def worker_identity() -> str:
    """This process as a job's ``worker``: host, pid and the process's start time (so a
    pid reused by another process is not taken for the worker)."""
    import psutil

    started = int(psutil.Process().create_time())
    return f"{socket.gethostname()}:{os.getpid()}:{started}"


def _worker_alive(identity: str) -> bool | None:
    """Whether the worker named ``identity`` still runs; None when it runs on another
    host (this process cannot tell)."""
    import psutil

    host, _, rest = identity.partition(":")
    if host != socket.gethostname():
        return None
    try:
        pid, started = (int(part) for part in rest.split(":"))
        return int(psutil.Process(pid).create_time()) == started
    except (ValueError, psutil.Error):
        return False


def claim(job_pk: int, worker: str = "") -> bool:
    """Take the queued job for this process: one conditional update, so of two processes
    claiming it at once exactly one gets it."""
    now = timezone.now()
    return bool(
        Job.objects.filter(pk=job_pk, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING,
            started=now,
            last_report=now,
            worker=worker or worker_identity(),
            attempts=F("attempts") + 1,
        )
    )


def claim_next(worker: str) -> int | None:
    """Claim the oldest queued job; its id, or None when nothing waits."""
    while True:
        waiting = list(
            Job.objects.filter(status=Job.Status.QUEUED)
            .order_by("created", "pk")
            .values_list("pk", flat=True)[:20]
        )
        if not waiting:
            return None
        for pk in waiting:
            if claim(pk, worker):
                return pk


def recover_interrupted_jobs() -> list[int]:
    """Take up the running jobs whose worker has stopped (a process of this host that is
    gone, or any job silent for :data:`SILENCE_LIMIT`): each is queued again if it has
    run fewer than :data:`MAX_ATTEMPTS` times, else failed saying it was interrupted.
    Returns the ids queued again. A job's work is written in one transaction, so the
    killed attempt left nothing behind."""
    now = timezone.now()
    requeued = []
    for job in Job.objects.filter(status=Job.Status.RUNNING).exclude(worker=""):
        silent = job.last_report is None or job.last_report < now - SILENCE_LIMIT
        if _worker_alive(job.worker) is not False and not silent:
            continue
        running = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, worker=job.worker)
        if job.attempts < MAX_ATTEMPTS:
            with translation.override(job.language or settings.LANGUAGE_CODE):
                message = gettext("上次运行被中断，已重新排队")
            if running.update(status=Job.Status.QUEUED, worker="", progress=0, message=message):
                requeued.append(job.pk)
                logger.warning(
                    "Job %s (%s) requeued: its worker %s stopped (attempt %d)",
                    job.reference,
                    job.kind,
                    job.worker,
                    job.attempts,
                )
                if jobs_mode() == "celery":
                    _send_to_celery(job.pk)
            continue
        with translation.override(job.language or settings.LANGUAGE_CODE):
            error = gettext("任务已中断（运行它的进程已停止）")
        if running.update(status=Job.Status.FAILED, finished=now, error=error):
            logger.warning(
                "Job %s (%s) failed: interrupted %d times", job.reference, job.kind, job.attempts
            )
    return requeued


def requeue(job_pk: int) -> None:
    """Put a job this process was running back in the queue (the worker is stopping)."""
    Job.objects.filter(pk=job_pk, status=Job.Status.RUNNING).update(
        status=Job.Status.QUEUED, worker="", progress=0, attempts=F("attempts") - 1
    )


def run_job(job_pk: int) -> None:
    """Claim a queued job and run it to its end (a job no longer queued, e.g. given up as
    interrupted or claimed by another worker, is left alone)."""
    if claim(job_pk):
        execute(job_pk)


def execute(job_pk: int) -> None:
    """Run a job this process has claimed, recording success or the error, and log how
    long it took."""
    job = Job.objects.select_related("created_by").get(pk=job_pk)
    began = time.monotonic()
    with translation.override(job.language or settings.LANGUAGE_CODE), acting(job.created_by):
        try:
            result = JOB_FUNCTIONS[job.kind](job, **job.parameters)
        except Exception as exc:  # a failed job must say why on its page, whatever failed
            _record_failure(job, exc, time.monotonic() - began)
            return
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED, progress=100, finished=timezone.now(), result=result
    )
    duration = time.monotonic() - began
    logger.info(
        "Job %s (%s) succeeded in %.1f s",
        job.reference,
        job.kind,
        duration,
        extra={"job": job.reference, "job_kind": job.kind, "duration_s": round(duration, 3)},
    )


def _record_failure(job: Job, exc: Exception, duration: float) -> None:
    """Keep the message of an expected error for the page; log any other failure with its
    traceback under the job's reference and keep the traceback for administrators."""
    extra = {"job": job.reference, "job_kind": job.kind, "duration_s": round(duration, 3)}
    if isinstance(exc, COMMON_KNOWN_ERRORS + KNOWN_ERRORS.get(job.kind, ())):
        error = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        logger.warning(
            "Job %s (%s) failed after %.1f s: %s",
            job.reference,
            job.kind,
            duration,
            error,
            extra=extra,
        )
    else:
        error = ""
        logger.error(
            "Job %s (%s) failed after %.1f s",
            job.reference,
            job.kind,
            duration,
            exc_info=exc,
            extra=extra,
        )
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.FAILED,
        finished=timezone.now(),
        error=error,
        traceback=traceback.format_exc(),
    )
