"""The survey's writers: questionnaires, opening and closing, responses from the public
form, interviewers and imports, the province's overrides, and weighting.

Every function that writes takes ``acting_user`` (None for an anonymous respondent) and
runs in one transaction; workflow steps are recorded with ``record_event``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.collection.models import Round
from citycheck.core import access
from citycheck.core.choices import Action, Role
from citycheck.core.models import record_event
from citycheck.core.numbers import NumberError, parse_number
from citycheck.places.models import Place, PlaceLevel

from .models import (
    Channel,
    Flag,
    Questionnaire,
    Response,
    Street,
    Survey,
    SurveyLink,
    SurveyStatus,
)
from .questionnaire import read_questionnaire

SEXES = ("male", "female")
AGE_BANDS = ("18_29", "30_39", "40_49", "50_59", "60_plus")
# Straight-lining: at least this many rating items answered, all with the same point.
STRAIGHT_MIN_ITEMS = 10


class QuestionnaireFileError(ValidationError):
    """A questionnaire file refused; ``issues`` lists every problem (file, line, field)."""

    def __init__(self, issues):
        self.issues = issues
        super().__init__("\n".join(map(str, issues)))


class SurveyError(ValidationError):
    """A survey action that cannot be taken now (closed survey, no questionnaire ...)."""


def data_dir() -> Path:
    return Path(settings.DATA_DIR)


# ── Questionnaires ────────────────────────────────────────────────────────────────


@transaction.atomic
def import_questionnaire(path, *, acting_user=None) -> Questionnaire:
    """Load a questionnaire file (checked first: nothing is loaded if any problem)."""
    spec, issues = read_questionnaire(path)
    if issues:
        raise QuestionnaireFileError(issues)
    questionnaire, created = Questionnaire.objects.update_or_create(
        code=spec.code,
        version=spec.version,
        defaults={
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "spec": spec.as_json(),
            "digest": spec.digest,
        },
    )
    record_event(
        questionnaire, "import" if created else "reimport", acting_user=acting_user, note=str(path)
    )
    return questionnaire


# ── Census figures and the sample design ──────────────────────────────────────────


@cache
def census() -> pd.DataFrame:
    """2020 census figures by county (``data/survey/census_2020.csv``, see its README)."""
    frame = pd.read_csv(data_dir() / "survey" / "census_2020.csv", dtype={"code": str})
    return frame.set_index("code")


def adult_controls(county_codes) -> pd.DataFrame:
    """Adults (18+) per county by sex and by age band, from the census.

    The census gives age shares of all residents and a sex ratio; adults of a band are
    ``population x share``, split by sex with the county's sex ratio (the census county
    tabulation carries no sex x age cross table, so the sex ratio is taken as the same in
    every band). Columns: ``county``, ``sex``, ``age_band``, ``population``.
    """
    table = census().reindex(list(county_codes))
    missing = table.index[table["population"].isna()].tolist()
    if missing:
        raise SurveyError(
            _("普查数据中没有这些县（市、区）：%(codes)s") % {"codes": "、".join(missing)}
        )
    male_share = table["males_per_100_females"] / (100 + table["males_per_100_females"])
    rows = []
    for band in AGE_BANDS:
        adults = table["population"] * table[f"age_{band}"]
        for sex, share in (("male", male_share), ("female", 1 - male_share)):
            rows.append(
                pd.DataFrame(
                    {
                        "county": table.index,
                        "sex": sex,
                        "age_band": band,
                        "population": adults * share,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def sample_design(survey: Survey) -> pd.DataFrame:
    """Targets per county and quota cell: a city's target is ``max(minimum, rate x
    resident population)``, split to its counties by their 2020 census population, and
    each county's target to sex x age-band cells by its adult population.

    Columns: ``city``, ``county``, ``sex``, ``age_band``, ``quota`` (whole responses,
    at least 1).
    """
    counties = list(survey.round.places.filter(level=PlaceLevel.COUNTY).select_related("parent"))
    if not counties:
        return pd.DataFrame(columns=["city", "county", "sex", "age_band", "quota"])
    cells = adult_controls([c.code for c in counties])
    parent = {c.code: c.parent.code for c in counties}
    cells["city"] = cells["county"].map(parent)
    population = census()["population"]
    county_population = pd.Series({c.code: population[c.code] for c in counties})
    city_population = county_population.groupby(county_population.index.map(parent)).sum()
    city_target = np.maximum(
        survey.minimum_per_city, np.ceil(city_population * survey.rate_per_10000 / 10_000)
    )
    county_target = city_target[county_population.index.map(parent)].to_numpy() * (
        county_population / county_population.index.map(parent).map(city_population).to_numpy()
    )
    adults = cells.groupby("county")["population"].transform("sum")
    cells["quota"] = np.maximum(
        1, np.ceil(cells["county"].map(county_target) * cells["population"] / adults)
    ).astype(int)
    return cells[["city", "county", "sex", "age_band", "quota"]]


def progress_board(survey: Survey, user) -> pd.DataFrame:
    """Counted responses against quota per county and cell, for the places in ``user``'s
    reach. Columns as :func:`sample_design` plus ``responses``, ``flagged``, ``share``."""
    design = sample_design(survey)
    visible = (
        set(access.reach(user).filter(level=PlaceLevel.COUNTY).values_list("code", flat=True))
        if not user.is_superuser
        else set(design["county"])
    )
    design = design[design["county"].isin(visible)]
    rows = pd.DataFrame.from_records(
        Response.objects.filter(survey=survey, place__code__in=list(visible)).values_list(
            "place__code", "sex", "age_band", "flags", "override"
        ),
        columns=["county", "sex", "age_band", "flags", "override"],
    )
    if rows.empty:
        design = design.assign(responses=0, flagged=0)
    else:
        rows["counted"] = rows["flags"].map(len).eq(0) | rows["override"]
        grouped = rows.groupby(["county", "sex", "age_band"]).agg(
            responses=("counted", "sum"), flagged=("counted", lambda s: int((~s).sum()))
        )
        design = design.merge(grouped.reset_index(), on=["county", "sex", "age_band"], how="left")
        design[["responses", "flagged"]] = design[["responses", "flagged"]].fillna(0).astype(int)
    design["share"] = design["responses"] / design["quota"]
    return design.reset_index(drop=True)


# ── Streets and townships ─────────────────────────────────────────────────────────

STREET_COLUMNS = ("county", "code", "name_zh", "name_en", "synthetic")


@transaction.atomic
def load_streets(path) -> int:
    """Load a list of streets/townships (街道/乡镇): a UTF-8 CSV with the columns
    ``county,code,name_zh,name_en,synthetic`` (``synthetic`` 1/0). Every row is checked
    first (an unknown county, a code not 9 digits or not within its county's code, a
    duplicate code, an empty name), each problem naming its line and column; any
    problem loads nothing. Existing streets of the same code are updated (each change in
    the audit trail, by the acting user of ``core.context.acting``). Returns the rows
    loaded."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError) as exc:
        raise SurveyError(_("无法读取 %(path)s：%(error)s") % {"path": path, "error": exc}) from exc
    issues = [
        RowIssue(1, column, _("缺少此列")) for column in STREET_COLUMNS if column not in header
    ]
    counties = {
        p.code: p
        for p in Place.objects.filter(
            level=PlaceLevel.COUNTY, code__in={(r.get("county") or "").strip() for _, r in rows}
        )
    }
    seen: set[str] = set()
    for line, row in rows if not issues else []:
        county, code = (row.get("county") or "").strip(), (row.get("code") or "").strip()
        if county not in counties:
            issues.append(RowIssue(line, "county", _("未知县（市、区）：%(v)s") % {"v": county}))
        if not (code.isdigit() and len(code) == 9 and code.startswith(county)):
            issues.append(
                RowIssue(line, "code", _("须为所属县代码开头的 9 位数字：%(v)s") % {"v": code})
            )
        elif code in seen:
            issues.append(RowIssue(line, "code", _("代码重复：%(v)s") % {"v": code}))
        seen.add(code)
        if not (row.get("name_zh") or "").strip():
            issues.append(RowIssue(line, "name_zh", _("名称不能为空")))
        if (row.get("synthetic") or "").strip() not in ("0", "1"):
            issues.append(RowIssue(line, "synthetic", _("须为 1 或 0")))
    if issues:
        raise ResponseImportError(issues)
    for _line, row in rows:
        Street.objects.update_or_create(
            code=row["code"].strip(),
            defaults={
                "county": counties[row["county"].strip()],
                "name_zh": row["name_zh"].strip(),
                "name_en": (row.get("name_en") or "").strip(),
                "synthetic": row["synthetic"].strip() == "1",
            },
        )
    return len(rows)


def streets_of(counties: dict[str, Place]) -> dict[str, Street]:
    """The streets of these counties, code → street (with its county), in code order."""
    streets = Street.objects.filter(county__in=list(counties.values())).select_related("county")
    return {street.code: street for street in streets}


def visible_surveys(user):
    """The surveys of the rounds ``user`` may view (interviewers: the rounds their
    assigned places take part in)."""
    rounds = Round.objects.restrict(user, Action.VIEW)
    if access.may(user, Action.INTERVIEW) and not access.may(user, Action.VIEW):
        rounds = rounds | Round.objects.restrict(user, Action.INTERVIEW)
    return Survey.objects.filter(round__in=rounds).select_related("round", "questionnaire")


# ── Opening and closing ───────────────────────────────────────────────────────────


def _check_province(user, action=Action.MANAGE):
    """Province administrators (or the console: ``user`` None, a ``citycheck`` command)."""
    if user is None:
        return
    if not (
        user.is_superuser
        or (access.may(user, action) and user.place and user.place.level == PlaceLevel.PROVINCE)
    ):
        raise PermissionDenied(_("只有省级管理员可以进行此操作。"))


@transaction.atomic
def open_survey(
    round_: Round,
    questionnaire: Questionnaire,
    *,
    acting_user,
    minimum_per_city: int = 400,
    rate_per_10000: float = 3.0,
) -> Survey:
    """Open the round's survey for every city taking part, with a link token per city."""
    _check_province(acting_user)
    survey, _created = Survey.objects.get_or_create(
        round=round_,
        defaults={
            "questionnaire": questionnaire,
            "minimum_per_city": minimum_per_city,
            "rate_per_10000": rate_per_10000,
        },
    )
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyError(_("该调查已结束，不能再次开放。"))
    survey.snapshot()
    survey.questionnaire = questionnaire
    survey.status = SurveyStatus.OPEN
    survey.save()
    for city in round_.places.filter(level=PlaceLevel.CITY):
        SurveyLink.objects.get_or_create(
            survey=survey, place=city, defaults={"token": secrets.token_urlsafe(18)}
        )
    record_event(survey, "open", acting_user=acting_user)
    return survey


@transaction.atomic
def close_survey(survey: Survey, *, acting_user) -> Survey:
    _check_province(acting_user)
    survey.snapshot()
    survey.status = SurveyStatus.CLOSED
    survey.save()
    record_event(survey, "close", acting_user=acting_user)
    return survey


# ── Answers: checking, masking, flags ─────────────────────────────────────────────

# Mainland mobile numbers (11 digits starting 1[3-9]), landlines with area code, and
# 18-character resident ID numbers (17 digits + digit or X).
_ID_CARD = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)")


def mask_identifiers(text: str) -> str:
    """Mask ID-card numbers and phone numbers in free text.

    >>> mask_identifiers("电话13812345678，身份证36010219900101123X，座机0791-86123456")
    '电话***********，身份证******************，座机*************'
    """
    for pattern in (_ID_CARD, _MOBILE, _LANDLINE):
        text = pattern.sub(lambda m: "*" * len(m.group()), text)
    return text


@dataclass
class AnswerErrors:
    """Problems of one set of answers: field (item code) → message."""

    errors: dict[str, str] = field(default_factory=dict)

    def add(self, code, message):
        self.errors.setdefault(code, message)


def item_text(item: dict) -> str:
    from citycheck.core.language import localized

    return localized(item["text_zh"], item["text_en"])


def clean_answers(
    questionnaire: Questionnaire,
    raw: dict,
    counties: dict[str, Place],
    streets: dict[str, Street] | None = None,
) -> tuple[dict, AnswerErrors]:
    """Check raw answers (strings, lists for multiple choice) against the questionnaire.

    Returns the clean answers (Likert and number as numbers, choices as option codes,
    text masked) and the errors by item code. ``counties`` are the places a respondent
    may choose (code → place); ``streets`` the streets/townships of those counties
    (code → street). An optional ``street`` answer must be one of them and lie in the
    county chosen; a street given without a county gives its county.
    """
    errors = AnswerErrors()
    clean: dict = {}
    street_code = str(raw.get("street") or "").strip()
    street = (streets or {}).get(street_code)
    if street_code:
        place_item = questionnaire.role_item("place")
        if street is None:
            errors.add("street", _("未知街道（乡镇）：%(value)s") % {"value": street_code})
        elif place_item and not str(raw.get(place_item["code"]) or "").strip():
            raw = {**raw, place_item["code"]: street.county.code}
        elif place_item and str(raw.get(place_item["code"])).strip() != street.county.code:
            errors.add(
                "street",
                _("%(street)s不属于所选的县（市、区）") % {"street": street.name_zh},
            )
        if street is not None and "street" not in errors.errors:
            clean["street"] = street.code
    for item in questionnaire.items:
        code, kind = item["code"], item["type"]
        value = raw.get(code)
        empty = value is None or value == "" or value == []
        if empty:
            if item.get("required", True):
                errors.add(code, _("此题必答"))
            continue
        if kind == "likert":
            points = questionnaire.spec["scales"][item["scale"]]["points"]
            number = _whole(value)
            if number is None or not 1 <= number <= points:
                errors.add(
                    code,
                    _("须为 1 到 %(points)d 的整数：%(value)s")
                    % {"points": points, "value": value},
                )
            else:
                clean[code] = number
        elif kind == "single":
            options = {o["code"] for o in item["options"]}
            if str(value) not in options:
                errors.add(code, _("不是本题的选项：%(value)s") % {"value": value})
            else:
                clean[code] = str(value)
        elif kind == "multiple":
            values = (
                value
                if isinstance(value, list)
                else [v for v in re.split(r"[;,，；|]", str(value)) if v.strip()]
            )
            values = [str(v).strip() for v in values]
            options = {o["code"] for o in item["options"]}
            unknown = [v for v in values if v not in options]
            if unknown:
                errors.add(code, _("不是本题的选项：%(value)s") % {"value": "、".join(unknown)})
            elif item.get("max_choices") and len(set(values)) > item["max_choices"]:
                errors.add(code, _("最多选 %(count)d 项") % {"count": item["max_choices"]})
            else:
                clean[code] = sorted(set(values))
        elif kind == "number":
            try:
                number = parse_number(str(value))
            except NumberError:
                number = None
            low, high = item.get("min"), item.get("max")
            if (
                number is None
                or (low is not None and number < low)
                or (high is not None and number > high)
            ):
                errors.add(
                    code,
                    _("须为 %(low)s 到 %(high)s 之间的数：%(value)s")
                    % {"low": low, "high": high, "value": value},
                )
            else:
                clean[code] = number
        elif kind == "text":
            text = str(value).strip()[: item.get("max_length") or 500]
            clean[code] = mask_identifiers(text)
        elif kind == "place":
            if str(value) not in counties:
                errors.add(code, _("未知地区：%(value)s") % {"value": value})
            else:
                clean[code] = str(value)
    return clean, errors


def _whole(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == int(number) else None


def fingerprint(answers: dict) -> str:
    return hashlib.sha256(
        json.dumps(answers, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def device_hash(survey: Survey, device_id: str) -> str:
    """A salted digest of the browser's random id: one answer per device, no identity."""
    salt = f"{settings.SECRET_KEY}:survey:{survey.pk}"
    return hashlib.sha256(f"{salt}:{device_id}".encode()).hexdigest() if device_id else ""


def quality_flags(
    questionnaire: Questionnaire, answers: dict, seconds, *, device_seen: bool, duplicate: bool
) -> list[str]:
    """The quality flags of one response (empty: it counts)."""
    flags = []
    if device_seen:
        flags.append(Flag.DEVICE.value)
    speeder = questionnaire.spec.get("speeder_seconds", 60)
    if seconds is not None and seconds < speeder:
        flags.append(Flag.SPEEDER.value)
    ratings = [
        answers[i["code"]]
        for i in questionnaire.items
        if i["type"] == "likert" and i["code"] in answers
    ]
    if len(ratings) >= STRAIGHT_MIN_ITEMS and len(set(ratings)) == 1:
        flags.append(Flag.STRAIGHT.value)
    if duplicate:
        flags.append(Flag.DUPLICATE.value)
    return flags


def counties_of(survey: Survey, city: Place | None = None) -> dict[str, Place]:
    places = survey.round.places.filter(level=PlaceLevel.COUNTY)
    if city is not None:
        places = places.filter(parent=city)
    return {p.code: p for p in places.order_by("code")}


# ── Responses ────────────────────────────────────────────────────────────────────


class ClosedSurveyError(SurveyError):
    pass


class ReplayError(SurveyError):
    pass


def _seen_sql() -> str:
    # ``+survey_id`` keeps SQLite from searching by the survey's index (every response of
    # the survey, without ANALYZE's statistics it takes it) instead of the device's and
    # the fingerprint's; PostgreSQL reads it as the same column.
    replayed, device, duplicate = (
        "nonce = %s",
        "+survey_id = %s AND device = %s AND device <> ''",
        "+survey_id = %s AND fingerprint = %s",
    )
    counts = ", ".join(
        f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"
        for condition in (replayed, device, duplicate)
    )
    return (
        f"SELECT {counts} FROM {Response._meta.db_table} "
        f"WHERE ({replayed}) OR ({device}) OR ({duplicate})"
    )


def _seen(survey: Survey, *, nonce: str, device: str, fingerprint: str) -> dict[str, int]:
    """How many responses used this nonce, came from this device (none for no device)
    and gave identical answers to this survey, in one written-out query (the ORM's
    compilation of three filtered counts took ~1 ms of a submission's CPU)."""
    conditions = [nonce, survey.pk, device, survey.pk, fingerprint]
    with connection.cursor() as cursor:
        cursor.execute(_seen_sql(), conditions * 2)
        replayed, same_device, duplicate = cursor.fetchone()
    return {"replayed": replayed, "device": same_device, "duplicate": duplicate}


@transaction.atomic
def submit_web_response(
    link: SurveyLink,
    raw: dict,
    *,
    seconds: int | None,
    device_id: str,
    nonce: str,
    counties: dict[str, Place] | None = None,
    streets: dict[str, Street] | None = None,
) -> tuple[Response | None, AnswerErrors]:
    """A resident's answers from the public form (anonymous). Returns the response, or
    None and the errors. A nonce already used raises :class:`ReplayError`. ``counties``
    and ``streets`` are the link's city's, when the caller has them already.

    Checked in one query: the nonce's earlier use, the device's earlier answer and an
    identical earlier set of answers; then one insert."""
    survey = link.survey
    if not survey.is_open or not link.active:
        raise ClosedSurveyError(_("本次调查已结束，感谢您的关注。"))
    if counties is None:
        counties = counties_of(survey, link.place)
    if streets is None:
        streets = streets_of(counties)
    clean, errors = clean_answers(survey.questionnaire, raw, counties, streets)
    if errors.errors:
        return None, errors
    device = device_hash(survey, device_id)
    print_ = fingerprint(clean)
    seen = _seen(survey, nonce=nonce, device=device, fingerprint=print_)
    if seen["replayed"]:
        raise ReplayError(_("这份问卷已经提交过了，请勿重复提交。"))
    response = Response.objects.create(
        survey=survey,
        place=counties[clean["place"]],
        channel=Channel.WEB,
        answers=clean,
        street=clean.get("street", ""),
        sex=clean.get("sex", ""),
        age_band=clean.get("age_band", ""),
        seconds=seconds,
        device=device,
        nonce=nonce,
        fingerprint=print_,
        flags=quality_flags(
            survey.questionnaire,
            clean,
            seconds,
            device_seen=bool(seen["device"]),
            duplicate=bool(seen["duplicate"]),
        ),
    )
    return response, errors


def may_enter_interviews(user, survey: Survey) -> bool:
    """Interviews' entry and imports: province administrators, and interviewers (a survey
    company's staff) for the places assigned to them — which rows they may store is then
    decided place by place in :func:`record_responses`."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or user.role == Role.PROVINCE_ADMIN:
        return True
    if not access.may(user, Action.INTERVIEW):
        return False
    return survey.round.places.filter(pk__in=access.reach(user).values("pk")).exists()


@dataclass
class RowIssue:
    row: int
    column: str
    message: str

    def __str__(self):
        return _("第 %(row)d 行，%(column)s 列：%(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class ResponseImportError(SurveyError):
    def __init__(self, issues):
        self.issues = issues
        super().__init__("\n".join(map(str, issues)))


def record_responses(
    survey: Survey,
    rows: list[dict],
    *,
    acting_user,
    channel: str = Channel.IMPORT,
    dry_run: bool = False,
    first_row: int = 2,
) -> tuple[int, list[RowIssue]]:
    """Store interviews or an external tool's export: every row is checked first; any
    problem refuses the whole import (all-or-nothing) and every problem is returned, by
    row and column. ``rows`` are dicts item code → raw answer, plus optional
    ``reference`` (the tool's id, unique per survey) and ``seconds``.

    Returns (responses stored, issues). ``dry_run`` checks and stores nothing.
    """
    if acting_user is not None and not may_enter_interviews(acting_user, survey):
        raise PermissionDenied(_("您的账号不能录入或导入调查答卷。"))
    if survey.status == SurveyStatus.CLOSED:
        raise ClosedSurveyError(_("本次调查已结束，不能再录入答卷。"))
    reach = (
        None
        if acting_user is None
        or acting_user.is_superuser
        or acting_user.role == Role.PROVINCE_ADMIN
        else set(access.reach(acting_user).values_list("code", flat=True))
    )
    counties = all_counties = counties_of(survey)
    if reach is not None:
        counties = {
            code: p for code, p in counties.items() if code in reach or p.parent.code in reach
        }
    issues: list[RowIssue] = []
    streets = streets_of(counties)
    known_columns = {i["code"] for i in survey.questionnaire.items} | {
        "reference",
        "seconds",
        "street",
    }
    existing_refs = set(
        Response.objects.filter(survey=survey)
        .exclude(reference="")
        .values_list("reference", flat=True)
    )
    seen_refs: set[str] = set()
    cleaned = []
    if rows:
        unknown = sorted(set(rows[0]) - known_columns)
        for column in unknown:
            issues.append(RowIssue(1, column, _("未知列（不是本问卷的题目代码）")))
    for number, raw in enumerate(rows, start=first_row):
        clean, errors = clean_answers(survey.questionnaire, raw, counties, streets)
        place = str(raw.get("place") or "").strip()
        if place in all_counties and place not in counties:
            # a place of the survey, but not one this interviewer was assigned
            errors.errors["place"] = _("%(place)s不在您负责的地区范围内，不能录入") % {
                "place": all_counties[place].name
            }
        for code, message in errors.errors.items():
            issues.append(RowIssue(number, code, message))
        reference = str(raw.get("reference") or "").strip()
        if reference:
            if reference in existing_refs or reference in seen_refs:
                issues.append(
                    RowIssue(number, "reference", _("编号重复：%(ref)s") % {"ref": reference})
                )
            seen_refs.add(reference)
        seconds = _whole(raw.get("seconds")) if raw.get("seconds") not in (None, "") else None
        if raw.get("seconds") not in (None, "") and (seconds is None or seconds < 0):
            issues.append(RowIssue(number, "seconds", _("用时须为非负整数秒")))
        cleaned.append((clean, reference, seconds))
    if issues or dry_run:
        return 0, issues
    with transaction.atomic():
        prints = set(Response.objects.filter(survey=survey).values_list("fingerprint", flat=True))
        objects = []
        for clean, reference, seconds in cleaned:
            print_ = fingerprint(clean)
            objects.append(
                Response(
                    survey=survey,
                    place=counties[clean["place"]],
                    channel=channel,
                    answers=clean,
                    street=clean.get("street", ""),
                    sex=clean.get("sex", ""),
                    age_band=clean.get("age_band", ""),
                    seconds=seconds,
                    reference=reference,
                    fingerprint=print_,
                    flags=quality_flags(
                        survey.questionnaire,
                        clean,
                        seconds,
                        device_seen=False,
                        duplicate=print_ in prints,
                    ),
                    entered_by=acting_user,
                )
            )
            prints.add(print_)
        _insert_responses(objects)
        record_event(
            survey, f"responses_{channel}", acting_user=acting_user, data={"count": len(objects)}
        )
    return len(objects), []


def _insert_responses(responses: list[Response]) -> None:
    """Insert new responses with one prepared statement executed per row: on a large
    import (the demo's 80,000 answers) the ORM's per-value compilation in
    ``bulk_create`` is most of the time. JSON fields are serialised as the ORM would,
    ``created`` is now; Response has no save signals to miss."""
    fields = [f for f in Response._meta.concrete_fields if not f.primary_key]
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    quote = connection.ops.quote_name

    def column(field):
        if isinstance(field, models.JSONField):
            return lambda r: json.dumps(getattr(r, field.attname))
        if field.name == "created":
            return lambda r: created
        return lambda r: getattr(r, field.attname)

    getters = [column(f) for f in fields]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(Response._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        for start in range(0, len(responses), 5000):
            cursor.executemany(
                sql, [[get(r) for get in getters] for r in responses[start : start + 5000]]
            )


@transaction.atomic
def override_flags(response: Response, *, counted: bool, reason: str, acting_user) -> Response:
    """The province rules a flagged response in (or back out), with its reason (audited)."""
    _check_province(acting_user, Action.APPROVE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写理由。")})
    before = {"override": response.override, "reason": response.override_reason}
    response.override = counted
    response.override_reason = reason[:300]
    response.save(update_fields=["override", "override_reason"])
    record_event(
        response.survey,
        "override",
        acting_user=acting_user,
        note=reason,
        data={
            "response": response.pk,
            "before": before,
            "counted": counted,
            "flags": response.flags,
        },
    )
    return response


def satisfaction_frame(round_: Round) -> pd.DataFrame | None:
    """Residents' satisfaction (0–100) of the round's weighted survey: index = place code,
    a column per dimension code — what ``engine.diagnosis.diagnose`` takes as evidence of
    dissatisfaction (and what project priorities then read as demand). None when the
    round's survey has not been weighted."""
    from .models import Kind, Score

    survey = Survey.objects.filter(round=round_, weighted_at__isnull=False).first()
    if survey is None:
        return None
    rows = pd.DataFrame.from_records(
        Score.objects.filter(survey=survey, kind=Kind.DIMENSION).values_list(
            "place__code", "code", "score"
        ),
        columns=["place", "dimension", "score"],
    )
    if rows.empty:
        return None
    frame = rows.pivot(index="place", columns="dimension", values="score")
    frame.columns.name = frame.index.name = None
    return frame
