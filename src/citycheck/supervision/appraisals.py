"""The annual assessment (每年度考核): the scheme file, the measures computed from the
platform's records, hand scores with evidence, adjustments with reasons, issue.

A scheme (``data/supervision/appraisal-*.yaml``) lists criteria: ``computed`` ones name a
record of :data:`RECORDS` (a share in [0, 1] per place, computed below with the evidence
behind it), ``manual`` ones are scored by the province with evidence, ``bonus`` and
``penalty`` items add or take off points. Scores and ranks come from
:func:`citycheck.engine.appraisal.score_appraisal`, cities and counties ranked apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from citycheck.collection.models import Round, RoundKind, Source, Submission, Value
from citycheck.core.models import ChangeRecord, record_event
from citycheck.core.numbers import NumberError, parse_number
from citycheck.diagnosis.models import Problem, ProblemStatus, RecheckStatus
from citycheck.engine.appraisal import score_appraisal
from citycheck.indicators.yaml_files import SLUG, Issue, load_yaml
from citycheck.places.models import Place, PlaceLevel
from citycheck.renewal.models import ProjectStatus, RenewalProject
from citycheck.renewal.services import progress_board
from citycheck.reports.document import Document, Paragraph, Section, Table
from citycheck.reports.parts import number_text
from citycheck.reports.services import REPORT_LANGUAGE, write_document

from .bulletins import files_dir, next_number
from .dispatch import may_run
from .models import (
    Appraisal,
    AppraisalScore,
    AppraisalTotal,
    DispatchReport,
    DispatchStatus,
    IssueStatus,
)

KINDS = ("computed", "manual", "bonus", "penalty")
WEIGHT_TOTAL = 100.0


class SchemeError(Exception):
    """A scheme file that was refused; ``issues`` lists every problem (file, line, field)."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(map(str, issues)))


class AppraisalError(ValueError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def scheme_dir() -> Path:
    return Path(getattr(settings, "CITYCHECK_APPRAISAL_DIR", settings.DATA_DIR / "supervision"))


def scheme_path(year: int) -> Path:
    return scheme_dir() / f"appraisal-{year}.yaml"


# ── the records a criterion may be computed from ─────────────────────────────


@dataclass(frozen=True)
class Record:
    description: str
    compute: Callable[[int, list[Place]], dict[int, tuple[float, dict]]]
    available: Callable[[], bool] = lambda: True


def _round(year: int) -> Round | None:
    return Round.objects.filter(year=year, kind=RoundKind.ANNUAL).order_by("-pk").first()


def _share(numerator: int, denominator: int, text: str, empty: str) -> tuple[float, dict]:
    if denominator == 0:
        return 1.0, {"numerator": 0, "denominator": 0, "text": empty}
    return min(1.0, numerator / denominator), {
        "numerator": numerator,
        "denominator": denominator,
        "text": text % {"n": numerator, "d": denominator},
    }


def _adopted_values(year, places):
    """Indicators with an adopted value for the place ÷ the indicators the round collected
    (any source, any place)."""
    round_ = _round(year)
    if round_ is None:
        return {}
    expected = Value.objects.filter(round=round_).values("indicator").distinct().count()
    adopted = pd.DataFrame(
        list(
            Value.objects.filter(round=round_, source=Source.ADOPTED, value__isnull=False)
            .values_list("place_id", "indicator_id")
            .distinct()
        ),
        columns=["place", "indicator"],
    )
    counts = adopted.groupby("place")["indicator"].nunique().to_dict()
    return {
        p.pk: _share(
            counts.get(p.pk, 0), expected, "采信值 %(n)d / 本轮指标 %(d)d 项", "本轮无指标"
        )
        for p in places
    }


def _submissions(year, places):
    round_ = _round(year)
    if round_ is None:
        return {}, None
    rows = Submission.objects.filter(
        round=round_, place__in=places, source=Source.SELF_CHECK
    ).values_list("pk", "place_id", "submitted_at")
    return list(rows), round_


def _on_time(year, places):
    rows, round_ = _submissions(year, places)
    if round_ is None:
        return {}
    out = {}
    for p in places:
        mine = [r for r in rows if r[1] == p.pk]
        if round_.deadline is None:
            on = sum(1 for r in mine if r[2] is not None)
        else:
            on = sum(1 for r in mine if r[2] is not None and r[2].date() <= round_.deadline)
        out[p.pk] = _share(
            on,
            len(mine),
            "截止日期 %s 前提交 %%(n)d / 填报 %%(d)d 份" % (round_.deadline or "—"),
            "本轮无自体检填报",
        )
    return out


def _not_returned(year, places):
    rows, round_ = _submissions(year, places)
    if round_ is None:
        return {}
    returned = set(
        int(pk)
        for pk in ChangeRecord.objects.filter(
            content_type=ContentType.objects.get_for_model(Submission),
            event="returned",
            object_id__in=[str(r[0]) for r in rows],
        ).values_list("object_id", flat=True)
    )
    out = {}
    for p in places:
        mine = [r[0] for r in rows if r[1] == p.pk]
        clean = sum(1 for pk in mine if pk not in returned)
        out[p.pk] = _share(clean, len(mine), "未被退回 %(n)d / 填报 %(d)d 份", "本轮无自体检填报")
    return out


def _problems_with_projects(year, places):
    problems = Problem.objects.filter(
        round__year=year, status=ProblemStatus.CONFIRMED, place__in=places
    )
    with_project = set(
        problems.filter(
            projects__status__in=[
                ProjectStatus.ADOPTED,
                ProjectStatus.IN_PROGRESS,
                ProjectStatus.FINISHED,
            ]
        ).values_list("pk", flat=True)
    )
    rows = list(problems.values_list("pk", "place_id"))
    out = {}
    for p in places:
        mine = [pk for pk, place in rows if place == p.pk]
        out[p.pk] = _share(
            sum(1 for pk in mine if pk in with_project),
            len(mine),
            "已转化为入库项目的问题 %(n)d / 确认问题 %(d)d 个",
            "无确认问题，无须转化",
        )
    return out


def _projects_on_schedule(year, places):
    board = progress_board(as_of=min(dt.date(year, 12, 31), timezone.localdate()), year=year)
    flags = board.flags
    projects = dict(
        RenewalProject.objects.filter(year=year, place__in=places)
        .exclude(status__in=[ProjectStatus.CANDIDATE, ProjectStatus.CANCELLED])
        .values_list("pk", "place_id")
    )
    out = {}
    for p in places:
        mine = [pk for pk, place in projects.items() if place == p.pk]
        behind = 0
        if not flags.empty:
            mine_flags = flags[flags.index.isin(mine)]
            behind = int((mine_flags["late"] | mine_flags["stalled"]).sum())
        out[p.pk] = _share(
            len(mine) - behind,
            len(mine),
            "年末未滞后、未停滞的项目 %(n)d / 年度项目 %(d)d 个",
            "本年度无在库项目",
        )
    return out


def _recheck_improved(year, places):
    rows = list(
        Problem.objects.filter(recheck_year=year, place__in=places).values_list(
            "place_id", "recheck_status"
        )
    )
    out = {}
    for p in places:
        mine = [status for place, status in rows if place == p.pk]
        good = sum(1 for s in mine if s in (RecheckStatus.RESOLVED, RecheckStatus.IMPROVING))
        out[p.pk] = _share(
            good, len(mine), "复查解决或好转 %(n)d / 复查问题 %(d)d 个", "本年度无复查问题"
        )
    return out


def _dispatch_on_time(year, places):
    reports = list(
        DispatchReport.objects.filter(month__month__year=year).values_list(
            "place_id", "status", "late"
        )
    )
    out = {}
    for p in places:
        city = p.parent_id if p.level == PlaceLevel.COUNTY else p.pk
        mine = [(s, late) for place, s, late in reports if place == city]
        good = sum(1 for s, late in mine if s == DispatchStatus.SUBMITTED and not late)
        out[p.pk] = _share(
            good,
            len(mine),
            "按时报送 %(n)d / 调度 %(d)d 个月" + ("（县计入所在市）" if city != p.pk else ""),
            "本年度未组织月度调度",
        )
    return out


def _overall_satisfaction(year: int) -> dict[int, float]:
    from citycheck.survey.models import Kind, Score

    return dict(
        Score.objects.filter(survey__round__year=year, kind=Kind.OVERALL).values_list(
            "place_id", "score"
        )
    )


def _satisfaction(year, places):
    scores = _overall_satisfaction(year)
    out = {}
    for p in places:
        if p.pk in scores:
            out[p.pk] = (
                min(1.0, max(0.0, scores[p.pk] / 100)),
                {"score": scores[p.pk], "text": f"居民满意度 {scores[p.pk]:.1f} 分（满分 100）"},
            )
    return out


def _satisfaction_change(year, places):
    now, before = _overall_satisfaction(year), _overall_satisfaction(year - 1)
    out = {}
    for p in places:
        if p.pk not in now:
            continue
        if p.pk not in before:
            out[p.pk] = (0.5, {"text": f"居民满意度 {now[p.pk]:.1f} 分；无上年调查，按持平计"})
            continue
        change = now[p.pk] - before[p.pk]
        out[p.pk] = (
            min(1.0, max(0.0, 0.5 + change / 10)),
            {
                "change": change,
                "text": f"居民满意度较上年 {change:+.1f} 分（+5 分及以上满分，-5 分及以下不得分）",
            },
        )
    return out


def _warnings_handled(year, places):
    from citycheck.monitoring.models import EarlyWarning

    today = timezone.localdate()
    warnings = list(
        EarlyWarning.objects.filter(raised__year=year, place__in=places).values_list(
            "pk", "place_id", "deadline"
        )
    )
    handled = {}
    for object_id, time in ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(EarlyWarning),
        event="handled",
        object_id__in=[str(w[0]) for w in warnings],
    ).values_list("object_id", "time"):
        handled.setdefault(int(object_id), time)
    out = {}
    for p in places:
        due = [
            (pk, deadline)
            for pk, place, deadline in warnings
            if place == p.pk and (pk in handled or deadline < today)
        ]
        in_time = sum(
            1
            for pk, deadline in due
            if pk in handled and timezone.localtime(handled[pk]).date() <= deadline
        )
        out[p.pk] = _share(
            in_time, len(due), "期限内处置的预警 %(n)d / 到期预警 %(d)d 条", "本年度无到期预警"
        )
    return out


def _model_exists(app: str, model: str) -> Callable[[], bool]:
    def check():
        try:
            apps.get_model(app, model)
        except LookupError:
            return False
        return True

    return check


RECORDS: dict[str, Record] = {
    "collection.adopted_values": Record("体检轮次采信值占指标数的比例", _adopted_values),
    "collection.submissions_on_time": Record("截止日期前提交的自体检填报比例", _on_time),
    "collection.submissions_not_returned": Record("未被退回修改的自体检填报比例", _not_returned),
    "diagnosis.problems_with_projects": Record(
        "确认问题中已有入库项目的比例", _problems_with_projects
    ),
    "renewal.projects_on_schedule": Record(
        "年度项目中年末未滞后未停滞的比例", _projects_on_schedule
    ),
    "diagnosis.recheck_improved": Record("复查问题中解决或好转的比例", _recheck_improved),
    "supervision.dispatch_on_time": Record("月度调度按时报送的比例", _dispatch_on_time),
    "survey.satisfaction": Record(
        "居民满意度综合得分 ÷ 100", _satisfaction, _model_exists("survey", "Score")
    ),
    "survey.satisfaction_change": Record(
        "居民满意度较上年的变化", _satisfaction_change, _model_exists("survey", "Score")
    ),
    "monitoring.warnings_handled": Record(
        "期限内处置的预警比例", _warnings_handled, _model_exists("monitoring", "EarlyWarning")
    ),
}


# ── the scheme file ──────────────────────────────────────────────────────────


def load_scheme(path: Path) -> dict:
    """Read and check a scheme file; :class:`SchemeError` lists every problem with file,
    line and field."""
    name = str(path)
    data, issues = load_yaml(Path(path))
    if issues:
        raise SchemeError(issues)
    if not isinstance(data, dict):
        raise SchemeError([Issue(name, None, "", _("方案文件须为映射"))])

    def issue(where, field, message):
        issues.append(
            Issue(name, where.line_of(field) if hasattr(where, "line_of") else None, field, message)
        )

    for field in ("name", "year", "criteria"):
        if field not in data:
            issue(data, field, _("缺少此项"))
    numbers = {}
    for field, default in (("commend_at", 85), ("commend_top", None), ("summon_below", 60)):
        value = data.get(field, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            issue(data, field, _("须为数字"))
        numbers[field] = value
    criteria = data.get("criteria") or []
    if not isinstance(criteria, list) or not criteria:
        issue(data, "criteria", _("须列出至少一个考核项"))
        criteria = []
    seen, scored = set(), 0.0
    for item in criteria:
        if not isinstance(item, dict):
            issues.append(Issue(name, None, "criteria", _("每个考核项须为映射")))
            continue
        key = item.get("key")
        if not isinstance(key, str) or not SLUG.match(key):
            issue(item, "key", _("须为小写字母、数字和下划线组成的代码"))
        elif key in seen:
            issue(item, "key", _("重复的考核项 %(key)s") % {"key": key})
        seen.add(key)
        if not str(item.get("name", "")).strip():
            issue(item, "name", _("缺少名称"))
        kind = item.get("kind")
        if kind not in KINDS:
            issue(item, "kind", _("须为 %(kinds)s 之一") % {"kinds": ", ".join(KINDS)})
        weight = item.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
            issue(item, "weight", _("须为正数"))
        elif kind in ("computed", "manual"):
            scored += weight
        record = item.get("record")
        if kind == "computed":
            if record not in RECORDS:
                issue(
                    item,
                    "record",
                    _("平台没有记录 %(record)s；可选：%(known)s")
                    % {
                        "record": record,
                        "known": ", ".join(k for k, r in RECORDS.items() if r.available()),
                    },
                )
            elif not RECORDS[record].available():
                issue(
                    item,
                    "record",
                    _("平台尚无记录 %(record)s（相应模块未建成）") % {"record": record},
                )
        elif record is not None:
            issue(item, "record", _("只有 computed 考核项指明记录"))
    if criteria and abs(scored - WEIGHT_TOTAL) > 1e-9:
        issue(
            data,
            "criteria",
            _("computed 与 manual 考核项权重之和须为 %(total)g，现为 %(sum)g")
            % {"total": WEIGHT_TOTAL, "sum": scored},
        )
    if issues:
        raise SchemeError(issues)
    return {
        "name": str(data["name"]),
        "year": int(data["year"]),
        **numbers,
        "criteria": [
            {k: item.get(k) for k in ("key", "name", "kind", "weight", "record")}
            for item in criteria
        ],
    }


# ── compute, score by hand, adjust, issue ────────────────────────────────────


def _require_runner(user) -> None:
    if not may_run(user):
        raise PermissionDenied(_("只有省级管理员可以组织年度考核。"))


def assessed_places() -> list[Place]:
    return list(
        Place.objects.filter(level__in=[PlaceLevel.CITY, PlaceLevel.COUNTY]).order_by("code")
    )


@transaction.atomic
def compute_appraisal(year: int, *, acting_user, scheme_file: Path | None = None) -> Appraisal:
    """Compute a new draft assessment of ``year`` from the platform's records (a draft of
    the year computed before is replaced; an issued one is kept and this draft, once
    issued, supersedes it)."""
    _require_runner(acting_user)
    scheme = load_scheme(scheme_file or scheme_path(year))
    if scheme["year"] != year:
        raise AppraisalError(
            "year", _("方案年度 %(s)d 与考核年度 %(y)d 不符") % {"s": scheme["year"], "y": year}
        )
    Appraisal.objects.filter(year=year, status=IssueStatus.DRAFT).delete()
    issued = Appraisal.objects.filter(year=year, status=IssueStatus.ISSUED).first()
    places = assessed_places()
    is_synthetic = Round.objects.filter(year=year, is_synthetic=True).exists()
    appraisal = Appraisal.objects.create(
        year=year,
        scheme_name=scheme["name"],
        scheme=scheme,
        supersedes=issued,
        is_synthetic=is_synthetic,
    )
    scores = []
    for criterion in scheme["criteria"]:
        measured = (
            RECORDS[criterion["record"]].compute(year, places)
            if criterion["kind"] == "computed"
            else {}
        )
        for place in places:
            measure, evidence = measured.get(place.pk, (None, {"text": ""}))
            if criterion["kind"] == "computed" and measure is None:
                evidence = {"text": "无记录"}
            evidence["record"] = criterion.get("record") or ""
            points = round(measure * criterion["weight"], 4) if measure is not None else 0.0
            scores.append(
                AppraisalScore(
                    appraisal=appraisal,
                    place=place,
                    criterion=criterion["key"],
                    kind=criterion["kind"],
                    measure=measure,
                    points=points,
                    evidence=evidence,
                )
            )
    AppraisalScore.objects.bulk_create(scores)
    _retotal(appraisal)
    record_event(
        appraisal, "appraisal_computed", acting_user=acting_user, data={"places": len(places)}
    )
    return appraisal


def _retotal(appraisal: Appraisal) -> None:
    """Totals, ranks and outcomes from the stored points (per level), through the engine."""
    scheme = appraisal.scheme
    criteria = pd.DataFrame(scheme["criteria"])[["key", "kind", "weight"]].rename(
        columns={"key": "criterion"}
    )
    weights = dict(zip(criteria["criterion"], criteria["weight"], strict=True))
    rows = list(
        AppraisalScore.objects.filter(appraisal=appraisal).values(
            "place_id", "place__level", "criterion", "kind", "points"
        )
    )
    AppraisalTotal.objects.filter(appraisal=appraisal).delete()
    totals = []
    for level in (PlaceLevel.CITY, PlaceLevel.COUNTY):
        mine = [r for r in rows if r["place__level"] == level]
        if not mine:
            continue
        measures = pd.DataFrame(
            [
                {
                    "place": r["place_id"],
                    "criterion": r["criterion"],
                    "measure": r["points"] / weights[r["criterion"]]
                    if r["kind"] == "computed"
                    else None,
                    "points": abs(r["points"]) if r["kind"] != "computed" else None,
                }
                for r in mine
            ]
        )
        _points, table = score_appraisal(
            measures,
            criteria,
            commend_at=scheme.get("commend_at") or 85,
            commend_top=scheme.get("commend_top"),
            summon_below=scheme.get("summon_below") or 60,
        )
        for place_id, row in table.iterrows():
            totals.append(
                AppraisalTotal(
                    appraisal=appraisal,
                    place_id=place_id,
                    total=float(row["total"]),
                    rank=int(row["rank"]),
                    outcome=row["outcome"],
                )
            )
    AppraisalTotal.objects.bulk_create(totals)


def _draft_only(appraisal: Appraisal) -> None:
    if appraisal.status != IssueStatus.DRAFT:
        raise AppraisalError(
            "status",
            _("考核结果 %(n)s 已印发，不能修改；如需更正请重新计算并印发替代文件")
            % {"n": appraisal},
        )


def _points(value, weight: float) -> float:
    try:
        points = parse_number(value)
    except NumberError as exc:
        raise AppraisalError("points", str(exc)) from None
    if not 0 <= points <= weight:
        raise AppraisalError(
            "points", _("得分须在 0 到 %(w)g 之间，收到 %(p)g") % {"w": weight, "p": points}
        )
    return points


def _weight(appraisal: Appraisal, criterion: str) -> float:
    return next(c["weight"] for c in appraisal.scheme["criteria"] if c["key"] == criterion)


@transaction.atomic
def score_by_hand(
    score: AppraisalScore, *, points, evidence: str, acting_user, retotal: bool = True
) -> AppraisalScore:
    """Score a manual, bonus or penalty item: refused without evidence. The points are
    entered as positive numbers (a penalty's are taken off). ``retotal=False`` leaves the
    totals to one :func:`retotal` after a batch of scores."""
    _require_runner(acting_user)
    _draft_only(score.appraisal)
    if score.kind == "computed":
        raise AppraisalError("criterion", _("该考核项由平台记录计算；如需改动请调整并说明理由"))
    if not evidence.strip():
        raise AppraisalError("evidence", _("请填写评分依据"))
    value = _points(points, _weight(score.appraisal, score.criterion))
    score.snapshot()
    score.points = -value if score.kind == "penalty" else value
    score.evidence = {**score.evidence, "text": evidence.strip(), "by": acting_user.get_username()}
    score.save()
    if retotal:
        _retotal(score.appraisal)
    return score


@transaction.atomic
def retotal(appraisal: Appraisal, *, acting_user) -> None:
    """Recompute totals, ranks and outcomes after a batch of hand scores."""
    _require_runner(acting_user)
    _draft_only(appraisal)
    _retotal(appraisal)


@transaction.atomic
def adjust_score(score: AppraisalScore, *, points, reason: str, acting_user) -> AppraisalScore:
    """The province's adjustment of a computed score: refused without a reason, which is
    kept on the score and in the audit trail."""
    _require_runner(acting_user)
    _draft_only(score.appraisal)
    if not reason.strip():
        raise AppraisalError("reason", _("调整得分须说明理由"))
    value = _points(points, _weight(score.appraisal, score.criterion))
    if score.kind == "penalty":
        value = -value
    score.snapshot()
    before = score.points
    if score.adjusted_from is None:
        score.adjusted_from = before
    score.points = value
    score.adjustment_reason = reason.strip()
    score.save()
    record_event(
        score,
        "appraisal_adjusted",
        acting_user=acting_user,
        note=reason.strip(),
        data={"before": before, "after": value},
    )
    _retotal(score.appraisal)
    return score


def criterion_names(appraisal: Appraisal) -> dict[str, str]:
    return {c["key"]: c["name"] for c in appraisal.scheme["criteria"]}


def document(appraisal: Appraisal) -> Document:
    """The assessment as an official document (Chinese): scheme, city and county tables,
    commendations and summons."""
    names = criterion_names(appraisal)
    keys = list(names)
    points = {}
    for place_id, criterion, value in AppraisalScore.objects.filter(
        appraisal=appraisal
    ).values_list("place_id", "criterion", "points"):
        points.setdefault(place_id, {})[criterion] = value
    totals = list(AppraisalTotal.objects.filter(appraisal=appraisal).select_related("place"))
    province = Place.objects.filter(level=PlaceLevel.PROVINCE).first()
    with translation.override(REPORT_LANGUAGE):
        doc = Document(
            title=_("%(year)d年度城市体检工作考核结果") % {"year": appraisal.year},
            subject=province.name_zh if province else "",
            issuer=settings.CITYCHECK_REPORT_ISSUER
            or _("%(p)s住房和城乡建设厅") % {"p": province.name_zh if province else ""},
            date=(appraisal.issued_at or appraisal.created).replace(microsecond=0).isoformat(),
            draft=appraisal.status == IssueStatus.DRAFT,
            synthetic=appraisal.is_synthetic,
        )
        head = Section(_("考核说明"))
        head.blocks.append(Paragraph(_("文号：%(n)s") % {"n": appraisal.number or _("（未印发）")}))
        if appraisal.supersedes_id:
            head.blocks.append(
                Paragraph(
                    _("本文件替代%(old)s，原文件同时废止。") % {"old": appraisal.supersedes.number}
                )
            )
        head.blocks.append(
            Paragraph(
                _(
                    "依据《%(scheme)s》，按平台记录计算各项得分，人工评分项附评分依据，调整均说明理由。"
                )
                % {"scheme": appraisal.scheme_name}
            )
        )
        head.blocks.append(
            Table(
                caption=_("考核项"),
                columns=[_("考核项"), _("类型"), _("分值"), _("数据来源")],
                rows=[
                    [
                        c["name"],
                        c["kind"],
                        number_text(c["weight"], 0),
                        c.get("record") or _("人工评分"),
                    ]
                    for c in appraisal.scheme["criteria"]
                ],
            )
        )
        doc.sections.append(head)
        for level, title in (
            (PlaceLevel.CITY, _("设区市得分")),
            (PlaceLevel.COUNTY, _("县（市、区）得分")),
        ):
            rows = [t for t in totals if t.place.level == level]
            if not rows:
                continue
            section = Section(title)
            # cities with every criterion's points; the counties' long table with the
            # totals (their points per criterion are on each county's page)
            shown = keys if level == PlaceLevel.CITY else []
            section.blocks.append(
                Table(
                    caption=title,
                    columns=[_("名次"), _("地区"), _("总分")] + [names[k] for k in shown],
                    rows=[
                        [str(t.rank), t.place.name_zh, number_text(t.total, 2)]
                        + [number_text(points.get(t.place_id, {}).get(k), 1) for k in shown]
                        for t in rows
                    ],
                    row_warnings=[
                        "green"
                        if t.outcome == "commend"
                        else "red"
                        if t.outcome == "summon"
                        else ""
                        for t in rows
                    ],
                )
            )
            doc.sections.append(section)
        outcome = Section(_("表扬与约谈"))
        for key, label in (
            ("commend", _("拟通报表扬：%(names)s。")),
            ("summon", _("拟约谈：%(names)s。")),
        ):
            chosen = [t.place.name_zh for t in totals if t.outcome == key]
            outcome.blocks.append(Paragraph(label % {"names": "、".join(chosen) or _("无")}))
        doc.sections.append(outcome)
    return doc


@transaction.atomic
def issue_appraisal(appraisal: Appraisal, *, acting_user) -> Appraisal:
    _require_runner(acting_user)
    appraisal = Appraisal.objects.select_for_update().get(pk=appraisal.pk)
    _draft_only(appraisal)
    now = timezone.now()
    appraisal.snapshot()
    appraisal.number = next_number(now.year)
    appraisal.status = IssueStatus.ISSUED
    appraisal.issued_at, appraisal.issued_by = now, acting_user
    paths = write_document(
        document(appraisal),
        ["docx", "pdf"],
        files_dir(),
        f"appraisal-{appraisal.year}-{appraisal.pk}",
    )
    appraisal.files = {p.suffix.lstrip("."): str(p.relative_to(settings.MEDIA_ROOT)) for p in paths}
    appraisal.save()
    if appraisal.supersedes_id:
        old = appraisal.supersedes
        old.snapshot()
        old.status = IssueStatus.SUPERSEDED
        old.save()
        record_event(old, "appraisal_superseded", acting_user=acting_user, note=appraisal.number)
    record_event(appraisal, "appraisal_issued", acting_user=acting_user, note=appraisal.number)
    return appraisal
