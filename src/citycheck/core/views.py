"""The page of a background job and the progress partial it polls, for every kind of job
(the job's kind says where its result is shown: :func:`citycheck.core.jobs.job_result_url`)."""

import logging
import shutil
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found

from .jobs import job_result_url
from .middleware import drop_broken_connections
from .models import Job

logger = logging.getLogger(__name__)


def _visible_job(request, pk: int) -> Job:
    """The job, if the user started or joined it (see :meth:`Job.visible_to`)."""
    job = get_object_or_404(Job, pk=pk)
    if not job.visible_to(request.user):
        raise Http404
    return job


def _context(job: Job) -> dict:
    return {
        "job": job,
        "progress_url": reverse("job_progress", args=[job.pk]),
        "result_url": job_result_url(job),
    }


@login_required
def job_detail(request, pk: int):
    return render(request, "jobs/job.html", _context(_visible_job(request, pk)))


@login_required
def job_progress(request, pk: int):
    """The progress partial that the job page polls every second until the job is done."""
    return render(request, "jobs/job_progress.html", _context(_visible_job(request, pk)))


def not_found(request, exception=None):
    """404 for every URL nothing answers: JSON under /api/ (what API clients and the
    schema expect), the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": gettext("未找到。")}, status=404)
    return page_not_found(request, exception)


def _timed(check) -> dict:
    began = time.monotonic()
    try:
        detail = check()
    except Exception as exc:  # a failed check is reported, never raised
        logger.warning("Health check %s failed: %r", check.__name__, exc)
        return {"ok": False, "error": type(exc).__name__, "ms": _ms(began)}
    return {"ok": True, **(detail or {}), "ms": _ms(began)}


def _ms(began: float) -> float:
    return round((time.monotonic() - began) * 1000, 1)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    oldest = Job.objects.filter(status=Job.Status.QUEUED).order_by("created").first()
    waiting = (timezone.now() - oldest.created).total_seconds() if oldest else 0
    return {"vendor": connection.vendor, "oldest_queued_job_s": round(waiting)}


def _cache():
    key = f"citycheck-healthz-{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not keep a value")
    cache.delete(key)


def _broker():
    if not settings.CELERY_BROKER_URL:
        return {"queue": "database"}  # jobs wait in the database for `citycheck worker`
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
        broker.ensure_connection(max_retries=1, timeout=2)
    return {"queue": "celery"}


def _disk():
    folder = Path(settings.MEDIA_ROOT)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if free < settings.CITYCHECK_HEALTH_MIN_FREE_BYTES:
        raise OSError("less free space than CITYCHECK_HEALTH_MIN_FREE_BYTES")
    return {"free_mb": free // 2**20}


HEALTH_CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "disk": _disk}


@never_cache
def healthz(request):
    """``GET /healthz``: database, cache, broker and disk, as JSON; 200 when all pass,
    503 otherwise (for the proxy's and the orchestrator's probes; no login, no secrets:
    a failed check names only the kind of error, the log has the rest)."""
    checks = {name: _timed(check) for name, check in HEALTH_CHECKS.items()}
    healthy = all(check["ok"] for check in checks.values())
    if not checks["database"]["ok"]:
        drop_broken_connections()  # the next probe reconnects
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": checks},
        status=200 if healthy else 503,
    )
