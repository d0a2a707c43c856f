"""Serving the platform for the HTTP benchmarks as `make run` serves it, on loopback."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(env: dict, port: int, **popen) -> subprocess.Popen:
    """gunicorn with 2 workers × 4 threads, like `make run`; ``popen`` adds cwd, stdout …"""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(
        [
            *(str(gunicorn), "citycheck.wsgi:application", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "2", "--threads", "4", "--log-level", "warning"),
        ],
        env=env,
        **popen,
    )


def wait_until_up(port: int, path: str = "/portal/", timeout: float = 120) -> None:
    """Wait until ``path`` answers 200 (the server has started and the page renders)."""
    deadline, status = time.time() + timeout, None
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            reply = connection.getresponse()
            reply.read()
            status = reply.status
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not serve {path} on port {port}: last status {status}")


def create_database(url: str) -> None:
    """Create the scratch PostgreSQL database of ``url`` when it does not exist."""
    import psycopg

    base, _slash, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            server.execute(f'CREATE DATABASE "{name}"')


def postgresql_reachable(url: str) -> bool:
    """Whether PostgreSQL answers at ``url`` (its database created when missing)."""
    import psycopg

    try:
        create_database(url)
    except psycopg.OperationalError:
        return False
    return True


def demo_env(var_dir: Path, database_url: str | None = None, source: Path | None = None, **extra):
    """The environment of a ``citycheck`` command or server on the demo in ``var_dir``:
    SQLite there unless ``database_url``; ``source``, another checkout's src, first on the
    path; ``extra`` variables added."""
    env = {
        **os.environ,
        "CITYCHECK_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "citycheck.settings.dev",
        **extra,
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env
