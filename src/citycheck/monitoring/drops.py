"""Scheduled file drop: another platform drops observation files into a folder; the
periodic task ``monitoring.take_file_drops`` takes each new file once.

The folder is ``MONITORING_DROP_DIR`` (default ``<CITYCHECK_VAR_DIR>/monitoring/drop``), one
sub-folder per feed: ``<drop>/<feed code>/``. A platform writes ``name.csv`` or
``name.xlsx`` there (columns place, indicator, period, value[, unit], as
``citycheck monitor import`` reads them), writing under another name first
(``name.csv.part``) and renaming when complete, so a half-written file is never taken.
Each file is checked and stored by :func:`citycheck.monitoring.services.ingest_frame` as
one batch of the feed (only the feed's own indicators; batch id ``drop-<SHA-256 of the
content>``, so a file dropped twice is stored once), all or nothing, then moved to
``done/`` or ``refused/`` beside a report ``<name>.report.txt`` (counts, or each refused
line ``line N: field: reason``; line 1 is the header). A file is first moved to
``taking/`` so that two runs never take it both (a file left there by an interrupted run
is put back by hand). When a file brought new
observations the rules are evaluated at once, so its warnings do not wait for the hourly
evaluation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import services
from .models import Feed

logger = logging.getLogger(__name__)

SUFFIXES = (".csv", ".xlsx")


def drop_root() -> Path:
    configured = getattr(settings, "MONITORING_DROP_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "monitoring" / "drop"


def drop_folder(feed: Feed) -> Path:
    """Where ``feed``'s platform drops its files (created on first use)."""
    folder = drop_root() / feed.code
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class TakenFile:
    name: str
    feed: str
    outcome: str  # "done" or "refused"
    accepted: int = 0
    unchanged: int = 0
    refused: int = 0


def _take_file(path: Path, feed: Feed, *, today: dt.date | None = None) -> TakenFile:
    """Check and store one file claimed into ``taking/`` (all or nothing); move it to
    ``done/`` or ``refused/`` with its report."""
    taken = TakenFile(path.name, feed.code, "refused")
    content = path.read_bytes()
    lines: list[str] = []
    try:
        frame = services.read_observation_frame(path.name, content)
        result = services.ingest_frame(
            frame,
            feed=feed,
            batch_id=f"drop-{hashlib.sha256(content).hexdigest()[:32]}",
            today=today,
            any_indicator=False,
        )
    except (ValueError, services.ScopeError) as bad:
        # MonitoringError (columns, file type) is a ValueError, as are pandas' parse errors.
        lines.append(f"refused: {bad}")
    except Exception:
        # Not the file's fault (the database, say): back to the inbox for the next run.
        path.rename(path.parent.parent / path.name)
        raise
    else:
        if result.refused:
            taken.refused = len(result.refused)
            lines.append(f"refused: {len(result.refused)} rows; nothing stored")
            # Row 1 of the frame is line 2 of the file (line 1: the header).
            lines += [f"line {r.row + 1}: {r.field}: {r.reason}" for r in result.refused]
        else:
            taken.outcome = "done"
            taken.accepted, taken.unchanged = result.accepted, result.unchanged
            lines.append(
                f"stored: {result.accepted} new, {result.unchanged} unchanged"
                + (" (this file was taken before)" if result.replayed else "")
            )
    _move(path, taken.outcome, lines)
    if taken.outcome == "refused":
        logger.warning("file drop %s/%s refused: %s", feed.code, path.name, lines[0])
    return taken


def _claim(path: Path) -> Path | None:
    """Move ``path`` into ``taking/``; None when another run took it first."""
    folder = path.parent / "taking"
    folder.mkdir(exist_ok=True)
    try:
        return path.rename(folder / path.name)
    except FileNotFoundError:
        return None


def _move(path: Path, outcome: str, report: list[str]) -> None:
    folder = path.parent.parent / outcome  # beside taking/
    folder.mkdir(exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    target = folder / f"{stamp}-{path.name}"
    path.rename(target)
    target.with_name(target.name + ".report.txt").write_text(
        "\n".join([f"{path.name}: {outcome}", *report]) + "\n", encoding="utf-8"
    )


def take_dropped_files(now: dt.datetime | None = None) -> list[TakenFile]:
    """Take every new file in the drop folders of the active feeds (in name order);
    evaluate the rules when one brought new observations."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    taken = []
    root = drop_root()
    for feed in Feed.objects.filter(active=True):
        folder = root / feed.code
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in SUFFIXES:
                claimed = _claim(path)
                if claimed is not None:
                    taken.append(_take_file(claimed, feed, today=today))
    if any(t.accepted for t in taken):
        services.evaluate(today)
    return taken
