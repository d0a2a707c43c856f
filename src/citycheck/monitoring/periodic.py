"""Monitoring's periodic tasks (run by :func:`citycheck.core.schedule.run_due`: the
embedded worker, ``citycheck scheduler`` or Celery beat)."""

import datetime as dt

from django.utils import timezone

from citycheck.core.schedule import periodic

from . import connectors, drops, services


@periodic("monitoring.pull_connectors", every=dt.timedelta(minutes=10))
def pull_connectors(now):
    return connectors.pull_due(now)


@periodic("monitoring.evaluate_rules", every=dt.timedelta(hours=1))
def evaluate_rules(now):
    return services.evaluate(timezone.localdate(now))


@periodic("monitoring.escalate_overdue", every=dt.timedelta(hours=1))
def escalate_overdue(now):
    return services.escalate_overdue(timezone.localdate(now))


@periodic("monitoring.send_digests", every=dt.timedelta(days=1))
def send_digests(now):
    return services.send_digests(now)


@periodic("monitoring.take_file_drops", every=dt.timedelta(minutes=1))
def take_file_drops(now):
    return drops.take_dropped_files(now)
