"""Production: everything from the environment; refuses to start without a real key."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set in the environment to a random value of at least 50 "
        "characters (e.g. python -c 'from django.core.management.utils import "
        "get_random_secret_key as k; print(k())')."
    )
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = os.environ.get("HTTPS", "1") == "1"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
    }
}

# Periodic tasks (citycheck.core.schedule) on Celery beat: beat calls run_periodic every
# minute and each task runs when its own interval has elapsed; the schedule is kept in
# the database (django-celery-beat), editable in the admin.
INSTALLED_APPS = [*INSTALLED_APPS, "django_celery_beat"]  # noqa: F405
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {"citycheck-periodic": {"task": "citycheck.run_periodic", "schedule": 60.0}}
