"""The mix of ``python -m bench load``, run by locust (headless, loopback).

The driver logs each demo user in once and passes the session cookies and the pages in
``BENCH_LOAD_PLAN`` (JSON); every simulated client takes the next login in turn (the
anonymous citizen reads the portal) and loops over its pages without think time. Each
response time is written to ``BENCH_LOAD_OUT`` (JSON lines of page, ms, ok) at the end,
so the driver computes exact percentiles.
"""

import itertools
import json
import os
import threading

from locust import HttpUser, constant, events, task

PLAN = json.loads(os.environ.get("BENCH_LOAD_PLAN", "{}"))
TIMEOUT = float(os.environ.get("BENCH_LOAD_TIMEOUT", "30"))
_clients = itertools.count()
_samples: list[tuple[str, float, bool]] = []
_lock = threading.Lock()


@events.request.add_listener
def _record(name, response_time, exception, response=None, **_kwargs):
    ok = exception is None and response is not None and response.status_code == 200
    with _lock:
        _samples.append((name, response_time, ok))


@events.quitting.add_listener
def _write(**_kwargs):
    with open(os.environ["BENCH_LOAD_OUT"], "w") as out:
        json.dump(_samples, out)


class Official(HttpUser):
    """One client: a demo login (or none) and its pages, requested in a loop."""

    wait_time = constant(0)

    def on_start(self):
        clients = PLAN["clients"]
        self.client_plan = clients[next(_clients) % len(clients)]
        if self.client_plan.get("session"):
            self.client.cookies.set("sessionid", self.client_plan["session"])
        self.client.headers["Accept-Language"] = "zh-hans"
        self.pages = itertools.cycle(self.client_plan["pages"])

    @task
    def page(self):
        name, path = next(self.pages)
        # Redirects (the entry page sends the user to the submission) are followed and
        # counted in the same request; anything but a final 200 is an error.
        self.client.get(path, name=name, timeout=TIMEOUT)
