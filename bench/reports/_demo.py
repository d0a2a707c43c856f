"""The Jiangxi demo with a published 2024 release, in a var directory of its own.

Both publication benchmarks use it; it is built once (migrate, demo, assess, publish:
about two minutes) and reused while ``CITYCHECK_VAR_DIR`` keeps it.
"""

import os
import subprocess
import sys
from pathlib import Path

DEFAULT_VAR_DIR = Path(os.environ.get("BENCH_VAR_DIR", "/tmp/citycheck-bench-publication"))


def citycheck(var_dir: Path, *arguments: str) -> str:
    env = {**os.environ, "CITYCHECK_VAR_DIR": str(var_dir)}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "citycheck", *arguments]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def ensure_demo(var_dir: Path = DEFAULT_VAR_DIR) -> Path:
    """Build the demo and publish its 2024 release unless ``var_dir`` already has one."""
    marker = var_dir / "published-release"
    if not marker.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        citycheck(var_dir, "migrate", "-v0")
        citycheck(var_dir, "demo")
        release = citycheck(var_dir, "assess", "--round", "2024").strip().splitlines()[-1]
        citycheck(var_dir, "release", "publish", release)
        citycheck(var_dir, "collectstatic", "--noinput", "-v0")
        marker.write_text(release)
    return var_dir
