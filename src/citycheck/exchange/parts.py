"""The optional parts of a package (format 1.1): the round's published release, its
problem list and its project list, read through the models of the steps below and
mapped to the receiver's indicator codes (docs/exchange.md, "Optional parts").

Indicator codes are translated with the same mapping as the observations; an indicator
result without a counterpart is left out, as its value would be, and a problem lists
only the indicators that have one. Index and dimension results keep the sender's codes:
they are the sender's method's, the receiver shows them as reported.
"""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext as _

from citycheck.assessment.models import Release, ReleaseStatus, Result
from citycheck.collection.models import Round
from citycheck.diagnosis.models import Problem, ProblemStatus
from citycheck.renewal.models import RenewalProject

from . import package
from .mappings import Mapping


def build_parts(round_: Round, mapping: Mapping, names) -> dict[str, tuple[pd.DataFrame, dict]]:
    """The frames (and what the manifest says about each) of the parts ``names`` asks
    for; raises :class:`~citycheck.exchange.services.ExchangeError` when the round has no
    published release to send."""
    builders = {
        package.RELEASE: _release,
        package.PROBLEMS: _problems,
        package.PROJECTS: _projects,
    }
    theirs = dict(zip(mapping.pairs["ours"], mapping.pairs["theirs"], strict=True))
    factors = dict(zip(mapping.pairs["ours"], mapping.pairs["factor"].astype(float), strict=True))
    return {name: builders[name](round_, theirs, factors) for name in names}


def published_release(round_: Round) -> Release | None:
    return (
        Release.objects.filter(round=round_, status=ReleaseStatus.PUBLISHED)
        .order_by("-published_at", "-pk")
        .first()
    )


def _release(round_, theirs, factors):
    from .services import ExchangeError

    release = published_release(round_)
    if release is None:
        raise ExchangeError(_("本轮没有已发布的评价结果，不能报送评价结果。"))
    frame = pd.DataFrame.from_records(
        Result.objects.filter(release=release).values_list(
            "place__code", "level", "code", "value", "score", "rank", "place_count", "warning"
        ),
        columns=package.EXTRA_PARTS[package.RELEASE],
    )
    indicator = frame["LEVEL"] == "indicator"
    frame = frame[~indicator | frame["CODE"].isin(theirs.keys())].copy()
    indicator = frame["LEVEL"] == "indicator"
    frame.loc[indicator, "VALUE"] = frame.loc[indicator, "VALUE"].astype(float) * frame.loc[
        indicator, "CODE"
    ].map(factors)
    frame.loc[indicator, "CODE"] = frame.loc[indicator, "CODE"].map(theirs)
    about = {
        "release": {
            "method": release.method_code,
            "method_version": release.method_version,
            "input_digest": release.input_digest,
            "published": release.published_at.isoformat(timespec="seconds"),
        }
    }
    return frame.reset_index(drop=True), about


def _problems(round_, theirs, factors):
    rows = []
    problems = Problem.objects.filter(round=round_).exclude(status=ProblemStatus.DISMISSED)
    for problem in problems.select_related("place").order_by("place__code", "pk"):
        codes = [c.get("indicator") for c in problem.causes if isinstance(c, dict)]
        rows.append(
            (
                problem.place.code,
                str(problem.pk),
                problem.disease,
                problem.disease_name,
                problem.dimension,
                problem.severity,
                problem.points,
                problem.status,
                ";".join(theirs[c] for c in codes if c in theirs),
                problem.explanation,
            )
        )
    return pd.DataFrame(rows, columns=package.EXTRA_PARTS[package.PROBLEMS]), {}


def _projects(round_, theirs, factors):
    projects = (
        RenewalProject.objects.filter(problems__round=round_)
        .distinct()
        .select_related("place")
        .order_by("place__code", "pk")
    )
    links = {}
    for project_id, problem_id in RenewalProject.problems.through.objects.filter(
        problem__round=round_
    ).values_list("renewalproject_id", "problem_id"):
        links.setdefault(project_id, []).append(str(problem_id))
    rows = [
        (
            project.place.code,
            str(project.pk),
            project.name,
            project.project_type,
            project.year,
            project.status,
            project.budget,
            project.start.isoformat(),
            project.end.isoformat(),
            ";".join(sorted(links.get(project.pk, []), key=int)),
        )
        for project in projects
    ]
    return pd.DataFrame(rows, columns=package.EXTRA_PARTS[package.PROJECTS]), {}
