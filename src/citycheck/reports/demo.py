"""The whole cycle on the Jiangxi demo, so that a new user can click through every step.

After the collection stages (:mod:`citycheck.collection.demo`) have loaded the synthetic rounds, each
published round is assessed with the province's method and the release published, the
problem lists are written and confirmed, the earlier problems re-checked, and the top
candidate projects adopted and reported on month by month. Everything goes through the
services the web uses, acting as the demo's provincial administrator, so it is audited
like real work. It lives here, in the last app of the cycle, because it uses them all.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from citycheck.accounts.models import User
from citycheck.assessment.models import Release, ReleaseStatus
from citycheck.assessment.services import publish_release, run_assessment
from citycheck.collection.models import Round, RoundStatus
from citycheck.collection.services import set_round_status
from citycheck.core.context import acting
from citycheck.diagnosis.models import ProblemStatus
from citycheck.diagnosis.services import recheck_round, review_problem, run_diagnosis
from citycheck.renewal.models import ProjectStatus
from citycheck.renewal.services import propose_projects, report_progress, set_project_status

DEMO_ADMIN = "province_admin"
PROJECTS_ADOPTED_PER_ROUND = 30


def run_demo_cycle(progress=print, *, random_state: int = 2021) -> dict:
    """Assess, publish, diagnose, re-check and plan projects for the demo's closed rounds
    (each round is published with its release); rounds that already have a published
    release are left as they are."""
    admin = User.objects.get(username=DEMO_ADMIN)
    rng = np.random.default_rng(random_state)
    counts = {"releases": 0, "problems": 0, "projects": 0}
    rounds = Round.objects.filter(
        is_synthetic=True, status__in=[RoundStatus.CLOSED, RoundStatus.PUBLISHED]
    ).order_by("year")
    with acting(admin):
        for number, round_ in enumerate(rounds):
            if Release.objects.filter(round=round_, status=ReleaseStatus.PUBLISHED).exists():
                continue
            progress(f"{round_.year}: assessment, diagnosis, projects …")
            release = run_assessment(round_, acting_user=admin)
            publish_release(release, acting_user=admin)
            set_round_status(round_, RoundStatus.PUBLISHED, acting_user=admin)
            counts["releases"] += 1
            problems = run_diagnosis(round_, acting_user=admin)
            for problem in problems:
                review_problem(
                    problem,
                    status=ProblemStatus.CONFIRMED,
                    reason="演示：市县已核实该问题（合成数据）",
                    acting_user=admin,
                )
            counts["problems"] += len(problems)
            if number:
                recheck_round(round_, acting_user=admin)
            counts["projects"] += _adopt_and_follow(round_, admin, rng)
    return counts


def _adopt_and_follow(round_: Round, admin, rng) -> int:
    """Adopt the highest-priority candidates and report their monthly progress: most
    finish within their year, some fall behind, a few stall."""
    candidates = sorted(
        propose_projects(round_, acting_user=admin), key=lambda p: -(p.priority or 0)
    )[:PROJECTS_ADOPTED_PER_ROUND]
    for project in candidates:
        set_project_status(project, ProjectStatus.ADOPTED, acting_user=admin)
        pace = rng.choice([1.0, 1.0, 1.0, 0.7, 0.4])  # share of the linear schedule achieved
        months = _months(project.start, min(project.end, dt.date(round_.year + 2, 10, 1)))
        done = 0.0
        for index, month in enumerate(months, start=1):
            done = min(100.0, round(100 * pace * index / len(months), 1))
            if pace < 0.5 and index > len(months) // 2:
                break  # stalled: no report after mid-term
            report_progress(
                project,
                month=month,
                percent_complete=done,
                investment=round(project.budget * done / 100, 1),
                acting_user=admin,
            )
    return len(candidates)


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


# `citycheck demo` runs this after the rounds are loaded (citycheck.core.demo).
DEMO_STAGES = [("cycle", run_demo_cycle)]
