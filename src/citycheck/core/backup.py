"""Backup and restore of one installation: its database and its media files in one archive.

The archive (``.tar.gz``) holds ``manifest.json`` (what, when, from which database and
migrations), the database — SQLite: a copy made with SQLite's online backup API, a
consistent snapshot even while the site writes; PostgreSQL: ``pg_dump --format=custom``,
one consistent snapshot (MVCC) with sequences, restored with ``pg_restore --clean
--single-transaction`` (all or nothing) — and ``media/``, the files under MEDIA_ROOT,
copied after the database (a file written in between is extra, never missing for a row).

Why pg_dump rather than Django's dumpdata: it is exact (sequences, constraints), fast on
millions of values and does not run the models' signals on load; its price is a client of
the server's major version (the Docker image has it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason for the operator."""


def _pg_command(program: str) -> tuple[list[str], dict]:
    config = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": config.get("PASSWORD") or ""}
    arguments = [program, "--no-owner", "--no-privileges"]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if config.get(key):
            arguments += [option, str(config[key])]
    arguments += ["--dbname", config["NAME"]]
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed (package postgresql-client)")
    return arguments, env


def _migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return latest


def backup(target: Path) -> dict:
    """Write the archive ``target``; returns its manifest."""
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"backup supports SQLite and PostgreSQL, not {vendor}")
    media = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        work = Path(work)
        if vendor == "sqlite":
            database = work / "database.sqlite3"
            connection.ensure_connection()
            with sqlite3.connect(database) as copy:
                connection.connection.backup(copy)
            copy.close()
        else:
            database = work / "database.dump"
            arguments, env = _pg_command("pg_dump")
            done = subprocess.run(
                [*arguments, "--format=custom", "--file", str(database)],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        manifest = {
            "format": FORMAT,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "vendor": vendor,
            "database": database.name,
            "migrations": _migrations(),
            "media_files": sum(1 for p in media.rglob("*") if p.is_file()) if media.exists() else 0,
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        partial = target.with_name(f".{target.name}.part")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(work / "manifest.json", "manifest.json")
            archive.add(database, database.name)
            if media.exists():
                archive.add(media, "media")
        partial.replace(target)  # a half-written archive never has the final name
    return manifest


def read_manifest(source: Path) -> dict:
    try:
        with tarfile.open(source, "r:gz") as archive:
            return json.load(archive.extractfile("manifest.json"))
    except (OSError, KeyError, tarfile.TarError, json.JSONDecodeError) as exc:
        raise BackupError(f"{source} is not a citycheck backup ({exc})") from exc


def restore(source: Path) -> dict:
    """Replace the database and the media files with the archive's; returns its manifest.

    Refused before anything changes when the archive is not a backup of this kind of
    database or of a later set of migrations than this code knows.
    """
    manifest = read_manifest(source)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    if manifest["vendor"] != connection.vendor:
        raise BackupError(
            f"the backup is of a {manifest['vendor']} database; this installation uses "
            f"{connection.vendor} (restore it into the same kind)"
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = sorted(
        f"{app}.{name}" for app, name in manifest["migrations"].items() if (app, name) not in known
    )
    if unknown:
        raise BackupError(
            f"the backup comes from a later version of citycheck (migrations {', '.join(unknown)}); "
            "restore it with that version"
        )
    media = Path(settings.MEDIA_ROOT)
    media.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=media.parent) as work:
        work = Path(work)
        with tarfile.open(source, "r:gz") as archive:
            archive.extractall(work, filter="data")
        database = work / manifest["database"]
        if manifest["vendor"] == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(database) as copy:
                copy.backup(connection.connection)
            copy.close()
        else:
            connection.close()
            arguments, env = _pg_command("pg_restore")
            done = subprocess.run(
                [*arguments, "--clean", "--if-exists", "--single-transaction", str(database)],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise BackupError(f"pg_restore failed (nothing changed): {done.stderr.strip()}")
        # Media: the archive's tree takes the place of the current one in one rename.
        restored = work / "media"
        restored.mkdir(exist_ok=True)
        if media.exists():
            media.rename(work / "media-before")
        restored.rename(media)
    # Cached pages and fragments describe the database that was replaced.
    for alias in settings.CACHES:
        caches[alias].clear()
    return manifest
