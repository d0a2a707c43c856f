"""Periodic tasks on a simple in-process schedule, safe with several processes.

An app registers a task with :func:`periodic`; :func:`run_due` (called every minute by the
embedded worker, by ``citycheck scheduler`` or by Celery beat's ``run_due`` task) runs the
tasks whose interval has elapsed. The last start of each task is a
:class:`~citycheck.core.models.PeriodicRun` row claimed by one conditional ``UPDATE``, so
when two processes call :func:`run_due` at the same moment only one of them runs a task's
turn. A failing task is logged and recorded on its row; the others still run.

Registration happens when the module defining the task is imported: every installed
app's ``<app>/periodic.py`` is imported by :func:`autodiscover` (called by :func:`run_due`).

Example::

    from datetime import timedelta
    from citycheck.core.schedule import periodic

    @periodic("monitoring.evaluate", every=timedelta(hours=1))
    def evaluate_rules(now):
        ...
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

NEVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    every: dt.timedelta
    function: Callable[[dt.datetime], object]


REGISTRY: dict[str, PeriodicTask] = {}
_discovered = False


def periodic(name: str, every: dt.timedelta) -> Callable:
    """Register the decorated function ``f(now)`` to run every ``every``.

    Raises ``ValueError`` for an interval under one second or a name registered twice by
    another function.
    """
    if every < dt.timedelta(seconds=1):
        raise ValueError(f"periodic({name!r}): every must be at least one second, got {every}")

    def register(function):
        known = REGISTRY.get(name)
        if known is not None and known.function.__qualname__ != function.__qualname__:
            raise ValueError(f"periodic task {name!r} is registered twice")
        REGISTRY[name] = PeriodicTask(name, every, function)
        return function

    return register


def autodiscover() -> None:
    """Import every citycheck app's ``periodic`` module, which registers its tasks."""
    global _discovered
    if _discovered:
        return
    for config in apps.get_app_configs():
        module = f"{config.name}.periodic"
        if config.name.startswith("citycheck.") and importlib.util.find_spec(module):
            importlib.import_module(module)
    _discovered = True


def _claim(task: PeriodicTask, now: dt.datetime) -> bool:
    """Whether this process takes the task's turn at ``now`` (one conditional update)."""
    from .models import PeriodicRun

    try:
        with transaction.atomic():
            PeriodicRun.objects.get_or_create(name=task.name, defaults={"last_run": NEVER})
    except IntegrityError:  # another process created it meanwhile
        pass
    claimed = PeriodicRun.objects.filter(name=task.name, last_run__lte=now - task.every).update(
        last_run=now
    )
    return claimed == 1


def run_due(now: dt.datetime | None = None) -> list[str]:
    """Run the registered tasks whose interval has elapsed at ``now`` (default: the
    current time); returns the names of the tasks this call ran, failed ones included."""
    from .models import PeriodicRun

    autodiscover()
    now = now or timezone.now()
    ran: list[str] = []
    for task in sorted(REGISTRY.values(), key=lambda t: t.name):
        if not _claim(task, now):
            continue
        ran.append(task.name)
        error = ""
        try:
            task.function(now)
        except Exception:  # one task's failure must not stop the others
            error = traceback.format_exc()
            logger.exception("periodic task %s failed", task.name)
        PeriodicRun.objects.filter(name=task.name).update(
            last_finished=timezone.now(), last_error=error
        )
    return ran


def run_task(name: str) -> None:
    """Run one registered task now, whatever its schedule (Celery beat's entry point)."""
    autodiscover()
    REGISTRY[name].function(timezone.now())
