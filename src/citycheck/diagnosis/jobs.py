"""Background jobs of the diagnosis step: a round's problem lists and the re-check of the
previous round's problems, started from the web or the API with the same progress page
as an assessment (run by citycheck.core.jobs: Celery, a thread or inline)."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from citycheck.collection.models import Round
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.jobs import job_function, start_job
from citycheck.core.models import Job
from citycheck.places.models import Place

from . import services


class NothingToRecheckError(ValueError):
    """No diagnosed round comes before the round, so it has no problems to re-check."""


def diagnosable_rounds(user) -> QuerySet:
    """Rounds whose every place ``user`` may manage: a diagnosis or a re-check writes the
    problems of all of them, so only province-level managers of the whole round run one."""
    if not access.may(user, Action.MANAGE):
        return Round.objects.none()
    outside_reach = Place.objects.exclude(pk__in=access.reach(user).values("pk"))
    return Round.objects.restrict(user, Action.MANAGE).exclude(places__in=outside_reach)


def recheckable_rounds(user) -> QuerySet:
    """The diagnosable rounds that follow a diagnosed round (there is something to re-check)."""
    rounds = diagnosable_rounds(user)
    return rounds.filter(
        pk__in=[round_.pk for round_ in rounds if services.earlier_round(round_) is not None]
    )


def check_may_diagnose(round_: Round, user) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may write the problems of every place of
    ``round_``."""
    if not diagnosable_rounds(user).filter(pk=round_.pk).exists():
        raise PermissionDenied(_("只有负责该轮次全部地区的省级管理员可以运行诊断或复查。"))


def start_diagnosis(round_: Round, *, acting_user) -> Job:
    """Check permission, then write the round's problem lists in a background job (or join
    the one already running for the round)."""
    check_may_diagnose(round_, acting_user)
    return start_job("diagnosis.run", acting_user=acting_user, round_id=round_.pk)


def start_recheck(round_: Round, *, acting_user) -> Job:
    """Check permission and that there is an earlier problem list, then re-check it
    against ``round_`` in a background job (or join the one already running)."""
    check_may_diagnose(round_, acting_user)
    if services.earlier_round(round_) is None:
        raise NothingToRecheckError(
            _("%(year)s 年之前没有做过诊断的轮次，没有可复查的问题。") % {"year": round_.year}
        )
    return start_job("diagnosis.recheck", acting_user=acting_user, round_id=round_.pk)


def _year_page(name: str):
    return lambda result: f"{reverse(name)}?{urlencode({'year': result['year']})}"


@job_function("diagnosis.run", result_url=_year_page("diagnosis:problem_list"))
def run_diagnosis_job(job: Job, *, round_id: int) -> dict:
    """Write the problem lists of the round; returns how many problems in how many places."""
    round_ = Round.objects.get(pk=round_id)
    job.report(10, _("正在按城市病目录诊断 %(year)s 年各地区") % {"year": round_.year})
    problems = services.run_diagnosis(round_, acting_user=job.created_by)
    return {
        "round": round_.pk,
        "year": round_.year,
        "problems": len(problems),
        "places": len({problem.place_id for problem in problems}),
    }


@job_function("diagnosis.recheck", result_url=_year_page("diagnosis:recheck"))
def recheck_job(job: Job, *, round_id: int) -> dict:
    """Re-check the previous round's problems against the round; returns how many were
    re-checked and how many reached each conclusion."""
    round_ = Round.objects.get(pk=round_id)
    job.report(10, _("正在复查 %(year)s 年之前一轮的问题") % {"year": round_.year})
    rechecked = services.recheck_round(round_, acting_user=job.created_by)
    conclusions = rechecked["status"].value_counts()
    return {
        "round": round_.pk,
        "year": round_.year,
        "rechecked": len(rechecked),
        "conclusions": {status: int(count) for status, count in conclusions.items()},
    }
