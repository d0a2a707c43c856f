"""Tests: SQLite in memory unless DATABASE_URL points at PostgreSQL."""

import os
import tempfile

from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import DATABASES, REST_FRAMEWORK

SECRET_KEY = os.environ.get("SECRET_KEY") or get_random_secret_key()  # a new one per run

if not os.environ.get("DATABASE_URL"):
    DATABASES["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CITYCHECK_JOBS_MODE = "inline"  # jobs run within the request in tests
WHITENOISE_AUTOREFRESH = True  # serve from the finders; tests need no collectstatic
CITYCHECK_PEER_CACHE_SECONDS = 0  # tests change peers between validations
CITYCHECK_PAGE_CACHE_SECONDS = 0  # tests read the rows from the page's context
# The demo drops a file for the worker (monitoring.drops): not into the repository's var/.
MONITORING_DROP_DIR = tempfile.mkdtemp(prefix="citycheck-drop-")
# One in-process cache serves every test, whose users reuse the same ids: the API rate
# limits would trip across tests; tests/apps/security sets them where it tests them.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "login": None},
}
CACHES = {
    alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": alias}
    for alias in ("default", "public_pages")
}
