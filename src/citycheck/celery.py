"""The Celery application (``celery -A citycheck worker|beat``).

Configured from the Django settings named ``CELERY_*``: with no ``CELERY_BROKER_URL``
tasks run inline (``CELERY_TASK_ALWAYS_EAGER``) and jobs wait in the database for
``citycheck worker`` instead. Beat sends ``citycheck.run_periodic`` (the periodic tasks
of :mod:`citycheck.core.schedule` that are due) and ``citycheck.recover_jobs`` (jobs
whose worker stopped) every minute.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.dev")
app = Celery("citycheck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
