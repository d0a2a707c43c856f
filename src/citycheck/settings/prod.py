"""Production: everything from the environment; refuses to start without a real key.

Served behind a reverse proxy that terminates HTTPS (deploy/nginx.conf) and says so in
``X-Forwarded-Proto``; see docs/deployment.md for every variable.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set in the environment to a random value of at least 50 "
        "characters (e.g. python -c 'from django.core.management.utils import "
        "get_random_secret_key as k; print(k())')."
    )
DEBUG = False

# HTTPS: the proxy terminates TLS and sets X-Forwarded-Proto (trust it only behind a
# proxy that overwrites the header). HTTPS=0 only for a closed test network.
HTTPS = os.environ.get("HTTPS", "1") == "1"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes inside the network speak plain HTTP
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# Preloading (browsers' built-in HTTPS list) is hard to undo and the domain owner's call:
# off unless SECURE_HSTS_PRELOAD=1, and Django's reminder about it (W021) is silenced.
SECURE_HSTS_PRELOAD = os.environ.get("SECURE_HSTS_PRELOAD", "0") == "1"
SILENCED_SYSTEM_CHECKS = ["security.W021"]
CSRF_TRUSTED_ORIGINS = [
    origin for origin in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if origin
]
SESSION_COOKIE_AGE = 8 * 3600  # a working day

# One Redis for every web and worker process: cached pages, fragments and the public
# pages' generation are shared, so a publication anywhere reaches every worker at once.
CACHES = {
    alias: {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
        "KEY_PREFIX": alias,
    }
    for alias in ("default", "public_pages")
}

# Periodic tasks (citycheck.core.schedule) on Celery beat: beat calls run_periodic every
# minute and each task runs when its own interval has elapsed; the schedule is kept in
# the database (django-celery-beat), editable in the admin. Beat also has the workers take
# up interrupted jobs every minute (citycheck.recover_jobs, settings/base.py).
INSTALLED_APPS = [*INSTALLED_APPS, "django_celery_beat"]  # noqa: F405
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "citycheck-periodic": {"task": "citycheck.run_periodic", "schedule": 60.0},
    "citycheck-recover-jobs": {"task": "citycheck.recover_jobs", "schedule": 60.0},
}

# Media (uploads, rendered reports, archives) on storage every web and worker container
# shares: a mounted volume at CITYCHECK_VAR_DIR/media (compose.yaml), or MEDIA_ROOT.
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(MEDIA_ROOT))  # noqa: F405

# One JSON object a line on standard error, with the request id.
LOGGING["handlers"]["console"]["formatter"] = os.environ.get("CITYCHECK_LOG_FORMAT", "json")
