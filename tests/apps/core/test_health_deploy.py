"""Production settings pass Django's deployment checks with no warning, and refuse to
start without a real secret key."""

import os
import subprocess
import sys

from django.core.management.utils import get_random_secret_key


def run_with_prod_settings(*arguments, **environment):
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(DJANGO_SETTINGS_MODULE="citycheck.settings.prod", **environment)
    return subprocess.run(
        [sys.executable, "-m", "citycheck", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_with_production_settings_gives_no_warning(tmp_path):
    done = run_with_prod_settings(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=get_random_secret_key(),
        ALLOWED_HOSTS="citycheck.example.cn",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CITYCHECK_VAR_DIR=str(tmp_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    done = run_with_prod_settings("check", CITYCHECK_VAR_DIR=str(tmp_path))
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr
    assert "Traceback" not in done.stderr.splitlines()[-1]


def test_pages_carry_the_content_security_policy(client, db):
    answer = client.get("/accounts/login/")
    assert answer.status_code == 200
    policy = answer["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"].startswith("'self' 'unsafe-hashes' 'sha256-")
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "<script>" not in answer.content.decode()  # no inline script to allow
