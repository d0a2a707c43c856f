"""The ``citycheck`` console command itself (the commands under it are tested per app)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_citycheck(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "citycheck", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_a_command_before_the_database_is_set_up_says_what_to_do(tmp_path):
    empty = {
        "DJANGO_SETTINGS_MODULE": "citycheck.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
    }
    result = run_citycheck(
        "systems", "validate", str(ROOT / "data/systems/national-2021.yaml"), env=empty
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "citycheck migrate" in result.stderr


def test_an_unknown_command_exits_non_zero():
    result = run_citycheck("no-such-command")
    assert result.returncode != 0
    assert "no-such-command" in result.stderr
