"""Celery tasks: a job (see :mod:`citycheck.core.jobs`) and the minute's periodic work."""

import importlib
import importlib.util

from celery import shared_task


@shared_task(name="citycheck.run_job")
def run_job_task(job_pk: int) -> None:
    """Run a queued job (a job already taken by another worker is left alone)."""
    from .jobs import run_job

    run_job(job_pk)


@shared_task(name="citycheck.run_due")
def run_due_task() -> list[str]:
    """Every minute (beat): take up interrupted jobs, then run the periodic tasks due."""
    from .jobs import recover_interrupted_jobs

    recover_interrupted_jobs()
    if importlib.util.find_spec("citycheck.core.schedule") is None:
        return []
    return importlib.import_module("citycheck.core.schedule").run_due()
