"""Pages of the survey: the public form (no login), the poster, and the staff pages
(surveys, progress board against quotas, flagged responses, interview entry and import,
weighting and scores).

The public form never shows a traceback: an unknown or forged link, a closed survey, a
replayed submission and a flood of posts each get their own short page (404, 410, 409,
429). Staff pages read through the user's reach (``access.reach``) and write only through
``services``.
"""

from __future__ import annotations

import csv
import io
import secrets
import time

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citycheck.collection.models import Round
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.jobs import TooManyJobsError, start_job
from citycheck.core.language import localized
from citycheck.places.models import PlaceLevel
from citycheck.places.services import place_containing

from . import services
from .form_cache import form_objects
from .models import Channel, Flag, Kind, Questionnaire, Response, Score, Survey, SurveyLink

DEVICE_COOKIE = "citycheck_survey_device"
DEVICE_COOKIE_OPTIONS = {"max_age": 365 * 86400, "samesite": "Lax"}
# Set in the WSGI environ by ``front.PublicForm`` on a post it counted and handed over.
POST_COUNTED = "citycheck.survey.post_counted"
NONCE_SALT = "citycheck.survey.form"
# A form may be answered within this time after it was served (seconds).
FORM_MAX_AGE = 6 * 3600
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000


def posts_per_minute() -> int:
    return int(getattr(settings, "CITYCHECK_SURVEY_POSTS_PER_MINUTE", 30))


# ── The public form ─────────────────────────────────────────────────────────────


def _plain(request, template: str, status: int, **context):
    return render(request, f"survey/public/{template}.html", context, status=status)


def rate_limited(address: str) -> bool:
    """Count a post from ``address``: whether it is over ``CITYCHECK_SURVEY_POSTS_PER_MINUTE``
    posts this minute."""
    key = f"survey-posts:{address}:{int(time.time() // 60)}"
    if cache.add(key, 1, timeout=90):
        return False
    try:
        count = cache.incr(key)
    except ValueError:
        return False
    return count > posts_per_minute()


def new_form_key(link: SurveyLink) -> str:
    """The signed key a served form carries: a new nonce, the time and the link."""
    return signing.dumps(
        {"n": secrets.token_urlsafe(16), "t": int(time.time()), "link": link.pk}, salt=NONCE_SALT
    )


def served_form(data, link: SurveyLink) -> dict | None:
    """The form key posted in ``data`` when it is genuine, recent and this link's."""
    try:
        served = signing.loads(data.get("form_key", ""), salt=NONCE_SALT, max_age=FORM_MAX_AGE)
    except signing.BadSignature:
        return None
    return served if served.get("link") == link.pk else None


def raw_answers(questionnaire: Questionnaire, data) -> dict:
    """The posted answers as ``services.submit_web_response`` takes them."""
    raw = {
        item["code"]: (
            data.getlist(item["code"]) if item["type"] == "multiple" else data.get(item["code"], "")
        )
        for item in questionnaire.items
    }
    raw["street"] = data.get("street", "")
    return raw


def _questions(
    questionnaire: Questionnaire, answers: dict, errors: dict, counties, streets=None
) -> list[dict]:
    """The items as the form template shows them, in the active language. The place item
    carries the counties' streets/townships (grouped by county) for a second, optional
    choice."""
    scales = questionnaire.spec["scales"]
    shown = []
    for item in questionnaire.items:
        entry = {
            "code": item["code"],
            "type": item["type"],
            "text": localized(item["text_zh"], item["text_en"]),
            "required": item.get("required", True),
            "value": answers.get(item["code"], ""),
            "error": errors.get(item["code"], ""),
            "max_choices": item.get("max_choices"),
        }
        if item["type"] == "likert":
            scale = scales[item["scale"]]
            labels = zip(scale["labels_zh"], scale["labels_en"] or scale["labels_zh"], strict=False)
            entry["options"] = [
                {"code": str(point), "text": localized(zh, en)}
                for point, (zh, en) in enumerate(labels, start=1)
            ]
        elif item["type"] in ("single", "multiple"):
            entry["options"] = [
                {"code": o["code"], "text": localized(o["text_zh"], o["text_en"])}
                for o in item["options"]
            ]
        elif item["type"] == "place":
            entry["options"] = [{"code": code, "text": p.name} for code, p in counties.items()]
            entry["street"] = answers.get("street", "")
            entry["street_error"] = errors.get("street", "")
            entry["street_groups"] = [
                {
                    "county": place.name,
                    "options": [
                        {"code": street.code, "text": str(street)}
                        for street in (streets or {}).values()
                        if street.county_id == place.pk
                    ],
                }
                for place in counties.values()
            ]
            entry["street_groups"] = [g for g in entry["street_groups"] if g["options"]]
        shown.append(entry)
    return shown


# The blank questions' HTML of a questionnaire version, language and choosable places,
# rendered once per process: a form's GET then renders only the page around it (its
# signed form key and CSRF token). Reloading a questionnaire changes its digest, hence
# the key; the dict is emptied when it reaches this many entries.
_BLANK_QUESTIONS: dict[tuple, str] = {}
BLANK_QUESTIONS_KEPT = 256


def questions_html(
    questionnaire: Questionnaire, counties, streets, answers=None, errors=None
) -> str:
    """The form's fieldsets: answered and with their errors, or blank (cached)."""

    def rendered():
        questions = _questions(questionnaire, answers or {}, errors or {}, counties, streets)
        return render_to_string("survey/public/_questions.html", {"questions": questions})

    if answers or errors:
        return rendered()
    key = (
        questionnaire.pk,
        questionnaire.digest,
        get_language(),
        tuple((code, place.name) for code, place in counties.items()),
        tuple((code, str(street), street.county_id) for code, street in streets.items()),
    )
    html = _BLANK_QUESTIONS.get(key)
    if html is None:
        html = rendered()
        if len(_BLANK_QUESTIONS) >= BLANK_QUESTIONS_KEPT:
            _BLANK_QUESTIONS.clear()
        _BLANK_QUESTIONS[key] = html
    return html


def locate(request, token: str):
    """The county of the link's city containing the resident's position (WGS84 ``lon`` and
    ``lat`` from the browser), as JSON: the form pre-selects it and the resident can change
    it. Nothing is stored."""
    objects = form_objects(token)
    if objects is None:
        return JsonResponse({"message": _("调查链接无效。")}, status=404)
    link = objects.link
    if not link.survey.is_open or not link.active:
        return JsonResponse({"message": _("本次调查已结束。")}, status=410)
    try:
        lon, lat = float(request.GET["lon"]), float(request.GET["lat"])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError
    except (KeyError, ValueError):
        return JsonResponse(
            {"message": _("位置无效：lon 和 lat 应为经纬度（WGS84）。")}, status=400
        )
    county = place_containing(lon, lat, objects.counties.values())
    if county is None:
        return JsonResponse(
            {
                "message": _("您的位置不在%(city)s的区县内，请从列表中选择。")
                % {"city": link.place.name}
            },
            status=404,
        )
    return JsonResponse(
        {"county": county.code, "message": _("已选择：%(county)s") % {"county": county.name}}
    )


def public_form(request, token: str):
    """The resident's form: GET shows it, POST stores the answers (no login). The lean
    path of ``front.PublicForm`` answers the same requests the same way before Django."""
    objects = form_objects(token)
    if objects is None:
        return _plain(request, "invalid", 404)
    link, counties, streets = objects.link, objects.counties, objects.streets
    survey = link.survey
    if not survey.is_open or not link.active:
        return _plain(request, "closed", 410, link=link)
    device = request.COOKIES.get(DEVICE_COOKIE) or secrets.token_urlsafe(16)
    answers, errors = {}, {}
    if request.method == "POST":
        # The lean path counted this post already when it handed it over.
        if not request.environ.get(POST_COUNTED) and rate_limited(
            request.META.get("REMOTE_ADDR", "")
        ):
            return _plain(request, "too_many", 429)
        served = served_form(request.POST, link)
        if served is None:
            return _plain(request, "invalid_form", 400, link=link)
        raw = raw_answers(survey.questionnaire, request.POST)
        try:
            response, problems = services.submit_web_response(
                link,
                raw,
                seconds=max(0, int(time.time() - served["t"])),
                device_id=device,
                nonce=served["n"],
                counties=counties,
                streets=streets,
            )
        except services.ClosedSurveyError:
            return _plain(request, "closed", 410, link=link)
        except (services.ReplayError, IntegrityError):  # IntegrityError: a concurrent replay
            return _plain(request, "replayed", 409, link=link)
        if response is not None:
            reply = _plain(request, "thanks", 200, link=link)
            reply.set_cookie(DEVICE_COOKIE, device, **DEVICE_COOKIE_OPTIONS)
            return reply
        answers, errors = raw, problems.errors
    reply = render(
        request,
        "survey/public/form.html",
        {
            "link": link,
            "survey": survey,
            "questions_html": questions_html(
                survey.questionnaire, counties, streets, answers, errors
            ),
            "form_key": new_form_key(link),
            "has_errors": bool(errors),
            "minutes": survey.questionnaire.spec.get("minutes", 5),
        },
        status=400 if errors else 200,
    )
    reply.set_cookie(DEVICE_COOKIE, device, **DEVICE_COOKIE_OPTIONS)
    return reply


def dimension_names() -> dict[str, str]:
    """Dimension code → name in the active language (any loaded system's, the latest first)."""
    from citycheck.indicators.models import Dimension

    names: dict[str, str] = {}
    for dimension in Dimension.objects.order_by("-system__version"):
        names.setdefault(dimension.code, dimension.name)
    return names


# ── Staff pages ─────────────────────────────────────────────────────────────────


def _survey_for(user, pk: int) -> Survey:
    survey = services.visible_surveys(user).filter(pk=pk).first()
    if survey is None:
        raise PermissionDenied(_("您无权查看这次调查。"))
    return survey


def _is_province(user) -> bool:
    return user.is_superuser or (
        access.may(user, Action.MANAGE) and user.place and user.place.level == PlaceLevel.PROVINCE
    )


@login_required
def survey_list(request):
    surveys = services.visible_surveys(request.user)
    open_rounds = Round.objects.restrict(request.user, Action.MANAGE).filter(survey__isnull=True)
    return render(
        request,
        "survey/survey_list.html",
        {
            "surveys": surveys,
            "rounds": open_rounds if _is_province(request.user) else [],
            "questionnaires": Questionnaire.objects.all(),
        },
    )


@login_required
@require_POST
def survey_open(request):
    round_id, questionnaire_id = (
        request.POST.get("round", ""),
        request.POST.get("questionnaire", ""),
    )
    round_ = (
        Round.objects.restrict(request.user, Action.MANAGE).filter(pk=round_id).first()
        if round_id.isdigit()
        else None
    )
    questionnaire = (
        Questionnaire.objects.filter(pk=questionnaire_id).first()
        if questionnaire_id.isdigit()
        else None
    )
    if round_ is None or questionnaire is None:
        messages.error(request, _("请选择体检轮次和问卷。"))
        return redirect("survey:list")
    try:
        survey = services.open_survey(round_, questionnaire, acting_user=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("survey:list")
    messages.success(request, _("调查已开放，各市的问卷链接和海报已生成。"))
    return redirect("survey:detail", pk=survey.pk)


@login_required
@require_POST
def survey_close(request, pk: int):
    survey = _survey_for(request.user, pk)
    services.close_survey(survey, acting_user=request.user)
    messages.success(request, _("调查已结束。"))
    return redirect("survey:detail", pk=survey.pk)


@login_required
def survey_detail(request, pk: int):
    survey = _survey_for(request.user, pk)
    user = request.user
    board = services.progress_board(survey, user)
    by_county = (
        board.groupby(["city", "county"])[["quota", "responses", "flagged"]].sum().reset_index()
        if not board.empty
        else board
    )
    names = {p.code: p.name for p in survey.round.places.all()}
    counties = [
        {
            "code": row.county,
            "name": names.get(row.county, row.county),
            "city": names.get(row.city, row.city),
            "quota": int(row.quota),
            "responses": int(row.responses),
            "flagged": int(row.flagged),
            "percent": round(100 * row.responses / row.quota) if row.quota else 0,
            "short_cells": int(
                ((board["county"] == row.county) & (board["responses"] < board["quota"])).sum()
            ),
        }
        for row in by_county.itertuples()
    ]
    reach = access.reach(user)
    links = SurveyLink.objects.filter(survey=survey).select_related("place")
    if not user.is_superuser:
        links = links.filter(Q(place__in=reach) | Q(place__children__in=reach)).distinct()
    seeing = Action.VIEW if access.may(user, Action.VIEW) else Action.INTERVIEW
    flagged = (
        Response.objects.restrict(user, seeing)
        .filter(survey=survey)
        .exclude(flags=[])
        .select_related("place")[:50]
    )
    return render(
        request,
        "survey/survey_detail.html",
        {
            "survey": survey,
            "counties": counties,
            "links": links,
            "flagged": [
                {"response": r, "flags": [Flag(f).label for f in r.flags]} for r in flagged
            ],
            "is_province": _is_province(user),
            "may_enter": services.may_enter_interviews(user, survey) and survey.is_open,
        },
    )


@login_required
def poster(request, pk: int, city: str):
    survey = _survey_for(request.user, pk)
    link = get_object_or_404(SurveyLink, survey=survey, place__code=city)
    access.check_place(request.user, link.place, Action.VIEW) if not _is_province(
        request.user
    ) else None
    url = request.build_absolute_uri(reverse("survey:public_form", args=[link.token]))
    qr = segno.make(url, error="m")
    return render(
        request,
        "survey/poster.html",
        {"survey": survey, "link": link, "url": url, "qr_svg": qr.svg_inline(scale=8, dark="#111")},
    )


@login_required
@require_POST
def override(request, pk: int, response: int):
    survey = _survey_for(request.user, pk)
    row = get_object_or_404(Response, survey=survey, pk=response)
    try:
        services.override_flags(
            row,
            counted=request.POST.get("counted") == "1",
            reason=request.POST.get("reason", ""),
            acting_user=request.user,
        )
        messages.success(request, _("已记录认定及理由。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("survey:detail", pk=survey.pk)


@login_required
@require_POST
def weight(request, pk: int):
    survey = _survey_for(request.user, pk)
    if not _is_province(request.user):
        raise PermissionDenied(_("只有省级管理员可以进行此操作。"))
    try:
        job = start_job("survey.weight", acting_user=request.user, survey_id=survey.pk)
    except TooManyJobsError as exc:
        messages.error(request, str(exc))
        return redirect("survey:detail", pk=survey.pk)
    return redirect("job", pk=job.pk)


@login_required
def scores(request, pk: int):
    """Scores per place with their 95 % intervals: dimensions, overall and indicators."""
    survey = _survey_for(request.user, pk)
    rows = Score.objects.restrict(request.user, Action.VIEW).filter(survey=survey)
    rows = rows.select_related("place").order_by("place__path", "kind", "code")
    dimensions = dimension_names()
    items = {i["code"]: localized(i["text_zh"], i["text_en"]) for i in survey.questionnaire.items}
    table: dict[str, dict] = {}
    for score in rows:
        if score.kind == Kind.ITEM:
            continue
        place = table.setdefault(
            score.place.code, {"place": score.place, "overall": None, "cells": {}, "indicators": []}
        )
        if score.kind == Kind.OVERALL:
            place["overall"] = score
        elif score.kind == Kind.DIMENSION:
            place["cells"][score.code] = score
        else:
            place["indicators"].append(score)
    columns = sorted({code for p in table.values() for code in p["cells"]})
    return render(
        request,
        "survey/scores.html",
        {
            "survey": survey,
            "columns": [(code, dimensions.get(code, code)) for code in columns],
            "places": [
                {**p, "row": [p["cells"].get(code) for code in columns]} for p in table.values()
            ],
            "items": items,
            "is_province": _is_province(request.user),
        },
    )


# ── Interviews and imports ──────────────────────────────────────────────────────


def _check_entry(user, survey):
    if not services.may_enter_interviews(user, survey):
        raise PermissionDenied(_("您的账号不能录入或导入调查答卷。"))


@login_required
def interview(request, pk: int):
    """A fast keyboard form for telephone and face-to-face interviews: one answer per
    field, digits for ratings, Tab to move on; the same checks as every other channel."""
    survey = _survey_for(request.user, pk)
    _check_entry(request.user, survey)
    counties = services.counties_of(survey)
    answers, errors = {}, {}
    if request.method == "POST":
        raw = {
            item["code"]: request.POST.get(item["code"], "") for item in survey.questionnaire.items
        }
        raw["street"] = request.POST.get("street", "")
        raw["seconds"] = request.POST.get("seconds", "")
        raw["reference"] = request.POST.get("reference", "")
        try:
            stored, issues = services.record_responses(
                survey, [raw], acting_user=request.user, channel=Channel.INTERVIEW
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return redirect("survey:detail", pk=survey.pk)
        if stored:
            messages.success(request, _("已保存一份访问答卷。"))
            return redirect("survey:interview", pk=survey.pk)
        answers = raw
        errors = {issue.column: issue.message for issue in issues}
    return render(
        request,
        "survey/interview.html",
        {
            "survey": survey,
            "questions": _questions(
                survey.questionnaire, answers, errors, counties, services.streets_of(counties)
            ),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def read_table(upload) -> list[dict]:
    """Rows of an uploaded CSV (UTF-8, with or without BOM) or Excel file, as text."""
    name = (upload.name or "").lower()
    if upload.size > MAX_IMPORT_BYTES:
        raise ValidationError(_("文件过大（上限 5 MB）。"))
    if name.endswith(".csv"):
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError(_("CSV 文件须为 UTF-8 编码。")) from exc
        rows = list(csv.DictReader(io.StringIO(text)))
    elif name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(upload, read_only=True, data_only=True).active
        except Exception as exc:  # a damaged or disguised file
            raise ValidationError(_("无法读取 Excel 文件：%(error)s") % {"error": exc}) from exc
        values = sheet.iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(values, [])]
        rows = [
            {h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=False) if h}
            for row in values
            if any(v not in (None, "") for v in row)
        ]
    else:
        raise ValidationError(_("请上传 .csv 或 .xlsx 文件。"))
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationError(_("行数过多（上限 %(count)d 行）。") % {"count": MAX_IMPORT_ROWS})
    return rows


@login_required
def import_responses(request, pk: int):
    survey = _survey_for(request.user, pk)
    _check_entry(request.user, survey)
    issues, stored, dry_run, checked = [], 0, True, False
    if request.method == "POST" and request.FILES.get("file"):
        dry_run = request.POST.get("dry_run") == "1"
        try:
            rows = read_table(request.FILES["file"])
            stored, issues = services.record_responses(
                survey, rows, acting_user=request.user, channel=Channel.IMPORT, dry_run=dry_run
            )
            checked = True
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        if checked and not issues:
            if dry_run:
                messages.success(
                    request,
                    _("检查通过：%(count)d 行均无问题，可正式导入。") % {"count": len(rows)},
                )
            else:
                messages.success(request, _("已导入 %(count)d 份答卷。") % {"count": stored})
    return render(
        request,
        "survey/import.html",
        {
            "survey": survey,
            "issues": issues,
            "columns": [i["code"] for i in survey.questionnaire.items],
        },
        status=400 if issues else 200,
    )


@login_required
def comparison(request, pk: int):
    """Satisfaction against the index per place and dimension: quadrant chart and gaps."""
    from .comparison import GAP, QUADRANTS, compare, latest_release

    survey = _survey_for(request.user, pk)
    frame = compare(survey, request.user)
    names = dimension_names()
    level = request.GET.get("level", "county")
    shown = frame[frame["level"] == level] if not frame.empty else frame
    points = [
        {
            "name": f"{row.name} · {names.get(row.dimension, row.dimension)}",
            "value": [round(row.index_rank * 100, 1), round(row.satisfaction_rank * 100, 1)],
            "quadrant": row.quadrant,
        }
        for row in shown.itertuples()
    ]
    gaps = [
        {
            "place": row.name,
            "dimension": names.get(row.dimension, row.dimension),
            "satisfaction": row.satisfaction,
            "low": row.low,
            "high": row.high,
            "index_score": row.index_score,
            "gap": round(row.gap * 100),
            "quadrant": QUADRANTS[row.quadrant],
            "kind": row.quadrant,
        }
        for row in shown[shown["quadrant"].isin(["felt", "measured"])]
        .sort_values("gap", key=abs, ascending=False)
        .itertuples()
    ]
    return render(
        request,
        "survey/comparison.html",
        {
            "survey": survey,
            "release": latest_release(survey, request.user),
            "points": points,
            "gaps": gaps,
            "level": level,
            "gap_threshold": round(GAP * 100),
            "quadrant_names": {k: str(v) for k, v in QUADRANTS.items()},
        },
    )
