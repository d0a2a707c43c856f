"""Secrets: the demo settings make and keep a random key under var/ (never a published
fallback), production refuses to start without one, and the Excel template's checksum
depends on the installation's key."""

import os
import stat
import subprocess
import sys

import pytest
from django.core.management.utils import get_random_secret_key

from citycheck.collection import excel
from tests.apps.check_step.test_excel import fill, template

from .conftest import GOOD_VALUES

PRINT_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def start(settings_module, var_dir, **environment):
    """Start Python with ``settings_module`` as a fresh process would (no SECRET_KEY)."""
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE=settings_module, CITYCHECK_VAR_DIR=str(var_dir))
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PRINT_KEY}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_fresh_demo_makes_a_random_key_keeps_it_and_never_uses_a_fixed_one(tmp_path):
    first = start("citycheck.settings.dev", tmp_path / "var")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and "insecure" not in key
    kept = tmp_path / "var" / "secret_key"
    assert kept.read_text().strip() == key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert start("citycheck.settings.dev", tmp_path / "var").stdout.strip() == key
    other = start("citycheck.settings.dev", tmp_path / "other")
    assert other.stdout.strip() not in ("", key)


def test_production_refuses_to_start_without_a_key(tmp_path):
    refused = start("citycheck.settings.prod", tmp_path)
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr
    weak = start("citycheck.settings.prod", tmp_path, SECRET_KEY="citycheck")
    assert weak.returncode != 0 and "SECRET_KEY must be set" in weak.stderr
    strong = start("citycheck.settings.prod", tmp_path, SECRET_KEY=get_random_secret_key())
    assert strong.returncode == 0, strong.stderr


@pytest.mark.django_db
def test_a_template_signed_by_another_installation_is_refused(province, settings):
    settings.SECRET_KEY = "citycheck-insecure-development-key"
    content = fill(template(province), GOOD_VALUES)
    settings.SECRET_KEY = "another-installation-" * 3
    with pytest.raises(excel.UploadError):
        excel.preview_upload(content, acting_user=province.users["county"])
