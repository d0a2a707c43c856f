# citycheck: `make run` serves the Jiangxi demo, `make test` runs every test.
# Both set up everything first; each step is skipped when its inputs are unchanged.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
APT_PACKAGES := chromium fonts-noto-cjk gettext poppler-utils libpango-1.0-0 libpangoft2-1.0-0
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: setup run test test-sqlite test-postgres lint bench clean

setup: var/.system $(VENV)/.synced node_modules/.installed var/.messages var/.static

# Debian packages (a browser for the browser tests, CJK fonts for PDF reports, gettext,
# pdftotext); installed only when running as root and something is missing.
var/.system:
	@mkdir -p var
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install: $$missing (sudo apt-get install $$missing)"; exit 1; fi; \
	fi
	@touch $@

$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	uv sync --frozen --extra demo-boundaries --python python3
	@# Byte-compile once: with PYTHONDONTWRITEBYTECODE set, every start would otherwise
	@# recompile ~2,000 modules (about 20 s of each command's start-up).
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib src >/dev/null || true
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p build/vendor/echarts build/vendor/htmx
	cp node_modules/echarts/dist/echarts.min.js build/vendor/echarts/
	cp node_modules/htmx.org/dist/htmx.min.js build/vendor/htmx/
	@touch $@

var/.messages: $(VENV)/.synced $(wildcard src/citycheck/locale/*/LC_MESSAGES/*.po src/citycheck/*/locale/*/LC_MESSAGES/*.po)
	cd src/citycheck && ../../$(BIN)/django-admin compilemessages --ignore=.venv >/dev/null
	@touch $@

var/.static: $(VENV)/.synced node_modules/.installed $(shell find src/citycheck -path '*/static/*' -type f 2>/dev/null)
	$(BIN)/citycheck collectstatic --noinput -v0
	@touch $@

# The background jobs run in a separate `citycheck worker` process (never inside the web
# server), started beside gunicorn and stopped with it.
run: setup
	$(BIN)/citycheck demo --if-empty
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	@$(BIN)/citycheck worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	$(BIN)/gunicorn citycheck.wsgi:application --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --access-logfile -

test: setup test-sqlite test-postgres

# When PostgreSQL is reachable the demo-load assertions run in the PostgreSQL run (the
# production bulk paths) and the SQLite run exercises the demo through the browser walk of
# its 2025 round: each loads the whole demo once instead of twice.
test-sqlite:
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then export CITYCHECK_TEST_DEMO_LOAD_ON=postgresql; fi; \
	$(BIN)/pytest -n 2 --dist loadscope -p no:cacheprovider --durations=20

# The same database tests against PostgreSQL when one is reachable (CI always has one).
test-postgres:
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "Running the database tests on PostgreSQL"; \
	  DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 --dist loadscope -p no:cacheprovider --durations=20 tests/apps -m "not e2e"; \
	else echo "PostgreSQL not reachable on 127.0.0.1:5432: skipped the PostgreSQL run"; fi

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: setup
	for area in engine check reports http load survey spatial monitoring supervision exchange; do $(BIN)/python -m bench $$area || exit 1; done

clean:
	rm -rf var build $(VENV) node_modules
