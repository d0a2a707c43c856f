"""Pages of the diagnosis step: the problem list (with Excel export), the problem page
with evidence and review, the re-check of an earlier round's problems, and the forms that
start a diagnosis or a re-check as a background job."""

import hashlib
from io import BytesIO
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citycheck.accounts.models import department_names
from citycheck.collection.models import Round, RoundKind
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.views_base import RestrictedDetailView, RestrictedListView, page_links

from . import jobs, services
from .forms import RoundJobForm
from .models import Problem, ProblemStatus, RecheckStatus, Severity

# Query parameter → lookup, shared by the list page and its Excel export.
PROBLEM_FILTERS = {
    "year": "round__year",
    "place": "place__code",
    "status": "status",
    "disease": "disease",
    "severity": "severity",
    "recheck_status": "recheck_status",
}


def _filtered(rows, params):
    for name, lookup in PROBLEM_FILTERS.items():
        value = _year(params) if name == "year" else params.get(name)
        if value:
            rows = rows.filter(**{lookup: value})
    return rows


def _year(params) -> int | None:
    """The ``year`` asked for; None when absent or not a number."""
    year = params.get("year", "")
    return int(year) if year.isdigit() else None


def with_department_names(problems, names=None):
    """``problems`` (a page's rows) sharing one lookup of the departments' names (``names``
    or read once), so their descriptions name the lead departments without a query per row."""
    names = department_names() if names is None else names
    for problem in problems:
        problem.department_lookup = names
    return problems


class ProblemListView(RestrictedListView):
    # Each row's description is worded from its evidence: 50 rows a page, as the
    # re-check tables, keep the page quick (200 took ~150 ms of server CPU).
    paginate_by = 50
    # The page shows neither the signals nor the re-check evidence: not decoded.
    queryset = Problem.objects.select_related("place", "round").defer(
        "signals", "recheck_evidence", "recheck_explanation", "status_reason", "explanation"
    )

    def get_queryset(self):
        return _filtered(super().get_queryset(), self.request.GET)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            rows_html=problem_rows_html(context["object_list"]),
            query=self.request.GET.urlencode(),
            diseases=[(d.code, d.name_zh) for d in services.catalogue().diseases],
            statuses=ProblemStatus.choices,
            severities=Severity.choices,
            recheck_statuses=RecheckStatus.choices,
            years=_years(self.request.user),
            diagnosis_form=_job_form(jobs.diagnosable_rounds(self.request.user)),
        )
        return context


def problem_rows_html(page_rows) -> str:
    """The rows of a page of the problem list as HTML, kept per language while none of
    them changes: the key carries each row's id and last change (a review, a re-check or a
    new diagnosis changes it) and the departments' names. Only a miss reads the rows'
    evidence and words their descriptions (~1 ms a row)."""
    # The page's rows are chosen sorting narrow columns only (SQLite sorted every
    # problem's evidence JSON to keep 50), then read with their evidence on a miss.
    stamps = list(page_rows.values_list("pk", "last_updated"))
    names = department_names()
    key = (
        "citycheck:problem-rows:"
        + hashlib.sha256(repr((stamps, sorted(names.items()), get_language())).encode()).hexdigest()
    )
    html = cache.get(key)
    if html is None:
        ids = [pk for pk, _changed in stamps]
        rows = ProblemListView.queryset.in_bulk(ids)
        html = render_to_string(
            "diagnosis/_problem_rows.html",
            {"object_list": with_department_names([rows[pk] for pk in ids], names)},
        )
        cache.set(key, html, settings.CITYCHECK_PAGE_CACHE_SECONDS)
    return html


def _job_form(rounds, year: int | None = None) -> RoundJobForm | None:
    """The form that starts a job on one of ``rounds`` (``year``'s preselected), or None
    when there is none: users who may not start the job never see it."""
    if not rounds.exists():
        return None
    initial = {"round": rounds.filter(year=year).first()} if year else {}
    return RoundJobForm(rounds=rounds, initial=initial)


def _start_job(request, start, page: str):
    """Start a job with ``start(round, acting_user=…)`` on the posted round and show its
    page; ``PermissionDenied`` (a user who may not write the round's problems) gives 403."""
    form = RoundJobForm(request.POST, rounds=access.restrict(Round.objects.all(), request.user))
    if not form.is_valid():
        messages.error(request, _("请选择一个体检轮次。"))
        return redirect(page)
    try:
        job = start(form.cleaned_data["round"], acting_user=request.user)
    except jobs.NothingToRecheckError as exc:
        messages.error(request, str(exc))
        return redirect(page)
    return redirect("job", pk=job.pk)


@login_required
@require_POST
def diagnosis_run(request):
    """Write the problem lists of a round in a background job and show its progress."""
    return _start_job(request, jobs.start_diagnosis, "diagnosis:problem_list")


@login_required
@require_POST
def recheck_run(request):
    """Re-check the previous round's problems in a background job and show its progress."""
    return _start_job(request, jobs.start_recheck, "diagnosis:recheck")


def _years(user) -> list[int]:
    """Years with problems in the user's reach, latest first."""
    return _years_of(access.restrict(Problem.objects.all(), user))


def _years_of(problems) -> list[int]:
    """Years of ``problems``, latest first."""
    rows = problems.order_by().values_list("round__year")
    return sorted({year for (year,) in rows.distinct()}, reverse=True)


@login_required
def problem_export(request):
    """The problem list as Excel, filtered like the page; one round (``year``, the latest
    in reach by default). A filter that matches nothing gives the headers alone."""
    rows = _filtered(access.restrict(Problem.objects.all(), request.user), request.GET)
    years = _years(request.user)
    year = (
        _year(request.GET)
        or rows.order_by("-round__year").values_list("round__year", flat=True).first()
        or (years[0] if years else None)
    )
    round_ = (
        Round.objects.own_first(request.user).filter(year=year, kind=RoundKind.ANNUAL).first()
        if year
        else None
    )
    buffer = BytesIO()
    services.export_problems(round_, buffer, user=request.user, problems=rows)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = (
        _("%(year)s年问题清单") % {"year": round_.year} if round_ else _("问题清单")
    ) + ".xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


# Rows per page of the re-check tables (a province's round re-checks hundreds of problems).
RECHECK_PAGE_SIZE = 50


def _years_after_a_diagnosis(problems) -> set[int]:
    """Years of ``problems`` that follow an earlier diagnosed round: the first round has
    nothing to re-check."""
    rounds = Round.objects.filter(kind=RoundKind.ANNUAL, year__in=_years_of(problems))
    return {round_.year for round_ in rounds if services.earlier_round(round_) is not None}


@login_required
def recheck(request):
    """The problems of the round before ``year`` with their re-check conclusion and
    evidence (optionally one conclusion, ``recheck_status``), and this round's problems
    that recur, linked to their history; each table paged."""
    visible = access.restrict(Problem.objects.all(), request.user).select_related(
        "place", "round", "previous__round"
    )
    # A place whose problems were all resolved has none in the re-check year itself, so
    # the re-check years count as well as the years with problems.
    rechecked = set(
        visible.filter(recheck_year__isnull=False)
        .order_by()
        .values_list("recheck_year", flat=True)
        .distinct()
    )
    years = sorted(rechecked | _years_after_a_diagnosis(visible), reverse=True)
    year = _year(request.GET)
    if year not in years:
        year = max(rechecked, default=years[0] if years else None)
    earlier = visible.filter(recheck_year=year).order_by("place__code", "disease")
    counts = dict(earlier.order_by().values_list("recheck_status").annotate(n=Count("pk")))
    conclusion = request.GET.get("recheck_status", "")
    if conclusion in RecheckStatus.values:
        earlier = earlier.filter(recheck_status=conclusion)
    recurring = visible.filter(round__year=year, previous__isnull=False).order_by(
        "place__code", "disease"
    )
    pages = {
        name: page_links(
            request,
            Paginator(rows, RECHECK_PAGE_SIZE).get_page(request.GET.get(parameter)),
            parameter,
        )
        for name, rows, parameter in (
            ("earlier", earlier, "page"),
            ("recurring", recurring, "recurring_page"),
        )
    }
    names = department_names()
    for name in pages:
        with_department_names(pages[name]["page"].object_list, names)
    context = {
        "year": year,
        "years": years,
        "conclusion": conclusion,
        "earlier": pages["earlier"]["page"],
        "earlier_pages": pages["earlier"],
        "counts": [(label, counts.get(value, 0), value) for value, label in RecheckStatus.choices],
        "recurring": pages["recurring"]["page"],
        "recurring_pages": pages["recurring"],
        "recheck_form": _job_form(jobs.recheckable_rounds(request.user), year),
    }
    return render(request, "diagnosis/recheck.html", context)


class ProblemView(RestrictedDetailView):
    queryset = Problem.objects.select_related("place", "round", "previous__round")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["may_review"] = (
            access.restrict(Problem.objects.all(), user, Action.CHANGE)
            .filter(pk=self.object.pk)
            .exists()
        )
        context["statuses"] = [ProblemStatus.CONFIRMED, ProblemStatus.DISMISSED]
        # Proposing a project for the place takes the right to review its problems (to
        # change the place's data); the renewal step checks it again on the post.
        context["may_propose_project"] = (
            context["may_review"] and self.object.status != ProblemStatus.DISMISSED
        )
        return context


@login_required
@require_POST
def problem_review(request, pk):
    problem = (
        access.restrict(Problem.objects.all(), request.user, Action.CHANGE).filter(pk=pk).first()
    )
    if problem is None:
        raise Http404
    try:
        services.review_problem(
            problem,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            acting_user=request.user,
        )
    except services.ReviewError as exc:
        messages.error(request, str(exc))
    return redirect("diagnosis:problem", pk=pk)
