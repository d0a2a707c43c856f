"""The page of a background job and the progress partial it polls, for every kind of job
(the job's kind says where its result is shown: :func:`citycheck.core.jobs.job_result_url`)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.defaults import page_not_found

from .jobs import job_result_url
from .models import Job


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
