from celery import shared_task


@shared_task(name="citycheck.run_job")
def run_job_task(job_pk: int) -> None:
    from .jobs import run_job

    run_job(job_pk)
