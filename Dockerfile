# citycheck production image: gunicorn (web), Celery (worker, beat) and the citycheck
# command (migrate, backup, restore) from one image. See docs/deployment.md.
#
#   docker build -t citycheck .
#
# Front-end libraries come from npm (package-lock.json), never a CDN.
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
 && mkdir -p vendor/echarts vendor/htmx \
 && cp node_modules/echarts/dist/echarts.min.js vendor/echarts/ \
 && cp node_modules/htmx.org/dist/htmx.min.js vendor/htmx/

FROM python:3.11-slim-bookworm
# CJK fonts and Pango for the PDF reports, gettext for the translations, the PostgreSQL
# 15 client for `citycheck backup` / `restore` (the same major version as the server).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 gettext postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=citycheck.settings.prod \
    CITYCHECK_VAR_DIR=/srv/citycheck \
    MEDIA_ROOT=/srv/citycheck/media

WORKDIR /app
# Dependencies first (cached while only the code changes), exactly as locked.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --extra demo-boundaries
COPY src ./src
COPY data ./data
COPY --from=assets /assets/vendor ./build/vendor
RUN uv sync --frozen --no-dev --extra demo-boundaries \
 && cd src/citycheck && django-admin compilemessages --ignore=.venv >/dev/null \
 && cd /app && SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(60))')" \
      citycheck collectstatic --noinput -v0 \
 && useradd --system --uid 1000 --home-dir /srv/citycheck citycheck \
 && mkdir -p /srv/citycheck/media && chown -R citycheck /srv/citycheck

USER citycheck
EXPOSE 8000
CMD ["gunicorn", "citycheck.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--threads", "4", "--timeout", "120", "--access-logfile", "-"]
