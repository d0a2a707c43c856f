"""citycheck: the city health-check and assessment platform (城市体检评估信息平台).

Two layers: :mod:`citycheck.engine` computes (pandas/numpy/scipy, no Django) and the
Django apps beside it store, permit, schedule and show.

The Celery application is loaded with the package (Celery's set-up for Django), so that
``@shared_task`` tasks use it and queuing works whenever ``CELERY_BROKER_URL`` is set.
"""

from .celery import app as celery_app

__version__ = "0.1.0"
__all__ = ("celery_app",)
