"""``citycheck worker``: run the queued background jobs, one at a time, off the web process.

The embedded set-up (``make run``) starts one beside gunicorn. The worker claims the oldest
queued job with one conditional ``UPDATE`` (two workers never run one job), runs it, and
every minute also runs the periodic tasks that are due (:func:`citycheck.core.schedule.run_due`).
It takes up jobs left running by a worker that died (:func:`citycheck.core.jobs.recover_interrupted_jobs`).
Stopped with SIGTERM or Ctrl-C during a job, it abandons the job's transaction and puts the
job back in the queue for the next worker. When the database is unreachable it says so
and retries.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connections

from citycheck.core import jobs

logger = logging.getLogger("citycheck.core.worker")


class WorkerStopped(BaseException):
    """Raised in the running job when the worker is asked to stop (not an ``Exception``,
    so a job's own error handling does not take it for a failure of the job)."""


class Command(BaseCommand):
    help = "运行排队中的后台任务（每次一个），并每分钟运行到期的定期任务。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="run the queued jobs until none waits, then stop"
        )
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks")
        parser.add_argument(
            "--schedule-interval",
            type=float,
            default=60.0,
            help="seconds between runs of the periodic tasks (0: never)",
        )

    def handle(self, *args, once=False, poll=1.0, schedule_interval=60.0, **options):
        self.identity = jobs.worker_identity()
        self.current: int | None = None
        self.stopping = False
        for sign in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sign, self._stop)
        self.stdout.write(f"citycheck worker {self.identity}: waiting for jobs")
        next_schedule = time.monotonic()
        next_recovery = 0.0
        database_down = False
        while not self.stopping:
            try:
                if time.monotonic() >= next_recovery:
                    jobs.recover_interrupted_jobs()
                    next_recovery = time.monotonic() + 10
                if schedule_interval and time.monotonic() >= next_schedule:
                    _run_schedule()
                    next_schedule = time.monotonic() + schedule_interval
                pk = jobs.claim_next(self.identity)
                if database_down:
                    logger.warning("Worker %s: the database is reachable again", self.identity)
                    database_down = False
                if pk is None:
                    if once:
                        break
                    time.sleep(poll)
                    continue
                self._run(pk)
            except DatabaseError as exc:
                if once:
                    raise
                # The database restarting or unreachable: say so, wait, try again.
                if not database_down:
                    logger.error(
                        "Worker %s: database unavailable (%s); retrying", self.identity, exc
                    )
                database_down = True
                _tidy_connections()
                time.sleep(max(poll, 2.0))
        self.stdout.write(f"citycheck worker {self.identity}: stopped")

    def _run(self, pk: int) -> None:
        self.current = pk
        try:
            jobs.execute(pk)
        except WorkerStopped:
            _tidy_connections()
            jobs.requeue(pk)
            logger.warning("Worker %s stopped during JOB-%s: queued again", self.identity, pk)
        finally:
            self.current = None
            _tidy_connections()

    def _stop(self, signum, frame):
        self.stopping = True
        if self.current is not None:
            raise WorkerStopped


def _tidy_connections() -> None:
    """Close connections that broke or outlived CONN_MAX_AGE, as after a request (not
    inside an outer transaction: a test's, or a caller's)."""
    if not any(connection.in_atomic_block for connection in connections.all()):
        close_old_connections()


def _run_schedule() -> None:
    """Run the periodic tasks that are due, if this installation has the scheduler."""
    if importlib.util.find_spec("citycheck.core.schedule") is None:
        return
    schedule = importlib.import_module("citycheck.core.schedule")
    try:
        ran = schedule.run_due()
    except DatabaseError:
        raise
    except Exception:  # a broken periodic task must not stop the jobs
        logger.exception("Periodic tasks failed")
        return
    if ran:
        logger.info("Periodic tasks run: %s", ", ".join(ran))
