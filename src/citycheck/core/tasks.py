"""Celery tasks: a job (see :mod:`citycheck.core.jobs`) and the minute's recovery of
interrupted jobs."""

from celery import shared_task


@shared_task(name="citycheck.run_job")
def run_job_task(job_pk: int) -> None:
    """Run a queued job (a job already taken by another worker is left alone)."""
    from .jobs import run_job

    run_job(job_pk)


@shared_task(name="citycheck.recover_jobs")
def recover_jobs_task() -> list[int]:
    """Every minute (beat): queue again, or fail, the jobs whose worker stopped (the
    periodic tasks themselves are ``citycheck.run_periodic``, monitoring/tasks.py)."""
    from .jobs import recover_interrupted_jobs

    return recover_interrupted_jobs()
