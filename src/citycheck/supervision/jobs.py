"""Background jobs of supervision: drafting a quarterly bulletin, computing an annual
assessment."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from citycheck.core.jobs import job_function

from . import appraisals, bulletins


def _user(user_id):
    return get_user_model().objects.get(pk=user_id)


@job_function(
    "supervision.bulletin",
    result_url=lambda result: reverse("supervision:bulletin", args=[result["bulletin"]]),
    known_errors=(bulletins.BulletinError,),
)
def draft_bulletin_job(
    job, *, year: int, quarter: int, user_id: int, supersedes: int | None = None
):
    """Draft the quarterly bulletin (ranking from the month's progress) for editing."""
    job.report(10, "ranking")
    old = bulletins.Bulletin.objects.get(pk=supersedes) if supersedes else None
    bulletin = bulletins.draft_bulletin(year, quarter, acting_user=_user(user_id), supersedes=old)
    return {"bulletin": bulletin.pk}


@job_function(
    "supervision.appraisal",
    result_url=lambda result: reverse("supervision:appraisal", args=[result["appraisal"]]),
    known_errors=(appraisals.AppraisalError, appraisals.SchemeError),
)
def compute_appraisal_job(job, *, year: int, user_id: int):
    """Compute the year's assessment from the platform's records."""
    job.report(10, "scoring")
    appraisal = appraisals.compute_appraisal(year, acting_user=_user(user_id))
    return {"appraisal": appraisal.pk}
