"""The public survey form's throughput: ``python -m bench.survey.form`` (part of ``bench survey``).

A small database (citycheck.testing's small province, built through the services, with the
resident questionnaire imported and the 2024 survey opened as the province would) is
served as ``make run`` does: gunicorn, 2 workers x 4 threads, on loopback. Concurrent
clients (``--processes`` x ``--threads``, each thread a keep-alive connection) submit
complete answers for ``--seconds``: every submission first GETs the form of a city's link
like a browser, with no cookies (so each is a new device: its own device and CSRF
cookies), reads the signed ``form_key`` and the CSRF token, then POSTs varied answers.

The public form allows ``CITYCHECK_SURVEY_POSTS_PER_MINUTE`` posts a minute per address
(30 by default); as every client here is 127.0.0.1, the benchmark raises it to 10^9
through the environment of the server, and says so in its output.

Target (issue 11): >= 200 submissions/s with p95 <= 100 ms. Reported: submissions/s
(answers stored: 200 "thanks" pages), p50/p95/p99 of the POST and of the whole
submission (GET + POST), errors by status. SQLite by default; ``--postgresql URL``
serves from that database instead (it is emptied by migrate-from-zero: use a scratch one).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench._serving import free_port, start_gunicorn, wait_until_up

REPO = Path(__file__).resolve().parents[2]
POSTS_PER_MINUTE = "1000000000"

SETUP = r"""
import json
from pathlib import Path
from django.conf import settings
from citycheck.core.choices import Role
from citycheck.indicators.models import Indicator, SourceKind
from citycheck.survey import services
from citycheck.survey.models import SurveyLink
from citycheck.testing import build_small_province

province = build_small_province()
admin = province.users[Role.PROVINCE_ADMIN]
Indicator.objects.create(
    system=province.system, dimension=province.system.dimensions.first(),
    code="street_parking_order", name_zh="城市街道车辆停放有序性", unit="%",
    source_kind=SourceKind.SURVEY, order=9, decimals=1,
)
questionnaire = services.import_questionnaire(
    Path(settings.DATA_DIR) / "survey" / "resident-2021.yaml", acting_user=admin
)
survey = services.open_survey(province.open_round, questionnaire, acting_user=admin)
links = []
for link in SurveyLink.objects.filter(survey=survey).select_related("place"):
    counties = list(services.counties_of(survey, link.place))
    links.append({"token": link.token, "counties": counties})
print(json.dumps({"survey": survey.pk, "links": links, "items": questionnaire.items}))
"""


def citycheck(env: dict, *arguments: str) -> str:
    command = [sys.executable, "-m", "citycheck", *arguments]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def answers(items: list[dict], counties: list[str], rng: random.Random) -> list[tuple]:
    """A complete, varied set of answers, as the form's fields."""
    fields = []
    for item in items:
        code, kind = item["code"], item["type"]
        if kind == "likert":
            fields.append((code, str(rng.randint(1, 5))))
        elif kind == "place":
            fields.append((code, rng.choice(counties)))
        elif kind == "single":
            fields.append((code, rng.choice(item["options"])["code"]))
        elif kind == "multiple":
            fields.append((code, item["options"][0]["code"]))
        elif kind == "number" and item.get("required", True):
            fields.append((code, str(item.get("min", 0) or 0)))
    return fields


def client_process(port: int, plan: dict, seconds: float, threads: int, seed: int, out) -> None:
    """T threads, each a keep-alive connection submitting until the deadline."""
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    results = {"posts": [], "submissions": [], "errors": {}}

    def worker(number: int):
        rng = random.Random(seed * 1000 + number)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        posts, submissions, errors = [], [], {}
        while time.perf_counter() < deadline:
            link = rng.choice(plan["links"])
            started = time.perf_counter()
            try:
                connection.request("GET", plan["path"].format(token=link["token"]))
                page = connection.getresponse()
                body = page.read().decode()
                if page.status != 200:
                    errors[f"GET {page.status}"] = errors.get(f"GET {page.status}", 0) + 1
                    continue
                cookies = "; ".join(
                    value.split(";", 1)[0]
                    for header, value in page.getheaders()
                    if header.lower() == "set-cookie"
                )
                form_key = re.search(r'name="form_key" value="([^"]+)"', body).group(1)
                csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
                fields = [("csrfmiddlewaretoken", csrf), ("form_key", form_key)]
                fields += answers(plan["items"], link["counties"], rng)
                posted = time.perf_counter()
                connection.request(
                    "POST",
                    plan["path"].format(token=link["token"]),
                    body=urllib.parse.urlencode(fields),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cookie": cookies,
                    },
                )
                reply = connection.getresponse()
                reply.read()
                done = time.perf_counter()
            except (OSError, http.client.HTTPException, AttributeError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if reply.status == 200:
                posts.append(done - posted)
                submissions.append(done - started)
            else:
                errors[f"POST {reply.status}"] = errors.get(f"POST {reply.status}", 0) + 1
        with lock:
            results["posts"].extend(posts)
            results["submissions"].extend(submissions)
            for key, count in errors.items():
                results["errors"][key] = results["errors"].get(key, 0) + count

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put(results)


def drive(port: int, plan: dict, seconds: float, processes: int, threads: int) -> dict:
    queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=client_process, args=(port, plan, seconds, threads, seed, queue)
        )
        for seed in range(processes)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    parts = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    posts = sorted(t for part in parts for t in part["posts"])
    submissions = sorted(t for part in parts for t in part["submissions"])
    errors: dict[str, int] = {}
    for part in parts:
        for key, count in part["errors"].items():
            errors[key] = errors.get(key, 0) + count

    def at(times, q):
        return round(1000 * times[min(len(times) - 1, int(q * len(times)))], 1) if times else None

    return {
        "clients": processes * threads,
        "seconds": round(elapsed, 1),
        "submissions": len(posts),
        "submissions_per_s": round(len(posts) / elapsed, 1),
        "post_p50_ms": at(posts, 0.50),
        "post_p95_ms": at(posts, 0.95),
        "post_p99_ms": at(posts, 0.99),
        "submission_p50_ms": at(submissions, 0.50),
        "submission_p95_ms": at(submissions, 0.95),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="5 s instead of 30 s")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postgresql", default="", help="a scratch database URL")
    arguments = parser.parse_args()
    seconds = 5.0 if arguments.quick else arguments.seconds
    with tempfile.TemporaryDirectory(prefix="citycheck-bench-survey-") as folder:
        env = {
            **os.environ,
            "CITYCHECK_VAR_DIR": folder,
            "DJANGO_SETTINGS_MODULE": "citycheck.settings.dev",
            "CITYCHECK_SURVEY_POSTS_PER_MINUTE": POSTS_PER_MINUTE,
        }
        env.pop("DATABASE_URL", None)
        if arguments.postgresql:
            env["DATABASE_URL"] = arguments.postgresql
        citycheck(env, "migrate", "-v0")
        citycheck(env, "collectstatic", "--noinput", "-v0")
        if arguments.postgresql:
            citycheck(env, "flush", "--noinput")  # a scratch database: start from nothing
        setup = json.loads(citycheck(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        setup["path"] = "/survey/r/{token}/"
        port = free_port()
        server = start_gunicorn(
            env,
            port,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(folder) / "gunicorn.log", "w"),  # noqa: SIM115
        )
        try:
            try:
                wait_until_up(port, setup["path"].format(token=setup["links"][0]["token"]), 60)
            except RuntimeError:
                sys.stderr.write((Path(folder) / "gunicorn.log").read_text()[-3000:])
                raise
            result = drive(port, setup, seconds, arguments.processes, arguments.threads)
        finally:
            server.terminate()
            server.wait(timeout=30)
        stored = citycheck(
            env,
            "shell",
            "-c",
            "from citycheck.survey.models import Response; print(Response.objects.count())",
        )
    load = os.getloadavg()
    print(
        json.dumps(
            {
                "benchmark": "survey public form",
                "database": "postgresql" if arguments.postgresql else "sqlite",
                "server": "gunicorn 2 workers x 4 threads, loopback",
                "rate_limit": f"CITYCHECK_SURVEY_POSTS_PER_MINUTE={POSTS_PER_MINUTE} (raised)",
                **result,
                "responses_stored": int(stored.strip().splitlines()[-1]),
                "target": ">= 200 submissions/s, p95 <= 100 ms",
                "load_average": [round(x, 2) for x in load],
            }
        )
    )


if __name__ == "__main__":
    main()
