"""Background jobs of the check step (run by citycheck.core.jobs: Celery, a thread or inline)."""

from citycheck.core.jobs import job_function

from .models import Round
from .services import CheckStepError


@job_function("collection.send_reminders")
def send_reminders_job(job, today: str | None = None):
    """Daily: reminders before and after each open round's deadline."""
    import datetime as dt

    from .reminders import send_reminders

    created = send_reminders(dt.date.fromisoformat(today) if today else None)
    return {"reminders": len(created)}


@job_function("collection.submit_batch", known_errors=(CheckStepError,))
def submit_batch_job(job, round_id: int, records: list, source: str, reason: str = ""):
    """A large batch submission, run off the request; the job's user is the submitter."""
    from .batch import submit_batch

    job.report(5, "checking")
    result = submit_batch(
        Round.objects.get(pk=round_id),
        records,
        source=source,
        acting_user=job.created_by,
        reason=reason,
    )
    return {"records": result.records, "changed": result.changed, "method": result.method}
