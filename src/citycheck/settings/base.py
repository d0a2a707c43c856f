"""Settings shared by every deployment; dev.py, test.py and prod.py adjust them.

Operators configure a deployment through environment variables only:
``DATABASE_URL`` (default: embedded SQLite under ``var/``), ``CELERY_BROKER_URL``
(default: none, jobs run inline), ``SECRET_KEY``, ``ALLOWED_HOSTS``,
``CITYCHECK_VAR_DIR``, ``CITYCHECK_REPORT_ISSUER``.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("CITYCHECK_VAR_DIR", REPO_DIR / "var"))
DATA_DIR = REPO_DIR / "data"

# No fallback key: dev.py keeps a random one under var/, prod.py refuses to start without it.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Apps in the order of the cycle: each may import only those above it.
    "citycheck.core",
    "citycheck.places",
    "citycheck.accounts",
    "citycheck.indicators",
    "citycheck.collection",
    "citycheck.assessment",
    # Sources of the check beside the self-check: they write values of a round.
    "citycheck.survey",
    "citycheck.spatial",
    "citycheck.diagnosis",
    "citycheck.renewal",
    # Between rounds and above the projects: watching, dispatching, appraising.
    "citycheck.monitoring",
    "citycheck.reports",
    "citycheck.supervision",
    "citycheck.portal",
    # Exchange with other instances (the level above, cities with their own platform).
    "citycheck.exchange",
]

MIDDLEWARE = [
    # First: a request that failed because the database is unreachable gets 503 saying so.
    "citycheck.core.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "citycheck.core.middleware.RequestIdMiddleware",
    "citycheck.core.middleware.JobLimitMiddleware",
    # Last: turns a lockout found during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "citycheck.urls"
WSGI_APPLICATION = "citycheck.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'citycheck.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server read while a background job writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lockout (django-axes, docs/security.md): at AXES_FAILURE_LIMIT wrong passwords
# for one username from one address, that pair is refused, even with the right password,
# for AXES_COOLOFF_TIME; a successful login resets the count. Covers the login page, the
# admin and HTTP Basic on the API (all go through authenticate()).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 6  # five tries; the sixth wrong password locks out
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/lockout.html"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end libraries come from npm (package-lock.json) and are served by us, never a CDN;
# `make setup` copies the files we use from node_modules into build/vendor.
STATICFILES_DIRS = [("vendor", REPO_DIR / "build" / "vendor")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# Uploads are bounded: Excel templates and evidence files are small.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
CITYCHECK_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# The index method files (data/methods/*.yaml) officials may choose from.
CITYCHECK_METHODS_DIR = Path(os.environ.get("CITYCHECK_METHODS_DIR", DATA_DIR / "methods"))

# Content-Security-Policy (django-csp; docs/deployment.md): scripts only from our own
# static files — no inline script, except two exact one-line handlers allowed by hash
# ('unsafe-hashes': `this.form.submit()` of auto-submitting selects and `window.print()`);
# styles may be inline (style attributes and <style> blocks of report and error pages);
# nothing may frame the site, and forms post only to it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": [
            "'self'",
            "'unsafe-hashes'",
            "'sha256-osjxnKEPL/pQJbFk1dKsF7PYFmTyMWGmVSiL9inhxJY='",  # this.form.submit()
            "'sha256-MguIPR6qNR8D3B+eAlK+bIRTZe8t3wkOY4B/56Me9FU='",  # window.print()
        ],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],  # the API documentation page (Redoc)
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# HTTP Basic on the API (username and password on every request). Production can switch it
# off (CITYCHECK_API_BASIC_AUTH=0) and let machine clients use tokens (/api/auth/token/).
CITYCHECK_API_BASIC_AUTH = os.environ.get("CITYCHECK_API_BASIC_AUTH", "1") == "1"
# API tokens (django-rest-knox): stored as a hash, valid 90 days, at most 10 per user.
REST_KNOX = {"TOKEN_TTL": dt.timedelta(days=90), "TOKEN_LIMIT_PER_USER": 10, "AUTO_REFRESH": False}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "knox.auth.TokenAuthentication",
        *(
            ["rest_framework.authentication.BasicAuthentication"]
            if CITYCHECK_API_BASIC_AUTH
            else []
        ),
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # Per client address (anonymous) or user; "login" is the token endpoint's own scope.
    "DEFAULT_THROTTLE_RATES": {"anon": "300/minute", "user": "3000/minute", "login": "10/minute"},
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "citycheck.core.api.schema.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "citycheck API",
    "DESCRIPTION": "城市体检评估信息平台 REST API. Every endpoint is limited to the places "
    "the user may see (see docs/architecture.md, 'Permissions').",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a "status"; name each enum after its model's choices.
    "ENUM_NAME_OVERRIDES": {
        "RoundStatusEnum": "citycheck.collection.models.RoundStatus",
        "ReleaseStatusEnum": "citycheck.assessment.models.ReleaseStatus",
        "ProjectStatusEnum": "citycheck.renewal.models.ProjectStatus",
        "ProblemStatusEnum": "citycheck.diagnosis.models.ProblemStatus",
        "SourceEnum": "citycheck.collection.models.Source",
    },
}

# Background jobs: Celery on Redis when a broker is configured; otherwise queued in the
# database for `citycheck worker` (started by `make run`), never run in the web process.
CITYCHECK_JOBS_MODE = "database"
# Jobs a user may have queued or running at once; a further request is refused (429).
CITYCHECK_JOBS_PER_USER = int(os.environ.get("CITYCHECK_JOBS_PER_USER", "3"))
# Posts a minute one address may make to the public survey form (429 beyond); raised by
# the throughput benchmark (bench/survey/form.py), whose clients all come from loopback.
CITYCHECK_SURVEY_POSTS_PER_MINUTE = int(os.environ.get("CITYCHECK_SURVEY_POSTS_PER_MINUTE", "30"))
# /healthz fails below this much free space where media files are kept.
CITYCHECK_HEALTH_MIN_FREE_BYTES = int(
    os.environ.get("CITYCHECK_HEALTH_MIN_FREE_BYTES", str(500 * 2**20))
)
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Jobs are long: a worker takes one at a time, acknowledges it when done, and a task whose
# worker died is delivered again (the job's claim keeps it from running twice at once).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Every minute: the periodic tasks that are due (core.schedule) and interrupted jobs.
CELERY_BEAT_SCHEDULE = {
    "citycheck-periodic": {"task": "citycheck.run_periodic", "schedule": 60.0},
    "citycheck-recover-jobs": {"task": "citycheck.recover_jobs", "schedule": 60.0},
}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Whole anonymous public pages, answered before Django (core/public_pages.py): shared
    # by every process (a publication by a command or another worker reaches them all).
    "public_pages": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR_DIR / "cache" / "public-pages",
    },
}
# Paths whose anonymous pages the front layer may answer from that cache (only views
# decorated with core.public_pages.public_page are ever stored).
CITYCHECK_PUBLIC_PAGE_PREFIXES = ("/portal/",)

# Logs on standard error, each line with its request id; one JSON object a line when
# CITYCHECK_LOG_FORMAT=json (production's default). citycheck's own loggers say at INFO
# what each request, job and periodic task did and how long it took.
CITYCHECK_LOG_FORMAT = os.environ.get("CITYCHECK_LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "citycheck.core.logs.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "citycheck.core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": CITYCHECK_LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "citycheck": {"level": os.environ.get("CITYCHECK_LOG_LEVEL", "INFO")},
    },
}
# API documentation pages load their JavaScript from our static files, not a CDN.
SPECTACULAR_SETTINGS.update(
    SWAGGER_UI_DIST="SIDECAR", SWAGGER_UI_FAVICON_HREF="SIDECAR", REDOC_DIST="SIDECAR"
)

# Peer distributions used by the outlier warnings are cached this long (seconds).
CITYCHECK_PEER_CACHE_SECONDS = 60
# Parts of pages kept under keys that change with everything they show (the entry form's
# rows, a page of the problem list), at most this long (seconds).
CITYCHECK_PAGE_CACHE_SECONDS = 600
# The authority named on report covers; default: the province's housing department.
CITYCHECK_REPORT_ISSUER = os.environ.get("CITYCHECK_REPORT_ISSUER", "")
