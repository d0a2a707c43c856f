"""The only writers of monitoring data: ingest, tokens, rule evaluation, the warnings' life
cycle (acknowledge, handle, close out, escalate) and notifications.

Every function takes a keyword-only ``acting_user`` and records its step with
``record_event`` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.accounts.models import User
from citycheck.core import access
from citycheck.core.bulk import copy_arrays, insert_rows
from citycheck.core.choices import Action, Role
from citycheck.core.context import acting
from citycheck.core.models import record_event
from citycheck.core.numbers import NumberError, parse_number
from citycheck.engine.monitoring import evaluate_rules
from citycheck.places.models import Place, PlaceLevel, PlaceYear

from .models import (
    EarlyWarning,
    Feed,
    Frequency,
    IngestBatch,
    IngestToken,
    MonitoringIndicator,
    Notification,
    NotificationPreference,
    Observation,
    Rule,
    WarningStatus,
    period_from_ordinal,
)

MAX_BATCH_ROWS = 5000


class MonitoringError(ValueError):
    """A step that cannot be taken; the message is for the person who asked."""


class ScopeError(PermissionDenied):
    """A row lies outside what the token (or user) may write: nothing is written."""


# ---------------------------------------------------------------------------------------
# Ingest


@dataclass
class Refusal:
    row: int  # 1-based, in the order sent
    field: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass
class IngestResult:
    accepted: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)
    replayed: bool = False
    batch_id: str = ""

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "accepted": self.accepted,
            "unchanged": self.unchanged,
            "replayed": self.replayed,
            "refused": [r.as_dict() for r in self.refused],
        }


_PERIOD = {
    Frequency.DAILY: re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    Frequency.MONTHLY: re.compile(r"^(\d{4})-(\d{2})$"),
    Frequency.QUARTERLY: re.compile(r"^(\d{4})-Q([1-4])$"),
}


def parse_period(frequency: str, text) -> dt.date:
    """The first day of the period written ``text`` (2025-03-14, 2025-03 or 2025-Q1)."""
    match = _PERIOD[frequency].match(str(text).strip())
    if not match:
        raise ValueError
    numbers = [int(part) for part in match.groups()]
    if frequency == Frequency.DAILY:
        return dt.date(*numbers)
    if frequency == Frequency.MONTHLY:
        return dt.date(numbers[0], numbers[1], 1)
    return dt.date(numbers[0], (numbers[1] - 1) * 3 + 1, 1)


def _period_written(frequency: str) -> str:
    return {"daily": "2025-03-14", "monthly": "2025-03", "quarterly": "2025-Q1"}[frequency]


class _Lookups:
    """Places and indicators by code, loaded once per process and refreshed on a miss."""

    places: dict[str, tuple[int, str, str]] = {}
    indicators: dict[str, MonitoringIndicator] = {}

    @classmethod
    def place(cls, code: str):
        if code not in cls.places:
            cls.places = {
                c: (pk, path, level)
                for c, pk, path, level in Place.objects.filter(active=True).values_list(
                    "code", "pk", "path", "level"
                )
            }
        return cls.places.get(code)

    @classmethod
    def indicator(cls, code: str):
        if code not in cls.indicators:
            cls.indicators = {i.code: i for i in MonitoringIndicator.objects.select_related("feed")}
        return cls.indicators.get(code)

    @classmethod
    def clear(cls):
        cls.places, cls.indicators = {}, {}


def batch_digest(rows) -> str:
    return hashlib.sha256(
        json.dumps(rows, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def ingest(
    rows: list[dict],
    *,
    feed: Feed,
    acting_user=None,
    scope: Place | None = None,
    token: IngestToken | None = None,
    batch_id: str = "",
    today: dt.date | None = None,
    any_indicator: bool = False,
) -> IngestResult:
    """Check and store observations; all or nothing.

    ``rows`` are mappings with ``place`` (division code), ``indicator`` (monitoring
    indicator code), ``period`` (written as the indicator's frequency: 2025-03-14, 2025-03,
    2025-Q1), ``value`` and optionally ``unit``. A row for a place outside ``scope`` or an
    indicator of another feed raises :class:`ScopeError` (nothing written). Rows with an
    unknown place, indicator or period, a wrong unit, a future period, a bad number or a
    value differing from the one already stored are refused with the reason, and then
    nothing of the batch is written; a row equal to the stored one is left unchanged.
    ``any_indicator`` (file imports) accepts indicators of every feed.
    With a ``batch_id``, a batch already accepted is answered as it was (``replayed``) and
    nothing is written again.
    """
    today = today or timezone.localdate()
    result = IngestResult(batch_id=batch_id)
    if len(rows) > MAX_BATCH_ROWS:
        result.refused.append(Refusal(0, "rows", _("一批最多 %(n)d 行。") % {"n": MAX_BATCH_ROWS}))
        return result
    digest = batch_digest(rows)
    if batch_id:
        done = IngestBatch.objects.filter(feed=feed, batch_id=batch_id).first()
        if done is not None:
            if done.digest != digest:
                raise MonitoringError(
                    _("批次号 %(id)s 已用于内容不同的另一批数据。") % {"id": batch_id}
                )
            return IngestResult(
                accepted=done.accepted, unchanged=done.unchanged, replayed=True, batch_id=batch_id
            )
    checked = []  # (row number, place id, indicator, period, value)
    for number, row in enumerate(rows, start=1):
        checked_row = _check_row(number, row, feed, scope, today, result.refused, any_indicator)
        if checked_row is not None:
            checked.append(checked_row)
    # Duplicates: within the batch, and against what is stored.
    seen: dict[tuple, tuple[int, float]] = {}
    fresh = []
    for number, place_id, indicator, period, value in checked:
        key = (place_id, indicator.pk, period)
        if key in seen:
            if seen[key][1] != value:
                result.refused.append(
                    Refusal(
                        number,
                        "value",
                        _("与本批第 %(row)d 行重复但数值不同。") % {"row": seen[key][0]},
                    )
                )
            else:
                result.unchanged += 1
            continue
        seen[key] = (number, value)
        fresh.append((number, place_id, indicator, period, value))
    stored = _stored_values(fresh)
    new_rows = []
    for number, place_id, indicator, period, value in fresh:
        old = stored.get((place_id, indicator.pk, period))
        if old is None:
            new_rows.append((place_id, indicator.pk, period, value))
        elif old == value:
            result.unchanged += 1
        else:
            result.refused.append(
                Refusal(
                    number,
                    "value",
                    _("该期已有不同的数值 %(old)s；更正请先撤回原数据。") % {"old": old},
                )
            )
    if result.refused:
        result.refused.sort(key=lambda r: r.row)
        return result
    now = timezone.now()
    try:
        with transaction.atomic():
            batch = IngestBatch(
                feed=feed,
                batch_id=batch_id or f"auto-{digest[:16]}-{now:%Y%m%d%H%M%S%f}",
                token=token,
                digest=digest,
                accepted=len(new_rows),
                unchanged=result.unchanged,
            )
            with acting(acting_user):
                batch.save()
            insert_rows(
                Observation,
                ["place_id", "indicator_id", "period", "value", "source", "received", "batch_id"],
                ((p, i, d, v, feed.code, now, batch.pk) for p, i, d, v in new_rows),
            )
            record_event(
                batch,
                "ingested",
                acting_user=acting_user,
                data={"accepted": len(new_rows), "unchanged": result.unchanged},
            )
    except IntegrityError:
        # A concurrent retry of the same batch (or the same rows) won the race.
        if batch_id and IngestBatch.objects.filter(feed=feed, batch_id=batch_id).exists():
            return ingest(
                rows,
                feed=feed,
                acting_user=acting_user,
                scope=scope,
                token=token,
                batch_id=batch_id,
                today=today,
                any_indicator=any_indicator,
            )
        raise MonitoringError(_("部分数据已被同时提交，请重试。")) from None
    result.accepted = len(new_rows)
    return result


def _check_row(number, row, feed, scope, today, refused, any_indicator=False):
    if not isinstance(row, dict):
        refused.append(Refusal(number, "-", _("每行应为一个对象。")))
        return None
    indicator = _Lookups.indicator(str(row.get("indicator", "")))
    if indicator is None:
        refused.append(
            Refusal(
                number,
                "indicator",
                _("未知的监测指标“%(code)s”。") % {"code": row.get("indicator", "")},
            )
        )
        return None
    if indicator.feed_id != feed.pk and not any_indicator:
        raise ScopeError(
            _("第 %(row)d 行：指标 %(code)s 不属于数据来源 %(feed)s。")
            % {"row": number, "code": indicator.code, "feed": feed.code}
        )
    place = _Lookups.place(str(row.get("place", "")))
    if place is None or place[2] not in indicator.levels:
        refused.append(
            Refusal(
                number,
                "place",
                _("未知的地区代码“%(code)s”，或该指标不监测这一层级。")
                % {"code": row.get("place", "")},
            )
        )
        return None
    place_id, path, _level = place
    if scope is not None and not path.startswith(scope.path):
        raise ScopeError(
            _("第 %(row)d 行：地区 %(code)s 不在令牌的地区范围内。")
            % {"row": number, "code": row.get("place")}
        )
    try:
        period = parse_period(indicator.frequency, row.get("period", ""))
    except (ValueError, TypeError):
        refused.append(
            Refusal(
                number,
                "period",
                _("无法识别的期“%(period)s”，应写作 %(example)s。")
                % {
                    "period": row.get("period", ""),
                    "example": _period_written(indicator.frequency),
                },
            )
        )
        return None
    if period > today:
        refused.append(
            Refusal(number, "period", _("期 %(period)s 在未来。") % {"period": row["period"]})
        )
        return None
    unit = row.get("unit")
    if unit not in (None, "") and str(unit).strip() != indicator.unit:
        refused.append(
            Refusal(
                number,
                "unit",
                _("单位“%(unit)s”不符，该指标的单位为“%(expected)s”。")
                % {"unit": unit, "expected": indicator.unit},
            )
        )
        return None
    try:
        value = parse_number(row.get("value"))
    except (NumberError, TypeError) as bad:
        refused.append(
            Refusal(number, "value", str(bad) if isinstance(bad, NumberError) else _("缺少数值。"))
        )
        return None
    if value is None:
        refused.append(Refusal(number, "value", _("缺少数值。")))
        return None
    return number, place_id, indicator, period, float(value)


def _stored_values(rows) -> dict:
    if not rows:
        return {}
    places = {r[1] for r in rows}
    indicators = {r[2].pk for r in rows}
    periods = {r[3] for r in rows}
    return {
        (p, i, d): v
        for p, i, d, v in Observation.objects.filter(
            place_id__in=places, indicator_id__in=indicators, period__in=periods
        ).values_list("place_id", "indicator_id", "period", "value")
    }


# ---------------------------------------------------------------------------------------
# Entry by hand

MANUAL_FEED = "manual_entry"


def entry_places(user):
    """The places ``user`` may enter observations for by hand (its reach for changing)."""
    return Place.objects.restrict(user, Action.CHANGE)


def enter_observation(
    *, place: Place, indicator: MonitoringIndicator, period: str, value, acting_user, today=None
) -> IngestResult:
    """One observation entered by hand, through :func:`ingest` (the same checks and
    refusals as the API) into the ``manual_entry`` feed, created on first use. ``value``
    is the text typed (read by ``core.numbers.parse_number``). Raises
    ``PermissionDenied`` for a place outside the user's reach."""
    if acting_user is not None and not entry_places(acting_user).filter(pk=place.pk).exists():
        raise PermissionDenied(_("无权为该地区录入监测数据。"))
    feed, _created = Feed.objects.get_or_create(
        code=MANUAL_FEED,
        defaults={"name_zh": "手工录入", "name_en": "Entry by hand", "kind": Feed.Kind.MANUAL},
    )
    row = {"place": place.code, "indicator": indicator.code, "period": period, "value": value}
    return ingest([row], feed=feed, acting_user=acting_user, today=today, any_indicator=True)


# ---------------------------------------------------------------------------------------
# Tokens


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_places(user):
    """The places under which ``user`` may issue, list and revoke ingest tokens: the
    reach of a role that manages the platform (the province administrator), and a city
    administrator's own subtree; nothing for other roles."""
    if access.may(user, Action.MANAGE):
        return Place.objects.restrict(user, Action.MANAGE)
    if getattr(user, "is_authenticated", False) and user.role == Role.CITY_ADMIN:
        return Place.objects.restrict(user, Action.CHANGE)
    return Place.objects.none()


def tokens_for(user):
    """The ingest tokens ``user`` may see and revoke (those scoped within its places)."""
    if not getattr(user, "is_authenticated", False):
        return IngestToken.objects.none()
    if user.is_superuser:
        return IngestToken.objects.all()
    return IngestToken.objects.filter(place__in=token_places(user))


@transaction.atomic
def create_token(name: str, *, feed: Feed, place: Place, acting_user, rate: str = "") -> tuple:
    """A new ingest token; returns ``(token, key)`` — the key is shown once, only its
    digest is kept."""
    if (
        acting_user is not None
        and not acting_user.is_superuser
        and not token_places(acting_user).filter(pk=place.pk).exists()
    ):
        raise PermissionDenied(_("无权为该地区签发接入令牌。"))
    key = "cct_" + secrets.token_urlsafe(32)
    token = IngestToken(name=name, feed=feed, place=place, digest=_hash(key), prefix=key[:8])
    token.rate = rate
    token.created_by = acting_user
    with acting(acting_user):
        token.save()
    record_event(token, "issued", acting_user=acting_user)
    return token, key


def token_for_key(key: str) -> IngestToken | None:
    """The active token whose key this is."""
    return (
        IngestToken.objects.select_related("feed", "place")
        .filter(digest=_hash(key), revoked__isnull=True)
        .first()
    )


@transaction.atomic
def revoke_token(token: IngestToken, *, acting_user) -> None:
    if acting_user is not None and not tokens_for(acting_user).filter(pk=token.pk).exists():
        raise PermissionDenied(_("无权吊销该接入令牌。"))
    if token.revoked is not None:
        raise MonitoringError(_("该令牌已吊销。"))
    token.snapshot()
    token.revoked = timezone.now()
    with acting(acting_user):
        token.save()
    record_event(token, "revoked", acting_user=acting_user)


# ---------------------------------------------------------------------------------------
# Evaluation


def observations_frame(as_of: dt.date, indicators=None) -> pd.DataFrame:
    """Observations up to ``as_of`` as the engine's long frame (place code, indicator code,
    period ordinal, value)."""
    queryset = Observation.objects.filter(period__lte=as_of)
    if indicators is not None:
        queryset = queryset.filter(indicator__in=indicators)
    frame = pd.DataFrame.from_records(
        queryset.values_list(
            "place__code", "indicator__code", "indicator__frequency", "period", "value"
        ),
        columns=["place", "indicator", "frequency", "period", "value"],
    )
    if frame.empty:
        return frame.drop(columns="frequency")
    dates = pd.to_datetime(frame["period"])
    ordinal = dates.dt.year * 12 + dates.dt.month - 1
    ordinal = ordinal.where(
        frame["frequency"] != Frequency.QUARTERLY, dates.dt.year * 4 + (dates.dt.month - 1) // 3
    )
    daily = frame["frequency"] == Frequency.DAILY
    if daily.any():
        ordinal[daily] = [d.toordinal() for d in frame.loc[daily, "period"]]
    frame["period"] = ordinal.astype("int64")
    return frame.drop(columns="frequency")


def rules_frame() -> tuple[pd.DataFrame, dict]:
    rules = list(Rule.objects.filter(active=True).select_related("indicator", "department"))
    by_key = {(r.code, r.city_class): r for r in rules}
    frame = pd.DataFrame(
        [
            {
                "code": r.code,
                "kind": r.kind,
                "indicator": r.indicator.code if r.indicator else "",
                "city_class": r.city_class,
                "comparison": r.comparison,
                "threshold": r.threshold,
                "low": r.low,
                "high": r.high,
                "window": r.window,
                "horizon": r.horizon,
                "method": r.method,
                "coverage": r.coverage,
                "components": tuple(r.components or ()),
                "level": r.level,
                "department": r.department.code,
                "periods_per_year": r.indicator.periods_per_year if r.indicator else 12,
            }
            for r in rules
        ]
    )
    for column in ("threshold", "low", "high"):
        if column in frame:
            frame[column] = frame[column].astype(float)
    return frame, by_key


def city_classes(year: int) -> dict[str, str]:
    classes = {}
    for code, city_class in (
        PlaceYear.objects.filter(year__lte=year)
        .order_by("year")
        .values_list("place__code", "city_class")
    ):
        classes[code] = city_class
    return classes


@transaction.atomic
def evaluate(as_of: dt.date | None = None, *, acting_user=None) -> dict:
    """Evaluate every active rule on the observations up to ``as_of`` (default today):
    raise a warning for each new (rule, place), update the open one when the rule fires
    again on a later period. Returns counts."""
    as_of = as_of or timezone.localdate()
    rules, by_key = rules_frame()
    counts = {"raised": 0, "updated": 0, "firing": 0}
    if rules.empty:
        return counts
    observations = observations_frame(as_of)
    if observations.empty:
        return counts
    classes = city_classes(as_of.year)
    found = evaluate_rules(observations, rules, city_classes=classes)
    counts["firing"] = len(found)
    if found.empty:
        return counts
    places = {p.code: p for p in Place.objects.filter(code__in=found["place"].unique())}
    indicators = {i.code: i for i in MonitoringIndicator.objects.all()}
    open_ = {
        (w.rule.code, w.place_id): w
        for w in EarlyWarning.objects.not_closed().select_related("rule")
    }
    with acting(acting_user):
        for row in found.itertuples(index=False):
            place = places[row.place]
            rule = by_key.get((row.rule, classes.get(row.place, ""))) or by_key[(row.rule, "")]
            indicator = indicators[row.indicator]
            period = period_from_ordinal(indicator.frequency, int(row.period))
            fields = {
                "period": period,
                "value": float(row.value),
                "reference": _number(row.reference),
                "forecast": _number(row.forecast),
                "lower": _number(row.lower),
                "upper": _number(row.upper),
                "periods_ahead": None if pd.isna(row.periods_ahead) else int(row.periods_ahead),
            }
            warning = open_.get((row.rule, place.pk))
            if warning is not None:
                if warning.period < period:
                    warning.snapshot()
                    for name, value in fields.items():
                        setattr(warning, name, value)
                    warning.save()
                    record_event(warning, "fired_again", acting_user=acting_user)
                    counts["updated"] += 1
                continue
            warning = EarlyWarning.objects.create(
                rule=rule,
                place=place,
                indicator=indicator,
                department=rule.department,
                level=rule.level,
                deadline=as_of + dt.timedelta(days=rule.deadline_days),
                raised=timezone.now(),
                **fields,
            )
            record_event(warning, "raised", acting_user=acting_user, data={"as_of": as_of})
            notify(warning, "raised", place)
            counts["raised"] += 1
    return counts


def _number(value):
    return None if value is None or pd.isna(value) else float(value)


# ---------------------------------------------------------------------------------------
# The warning's life cycle


def _lock(warning: EarlyWarning) -> EarlyWarning:
    return (
        EarlyWarning.objects.select_for_update().select_related("place", "rule").get(pk=warning.pk)
    )


def _may_change(user, warning) -> bool:
    return EarlyWarning.objects.restrict(user, Action.CHANGE).filter(pk=warning.pk).exists()


def may_close(user, warning) -> bool:
    """Closing out (销号) is for the level above the warning's place, with approval rights."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if user.place is None or user.role in (Role.DEPARTMENT_FILLER, Role.EVALUATOR):
        return False
    return (
        access.may(user, Action.APPROVE)
        and warning.place.path.startswith(user.place.path)
        and warning.place.pk != user.place.pk
    )


@transaction.atomic
def acknowledge(warning: EarlyWarning, *, acting_user) -> EarlyWarning:
    """签收: the responsible department (or the place's administrator) takes it up."""
    warning = _lock(warning)
    if not _may_change(acting_user, warning):
        raise PermissionDenied(_("无权签收该预警。"))
    if warning.status != WarningStatus.OPEN:
        raise MonitoringError(_("只有待签收的预警可以签收。"))
    warning.snapshot()
    warning.status = WarningStatus.ACKNOWLEDGED
    with acting(acting_user):
        warning.save()
    record_event(warning, "acknowledged", acting_user=acting_user)
    return warning


@transaction.atomic
def handle(warning: EarlyWarning, *, acting_user, measures: str, evidence=None) -> EarlyWarning:
    """处置: the measures taken (required) and evidence (a file, optional)."""
    warning = _lock(warning)
    if not _may_change(acting_user, warning):
        raise PermissionDenied(_("无权处置该预警。"))
    if warning.status not in (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED):
        raise MonitoringError(_("该预警已处置或已销号。"))
    if not (measures or "").strip():
        raise MonitoringError(_("请填写处置措施。"))
    warning.snapshot()
    warning.status = WarningStatus.HANDLED
    warning.measures = measures.strip()
    if evidence is not None:
        warning.evidence = evidence
    with acting(acting_user):
        warning.save()
    record_event(warning, "handled", acting_user=acting_user, note=warning.measures)
    notify(warning, "handled", warning.place.parent or warning.place)
    return warning


@transaction.atomic
def close_out(warning: EarlyWarning, *, acting_user, note: str = "") -> EarlyWarning:
    """销号 by the level above the place, once handled."""
    warning = _lock(warning)
    if not may_close(acting_user, warning):
        raise PermissionDenied(_("预警由上一级销号：您的账号不能为该地区的预警销号。"))
    if warning.status != WarningStatus.HANDLED:
        raise MonitoringError(_("只有已处置的预警可以销号。"))
    warning.snapshot()
    warning.status = WarningStatus.CLOSED
    warning.closing_note = note.strip()
    with acting(acting_user):
        warning.save()
    record_event(warning, "closed_out", acting_user=acting_user, note=warning.closing_note)
    return warning


# ---------------------------------------------------------------------------------------
# Publishing: what the public sees.


def may_publish(user) -> bool:
    """Publishing warnings is for a role with the publish action (the province)."""
    return access.may(user, Action.PUBLISH)


@transaction.atomic
def publish(warnings, *, acting_user) -> int:
    """Make warnings public (公开): each one in the user's reach that is not yet public,
    with a ``published`` event. The public then sees the warning's *current* place, level,
    indicator, period and status — never its measures, evidence, notes or names — so a
    published warning's later handling and closing show through. Returns how many were
    published (already public ones are left as they are)."""
    if not may_publish(acting_user):
        raise PermissionDenied(_("您的账号不能公开预警。"))
    pks = [w.pk if isinstance(w, EarlyWarning) else int(w) for w in warnings]
    chosen = list(
        EarlyWarning.objects.restrict(acting_user, Action.PUBLISH)
        .filter(pk__in=pks, published=False)
        .select_for_update()
        .order_by("pk")
    )
    for warning in chosen:
        warning.snapshot()
        warning.published = True
        with acting(acting_user):
            warning.save()
        record_event(warning, "published", acting_user=acting_user)
    return len(chosen)


def publish_month(year: int, month: int, *, acting_user) -> int:
    """Publish every warning in the user's reach whose period falls in ``year``-``month``
    (a monthly warning of that month, a daily one of a day in it, a quarterly one whose
    quarter starts in it)."""
    if not may_publish(acting_user):
        raise PermissionDenied(_("您的账号不能公开预警。"))
    pks = (
        EarlyWarning.objects.restrict(acting_user, Action.PUBLISH)
        .filter(period__year=year, period__month=month, published=False)
        .values_list("pk", flat=True)
    )
    return publish(list(pks), acting_user=acting_user)


@transaction.atomic
def escalate_overdue(today: dt.date | None = None, *, acting_user=None) -> int:
    """Escalate every overdue warning one level up (county → city → province) and give it
    a new deadline; a warning already at the province stays there, overdue."""
    today = today or timezone.localdate()
    count = 0
    for warning in (
        EarlyWarning.objects.overdue(today)
        .select_for_update(of=("self",))
        .select_related("place", "escalated_to", "rule")
    ):
        current = warning.escalated_to or warning.place
        above = current.parent
        if above is None:
            continue
        warning.snapshot()
        warning.escalated_to = above
        warning.escalations += 1
        warning.deadline = today + dt.timedelta(days=warning.rule.deadline_days)
        with acting(acting_user):
            warning.save()
        record_event(warning, "escalated", acting_user=acting_user, data={"to": above.code})
        notify(warning, "escalated", above)
        count += 1
    return count


# ---------------------------------------------------------------------------------------
# Notifications


def recipients(warning: EarlyWarning, place: Place):
    """The people told about ``warning`` at ``place``: its administrators, and the
    responsible department's fillers at the place or, for a county, at its city."""
    department_places = [place.pk] + (
        [place.parent_id] if place.level == PlaceLevel.COUNTY and place.parent_id else []
    )
    return User.objects.filter(is_active=True).filter(
        Q(place=place, role__in=[Role.PROVINCE_ADMIN, Role.CITY_ADMIN, Role.COUNTY_ADMIN])
        | Q(
            place__in=department_places,
            role=Role.DEPARTMENT_FILLER,
            department=warning.department_id,
        )
    )


def notify(warning: EarlyWarning, event: str, place: Place) -> int:
    users = list(recipients(warning, place).values_list("pk", flat=True))
    Notification.objects.bulk_create(
        [Notification(user_id=pk, warning=warning, event=event) for pk in users]
    )
    return len(users)


def set_preference(user, mail: str) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.get_or_create(user=user)
    preference.mail = mail
    preference.save()
    return preference


EVENT_WORDS = {"raised": "新预警", "escalated": "预警升级", "handled": "预警已处置，待销号"}


def send_digests(now: dt.datetime | None = None) -> int:
    """One e-mail per user with notices not mailed yet (unless the user chose no mail);
    returns the number of mails sent."""
    now = now or timezone.now()
    pending = Notification.objects.filter(mailed__isnull=True).select_related(
        "user", "warning__place", "warning__rule"
    )
    by_user: dict[int, list[Notification]] = {}
    for notice in pending:
        by_user.setdefault(notice.user_id, []).append(notice)
    no_mail = set(
        NotificationPreference.objects.filter(mail=NotificationPreference.Mail.NONE).values_list(
            "user_id", flat=True
        )
    )
    sent = 0
    for user_id, notices in by_user.items():
        user = notices[0].user
        if user_id not in no_mail and user.email:
            lines = [
                f"- {EVENT_WORDS.get(n.event, n.event)}：{n.warning.place.name_zh} "
                f"{n.warning.rule.name_zh}（{n.warning.get_level_display()}，"
                f"办理期限 {n.warning.deadline:%Y-%m-%d}）"
                for n in notices
            ]
            send_mail(
                f"城市体检监测预警每日摘要（{now:%Y-%m-%d}）：{len(notices)} 条",
                "\n".join(["您负责范围内的监测预警：", *lines, "", "请登录平台查看和办理。"]),
                None,
                [user.email],
            )
            sent += 1
        Notification.objects.filter(pk__in=[n.pk for n in notices]).update(mailed=now)
    return sent


# ---------------------------------------------------------------------------------------
# File import


IMPORT_COLUMNS = ("place", "indicator", "period", "value")


class ImportRefused(MonitoringError):
    """The file was refused; ``refusals`` name the line (1 = the header) and column."""

    def __init__(self, message: str, refusals: list[Refusal]):
        super().__init__(message)
        self.refusals = refusals


def read_observation_file(name: str, content: bytes) -> list[dict]:
    """Rows of a CSV (UTF-8) or Excel file with the columns place, indicator, period, value
    and optionally unit (every cell read as text)."""
    return read_observation_frame(name, content).to_dict("records")


def read_observation_frame(name: str, content: bytes) -> pd.DataFrame:
    """:func:`read_observation_file` as a data frame (for :func:`ingest_frame`)."""
    import io

    if name.lower().endswith(".xlsx"):
        from zipfile import BadZipFile

        from citycheck.collection.excel import UploadError, check_xlsx_file

        try:
            check_xlsx_file(content, name=name)
            frame = pd.read_excel(io.BytesIO(content), dtype=str)
        except (UploadError, BadZipFile) as unreadable:
            raise MonitoringError(str(unreadable)) from unreadable
    elif name.lower().endswith(".csv"):
        frame = pd.read_csv(io.BytesIO(content), dtype=str, encoding="utf-8-sig")
    else:
        raise MonitoringError(_("只能导入 .csv 或 .xlsx 文件。"))
    missing = [c for c in IMPORT_COLUMNS if c not in frame.columns]
    if missing:
        raise MonitoringError(_("文件缺少列：%(columns)s。") % {"columns": ", ".join(missing)})
    return frame.fillna("")


@transaction.atomic
def import_file(name: str, content: bytes, *, acting_user=None, today=None) -> IngestResult:
    """Import an observation file into the ``file_import`` feed, all or nothing; the same
    file imported again changes nothing. Raises :class:`ImportRefused` naming each bad
    line (the header is line 1)."""
    rows = read_observation_file(name, content)
    feed = Feed.objects.get(code="file_import")
    digest = hashlib.sha256(content).hexdigest()[:24]
    total = IngestResult(batch_id=f"file-{digest}")
    refusals: list[Refusal] = []
    for start in range(0, len(rows), MAX_BATCH_ROWS):
        chunk = rows[start : start + MAX_BATCH_ROWS]
        result = ingest(
            chunk,
            feed=feed,
            acting_user=acting_user,
            batch_id=f"file-{digest}-{start // MAX_BATCH_ROWS}",
            today=today,
            any_indicator=True,
        )
        refusals += [Refusal(r.row + start + 1, r.field, r.reason) for r in result.refused]
        total.accepted += result.accepted
        total.unchanged += result.unchanged
        total.replayed = total.replayed or result.replayed
    if refusals:
        transaction.set_rollback(True)
        raise ImportRefused(_("文件未导入：%(n)d 行有误。") % {"n": len(refusals)}, refusals)
    return total


# ---------------------------------------------------------------------------------------
# Bulk loads (file drops of millions of rows)

MAX_LISTED_REFUSALS = 1000


def _categories(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes and distinct values (as text) of a column: the checks run on the distinct
    values only, then are spread to the rows by code (-1: missing)."""
    categorical = (
        column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    )
    return categorical.cat.codes.to_numpy(), [str(c) for c in categorical.cat.categories]


@transaction.atomic
def ingest_frame(
    frame: pd.DataFrame,
    *,
    feed: Feed,
    batch_id: str,
    acting_user=None,
    today: dt.date | None = None,
    any_indicator: bool = True,
) -> IngestResult:
    """:func:`ingest` for a data frame of any size (a file drop of millions of rows), checked
    column by column and written with COPY on PostgreSQL; the same rules and answers
    (refusals by row number, 1 = the first row; at most 1,000 listed), all or nothing.
    Columns ``place``, ``indicator``, ``period``, ``value`` (numbers, or text read by
    :func:`~citycheck.core.numbers.parse_number`), optional ``unit``."""
    today = today or timezone.localdate()
    frame = frame.reset_index(drop=True)
    result = IngestResult(batch_id=batch_id)
    done = IngestBatch.objects.filter(feed=feed, batch_id=batch_id).first()
    if done is not None:
        return IngestResult(
            accepted=done.accepted, unchanged=done.unchanged, replayed=True, batch_id=batch_id
        )
    n = len(frame)
    refusal_field = np.full(n, "", dtype=object)
    refusal_reason = np.full(n, "", dtype=object)

    def refuse(mask, field_name, reason):
        mask = np.asarray(mask, dtype=bool) & (refusal_field == "")
        refusal_field[mask] = field_name
        refusal_reason[mask] = reason

    # Indicators, by category.
    known = {i.code: i for i in MonitoringIndicator.objects.all()}
    i_codes, i_values = _categories(frame["indicator"])
    i_objects = [known.get(code) for code in i_values]
    i_pk = np.array([i.pk if i else -1 for i in i_objects] + [-1], dtype=np.int64)
    row_indicator = np.where(i_codes >= 0, i_codes, len(i_objects))  # last: unknown
    indicator_pk = i_pk[row_indicator]
    refuse(indicator_pk < 0, "indicator", _("未知的监测指标。"))
    if not any_indicator and any(i is not None and i.feed_id != feed.pk for i in i_objects):
        raise ScopeError(_("有的指标不属于数据来源 %(feed)s。") % {"feed": feed.code})

    # Places, by category; the level must be one the indicator covers.
    places = {
        code: (pk, level)
        for code, pk, level in Place.objects.filter(active=True).values_list("code", "pk", "level")
    }
    p_codes, p_values = _categories(frame["place"])
    p_info = [places.get(code) for code in p_values]
    p_pk = np.array([info[0] if info else -1 for info in p_info] + [-1], dtype=np.int64)
    level_names = ["city", "county", "province", "other"]
    p_level = np.array(
        [level_names.index(info[1]) if info and info[1] in level_names else 3 for info in p_info]
        + [3]
    )
    row_place = np.where(p_codes >= 0, p_codes, len(p_info))
    place_pk = p_pk[row_place]
    covers = np.zeros((len(level_names), len(i_objects) + 1), dtype=bool)
    for column, indicator in enumerate(i_objects):
        for level in indicator.levels if indicator else []:
            if level in level_names:
                covers[level_names.index(level), column] = True
    refuse(
        (place_pk < 0) | ~covers[p_level[row_place], row_indicator],
        "place",
        _("未知的地区代码，或该指标不监测这一层级。"),
    )

    # Periods: each distinct text read in each frequency, then picked by the row's.
    frequencies = list(Frequency.values)
    t_codes, t_values = _categories(frame["period"])
    table = np.full((len(frequencies), len(t_values) + 1), np.datetime64("NaT"), dtype="M8[D]")
    for f, frequency in enumerate(frequencies):
        for t, text in enumerate(t_values):
            parsed = _safe_period(frequency, text)
            if parsed is not None:
                table[f, t] = np.datetime64(parsed, "D")
    i_frequency = np.array([frequencies.index(i.frequency) if i else 0 for i in i_objects] + [0])
    period = table[i_frequency[row_indicator], np.where(t_codes >= 0, t_codes, len(t_values))]
    refuse(np.isnat(period) & (indicator_pk >= 0), "period", _("无法识别的期。"))
    refuse(period > np.datetime64(today, "D"), "period", _("期在未来。"))
    if "unit" in frame.columns:
        u_codes, u_values = _categories(frame["unit"].fillna(""))
        i_unit = np.array([i.unit if i else "" for i in i_objects] + [""], dtype=object)
        given = np.array([u.strip() for u in u_values] + [""], dtype=object)[
            np.where(u_codes >= 0, u_codes, len(u_values))
        ]
        refuse((given != "") & (given != i_unit[row_indicator]), "unit", _("单位不符。"))
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float, copy=True)
    text = np.flatnonzero(np.isnan(values) & frame["value"].notna().to_numpy())
    for position in text:
        number = _safe_number(frame["value"].iat[position])
        values[position] = np.nan if number is None else number
    refuse(np.isnan(values), "value", _("缺少数值或无法识别的数值。"))

    # Duplicates in the batch: a later row with another value is refused, the same value
    # is unchanged.
    day = period.astype("int64")  # NaT is the smallest int64: refused rows already
    key = (place_pk * 4096 + indicator_pk) * 200_000 + (day % 200_000)
    later = pd.Series(key).duplicated(keep="first").to_numpy() & (refusal_field == "")
    if later.any():
        first_value = pd.Series(values).groupby(key).transform("first").to_numpy()
        refuse(later & (values != first_value), "value", _("与本批另一行重复但数值不同。"))
        result.unchanged += int((later & (refusal_field == "")).sum())
    ok = (refusal_field == "") & ~later
    keys = pd.DataFrame(
        {
            "place_id": place_pk[ok],
            "indicator_id": indicator_pk[ok],
            "period": period[ok],
            "value": values[ok],
            "row": np.flatnonzero(ok),
        }
    )
    stored = _stored_frame(keys)
    if not stored.empty:
        merged = keys.merge(
            stored, on=["place_id", "indicator_id", "period"], suffixes=("", "_stored")
        )
        same = merged["value"] == merged["value_stored"]
        result.unchanged += int(same.sum())
        refuse(
            np.isin(np.arange(n), merged.loc[~same, "row"].to_numpy()),
            "value",
            _("该期已有不同的数值；更正请先撤回原数据。"),
        )
        keys = keys.loc[~keys["row"].isin(merged["row"])]
    refused = np.flatnonzero(refusal_field != "")
    if len(refused):
        result.refused = [
            Refusal(int(i) + 1, refusal_field[i], refusal_reason[i])
            for i in refused[:MAX_LISTED_REFUSALS]
        ]
        return result
    now = timezone.now()
    batch = IngestBatch(
        feed=feed,
        batch_id=batch_id,
        digest=hashlib.sha256(np.ascontiguousarray(key).tobytes()).hexdigest(),
        accepted=len(keys),
        unchanged=result.unchanged,
    )
    with acting(acting_user):
        batch.save()
    _copy_observations(keys.drop(columns="row"), feed.code, now, batch.pk)
    record_event(batch, "ingested", acting_user=acting_user, data={"accepted": len(keys)})
    result.accepted = len(keys)
    return result


def _safe_period(frequency, text):
    try:
        return parse_period(frequency, text)
    except (ValueError, TypeError):
        return None


def _safe_number(text):
    try:
        return parse_number(text)
    except (NumberError, TypeError):
        return None


def _stored_frame(candidates: pd.DataFrame) -> pd.DataFrame:
    if candidates.empty:
        return pd.DataFrame(columns=["place_id", "indicator_id", "period", "value"])
    stored = Observation.objects.filter(
        indicator_id__in=[int(i) for i in candidates["indicator_id"].unique()],
        period__gte=pd.Timestamp(candidates["period"].min()).date(),
        period__lte=pd.Timestamp(candidates["period"].max()).date(),
    ).values_list("place_id", "indicator_id", "period", "value")
    frame = pd.DataFrame.from_records(
        stored.iterator(chunk_size=100_000),
        columns=["place_id", "indicator_id", "period", "value"],
    )
    frame["period"] = pd.to_datetime(frame["period"]).to_numpy(dtype="M8[D]")
    return frame


# A load at least as large as the table already is (and of at least this many rows) is
# written into the table without its indexes, which are rebuilt after the COPY.
REBUILD_INDEXES_FROM = 100_000


def _copy_observations(new: pd.DataFrame, source: str, received, batch_pk: int) -> None:
    """Write checked observations: ``insert_rows`` on SQLite; on PostgreSQL one binary
    COPY, into the table without its indexes when the load is at least as large as the
    table (they are rebuilt after it, in the same transaction), into the indexed table
    otherwise."""
    from django.db import connection

    if connection.vendor != "postgresql":
        insert_rows(
            Observation,
            ["place_id", "indicator_id", "period", "value", "source", "received", "batch_id"],
            (
                (int(p), int(i), pd.Timestamp(d).date(), float(v), source, received, batch_pk)
                for p, i, d, v in new[["place_id", "indicator_id", "period", "value"]].itertuples(
                    index=False
                )
            ),
        )
        return
    table = connection.ops.quote_name(Observation._meta.db_table)
    with connection.cursor() as cursor:
        rebuilt = []
        if len(new) >= max(REBUILD_INDEXES_FROM, _rows_stored(cursor, table)):
            rebuilt = _drop_indexes(cursor, table)
        copy_arrays(
            cursor,
            Observation,
            [
                ("place_id", "int8", new["place_id"].to_numpy()),
                ("indicator_id", "int8", new["indicator_id"].to_numpy()),
                ("period", "date", new["period"].to_numpy()),
                ("value", "float8", new["value"].to_numpy(dtype=float)),
                ("source", "text", source),
                ("received", "timestamptz", received),
                ("batch_id", "int8", batch_pk),
            ],
            len(new),
        )
        if rebuilt:
            # Sorting for the index builds in memory; for this transaction only.
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for statement in rebuilt:
                cursor.execute(statement)


def _rows_stored(cursor, table: str) -> int:
    """The planner's estimate of the table's rows (counted when it has none yet)."""
    cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
    estimate = cursor.fetchone()[0]
    if estimate < 0:  # never analysed: a new table, counted quickly
        cursor.execute(f"SELECT count(*) FROM {table}")
        estimate = cursor.fetchone()[0]
    return int(estimate)


def _drop_indexes(cursor, table: str) -> list[str]:
    """Drop the table's primary key, unique constraints and indexes (none of them referenced
    by a foreign key); returns the statements that recreate them as they were. The drop
    locks the table (ACCESS EXCLUSIVE) until the transaction ends."""
    cursor.execute(
        """SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
           WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u')
             AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.conindid = c.conindid
                             AND f.contype = 'f')""",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid
           WHERE x.indrelid = %s::regclass
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
        [table],
    )
    indexes = cursor.fetchall()
    quote = cursor.db.ops.quote_name
    recreate = []
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        recreate.append(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
    for name, definition in indexes:
        cursor.execute(f"DROP INDEX {quote(name)}")
        recreate.append(definition)
    return recreate
