"""The mix of ``python -m bench load``, run by locust (headless, loopback).

The driver logs each demo user in once and passes the session cookies and the pages in
``BENCH_LOAD_PLAN`` (JSON); every simulated client takes the next login in turn (the
anonymous citizen reads the portal) and loops over its pages, waiting a think time drawn
uniformly from ``BENCH_LOAD_THINK`` (``min,max`` seconds; ``0,0``: none) after each page.
With a think time each client first waits a random part of the longest one, so the
clients do not all click at the same moment. Each response (page, ms, ok, when it ended)
is written to ``BENCH_LOAD_OUT`` (JSON) at the end, so the driver computes exact
percentiles over the window it chooses.
"""

import itertools
import json
import os
import random
import threading
import time

import gevent
from locust import HttpUser, between, events, task

PLAN = json.loads(os.environ.get("BENCH_LOAD_PLAN", "{}"))
TIMEOUT = float(os.environ.get("BENCH_LOAD_TIMEOUT", "30"))
THINK_LEAST, THINK_MOST = (float(s) for s in os.environ.get("BENCH_LOAD_THINK", "0,0").split(","))
_clients = itertools.count()
_samples: list[tuple[str, float, bool, float]] = []
_lock = threading.Lock()


@events.request.add_listener
def _record(name, response_time, exception, response=None, **_kwargs):
    ok = exception is None and response is not None and response.status_code == 200
    with _lock:
        _samples.append((name, response_time, ok, time.time()))


@events.quitting.add_listener
def _write(**_kwargs):
    with open(os.environ["BENCH_LOAD_OUT"], "w") as out:
        json.dump(_samples, out)


class Official(HttpUser):
    """One client: a demo login (or none) and its pages, requested in a loop."""

    wait_time = between(THINK_LEAST, THINK_MOST)

    def on_start(self):
        clients = PLAN["clients"]
        self.client_plan = clients[next(_clients) % len(clients)]
        if self.client_plan.get("session"):
            self.client.cookies.set("sessionid", self.client_plan["session"])
        self.client.headers["Accept-Language"] = "zh-hans"
        self.pages = itertools.cycle(self.client_plan["pages"])
        if THINK_MOST:
            gevent.sleep(random.uniform(0, THINK_MOST))

    @task
    def page(self):
        name, path = next(self.pages)
        # Redirects (the entry page sends the user to the submission) are followed and
        # counted in the same request; anything but a final 200 is an error.
        self.client.get(path, name=name, timeout=TIMEOUT)
