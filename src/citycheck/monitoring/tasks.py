from celery import shared_task


@shared_task(name="citycheck.run_periodic")
def run_periodic() -> list[str]:
    """Celery beat calls this every minute; each periodic task still runs only when its
    own interval has elapsed (:func:`citycheck.core.schedule.run_due`)."""
    from citycheck.core.schedule import run_due

    return run_due()
