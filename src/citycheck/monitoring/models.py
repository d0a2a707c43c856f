"""Monitoring between rounds: indicators watched continuously, the feeds that bring their
observations, the rules that warn, and the warnings' life cycle.

A warning is raised for a place and its responsible department with a deadline; it is
acknowledged, handled (measures and evidence) and closed out (销号) by the level above the
place. Left open past its deadline it escalates, county → city → province. Every change is
audited (``ChangeLoggedModel``) and every step is an event (``record_event``), written by
:mod:`citycheck.monitoring.services` only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citycheck.accounts.models import Department
from citycheck.core.models import ChangeLoggedModel, NamedInTwoLanguages
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.places.models import Place


class Frequency(models.TextChoices):
    DAILY = "daily", _("日")
    MONTHLY = "monthly", _("月")
    QUARTERLY = "quarterly", _("季度")


PERIODS_PER_YEAR = {Frequency.DAILY: 365, Frequency.MONTHLY: 12, Frequency.QUARTERLY: 4}


def period_ordinal(frequency: str, period: dt.date) -> int:
    """The engine's integer for ``period`` (``citycheck.engine.monitoring``)."""
    if frequency == Frequency.DAILY:
        return period.toordinal()
    if frequency == Frequency.MONTHLY:
        return period.year * 12 + period.month - 1
    return period.year * 4 + (period.month - 1) // 3


def period_from_ordinal(frequency: str, ordinal: int) -> dt.date:
    if frequency == Frequency.DAILY:
        return dt.date.fromordinal(int(ordinal))
    if frequency == Frequency.MONTHLY:
        return dt.date(int(ordinal) // 12, int(ordinal) % 12 + 1, 1)
    return dt.date(int(ordinal) // 4, (int(ordinal) % 4) * 3 + 1, 1)


def period_label(frequency: str, period: dt.date) -> str:
    """How periods are written in files and the API: 2025-03-14, 2025-03, 2025-Q1."""
    if frequency == Frequency.DAILY:
        return period.isoformat()
    if frequency == Frequency.MONTHLY:
        return f"{period:%Y-%m}"
    return f"{period.year}-Q{(period.month - 1) // 3 + 1}"


class Feed(ChangeLoggedModel):
    """A source of observations: another platform's API (it pushes with tokens, or a
    connector pulls from it), a file drop, or entry by hand."""

    class Kind(models.TextChoices):
        PUSH = "push", _("接口推送")
        PULL = "pull", _("定时拉取")
        FILE = "file", _("文件导入")
        MANUAL = "manual", _("手工录入")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name_zh = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    kind = models.CharField(_("方式"), max_length=10, choices=Kind.choices)
    # For pulled feeds: the connector's name (monitoring.connectors.CONNECTORS) and address.
    connector = models.CharField(_("连接器"), max_length=40, blank=True)
    url = models.URLField(_("地址"), blank=True)
    every_minutes = models.PositiveIntegerField(_("拉取间隔（分钟）"), default=60)
    last_pulled = models.DateTimeField(_("上次拉取"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")

    def __str__(self):
        return self.name_zh


class MonitoringIndicator(NamedInTwoLanguages, ChangeLoggedModel):
    """An indicator watched between rounds, with its frequency, the place levels it
    covers and the feed it comes from; ``yearly_indicator`` names the system indicator it
    also is, if any (its latest value is shown beside the last release)."""

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    name_zh = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    unit = models.CharField(_("单位"), max_length=40)
    frequency = models.CharField(_("频率"), max_length=10, choices=Frequency.choices)
    levels = models.JSONField(_("覆盖层级"), default=list)
    feed = models.ForeignKey(Feed, on_delete=models.PROTECT, verbose_name=_("数据来源"))
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("责任部门")
    )
    yearly_indicator = models.SlugField(_("对应体检指标"), max_length=60, blank=True)
    decimals = models.PositiveSmallIntegerField(_("小数位数"), default=1)

    class Meta:
        ordering = ["code"]
        verbose_name = _("监测指标")
        verbose_name_plural = _("监测指标")

    @property
    def periods_per_year(self) -> int:
        return PERIODS_PER_YEAR[self.frequency]


class ObservationQuerySet(PlaceScopedQuerySet):
    pass


class IngestToken(ChangeLoggedModel):
    """A machine client's key: scoped to one feed and the places under one place; only its
    SHA-256 digest is stored (the key is shown once); revoked by setting ``revoked``."""

    name = models.CharField(_("名称"), max_length=100)
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, verbose_name=_("数据来源"))
    place = models.ForeignKey(Place, on_delete=models.CASCADE, verbose_name=_("地区范围"))
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("前缀"), max_length=8, editable=False)
    # DRF rate, e.g. "120/minute"; empty: MONITORING_INGEST_RATE.
    rate = models.CharField(_("频率限制"), max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    revoked = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used = models.DateTimeField(_("上次使用"), null=True, blank=True)

    objects = PlaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = _("接入令牌")
        verbose_name_plural = _("接入令牌")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked is None


class IngestBatch(ChangeLoggedModel):
    """One accepted batch of observations: what a retry with the same batch id is
    answered with (nothing is written twice)."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE)
    batch_id = models.CharField(_("批次号"), max_length=100)
    token = models.ForeignKey(IngestToken, null=True, blank=True, on_delete=models.SET_NULL)
    digest = models.CharField(max_length=64)
    accepted = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["feed", "batch_id"], name="monitoring_batch_once")
        ]

    def __str__(self):
        return f"{self.feed.code}:{self.batch_id}"


class Observation(models.Model):
    """One value of a monitoring indicator for a place and period. Not change-logged row by
    row (there are millions): the batch that brought it is (``IngestBatch``)."""

    # Indexed by the unique (place, indicator, period) and (indicator, period) only, and
    # without foreign-key constraints in the database: PostgreSQL checks Django's deferred
    # constraints row by row at commit, minutes for 10 million rows. Every id written here
    # has been looked up by the ingest service first; deletes cascade through Django.
    place = models.ForeignKey(Place, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    indicator = models.ForeignKey(
        MonitoringIndicator, on_delete=models.CASCADE, db_index=False, db_constraint=False
    )
    period = models.DateField(_("期"))
    value = models.FloatField(_("数值"))
    source = models.CharField(_("来源"), max_length=40)
    received = models.DateTimeField(_("接收时间"), default=timezone.now)
    batch = models.ForeignKey(
        IngestBatch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        db_constraint=False,
    )

    objects = ObservationQuerySet.as_manager()

    class Meta:
        ordering = ["indicator", "place", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["place", "indicator", "period"], name="monitoring_observation_once"
            )
        ]
        indexes = [models.Index(fields=["indicator", "period"], name="monitoring_obs_indicator")]
        verbose_name = _("监测数据")
        verbose_name_plural = _("监测数据")

    def __str__(self):
        return f"{self.place_id}:{self.indicator_id}:{self.period}"


class Level(models.TextChoices):
    YELLOW = "yellow", _("黄色预警")
    RED = "red", _("红色预警")


class Rule(NamedInTwoLanguages, ChangeLoggedModel):
    """A warning rule (loaded from ``data/monitoring/rules.yaml``); one row per city class
    when the limit differs by class (``city_class`` empty: every class)."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("阈值")
        BAND = "band", _("区间")
        YOY = "yoy", _("同比变化")
        FORECAST = "forecast", _("趋势预测")
        ALL_OF = "all_of", _("多指标组合")

    code = models.SlugField(_("代码"), max_length=60)
    name_zh = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    indicator = models.ForeignKey(
        MonitoringIndicator, null=True, blank=True, on_delete=models.CASCADE
    )
    city_class = models.CharField(_("城市规模等级"), max_length=20, blank=True)
    comparison = models.CharField(max_length=5, default="above")
    threshold = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    window = models.PositiveSmallIntegerField(default=24)
    horizon = models.PositiveSmallIntegerField(default=6)
    method = models.CharField(max_length=10, default="theil_sen")
    coverage = models.FloatField(default=0.9)
    components = models.JSONField(default=list, blank=True)
    level = models.CharField(_("预警级别"), max_length=6, choices=Level.choices)
    department = models.ForeignKey(Department, on_delete=models.PROTECT)
    deadline_days = models.PositiveSmallIntegerField(_("办理时限（天）"), default=15)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code", "city_class"]
        constraints = [
            models.UniqueConstraint(fields=["code", "city_class"], name="monitoring_rule_once")
        ]
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")


class WarningStatus(models.TextChoices):
    OPEN = "open", _("待签收")
    ACKNOWLEDGED = "acknowledged", _("已签收")
    HANDLED = "handled", _("已处置")
    CLOSED = "closed", _("已销号")


class WarningQuerySet(PlaceScopedQuerySet):
    department_lookup = "department"

    def published_q(self):
        return Q(published=True)

    def not_closed(self):
        return self.exclude(status=WarningStatus.CLOSED)

    def overdue(self, today: dt.date | None = None):
        today = today or timezone.localdate()
        return self.filter(
            status__in=[WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED], deadline__lt=today
        )


class EarlyWarning(ChangeLoggedModel):
    """A warning for a place and its responsible department (one not closed per rule and
    place: a rule firing again updates it)."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, verbose_name=_("规则"))
    place = models.ForeignKey(Place, on_delete=models.CASCADE, verbose_name=_("地区"))
    indicator = models.ForeignKey(
        MonitoringIndicator, on_delete=models.PROTECT, verbose_name=_("监测指标")
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, verbose_name=_("责任部门"))
    level = models.CharField(_("预警级别"), max_length=6, choices=Level.choices)
    period = models.DateField(_("期"))
    value = models.FloatField(_("数值"))
    reference = models.FloatField(_("比较值"), null=True, blank=True)
    forecast = models.FloatField(_("预测值"), null=True, blank=True)
    lower = models.FloatField(null=True, blank=True)
    upper = models.FloatField(null=True, blank=True)
    periods_ahead = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=WarningStatus.choices, default=WarningStatus.OPEN
    )
    raised = models.DateTimeField(_("发出时间"), default=timezone.now)
    deadline = models.DateField(_("办理期限"))
    # The level the warning has been escalated to (county → city → province); empty at first.
    escalated_to = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalations = models.PositiveSmallIntegerField(_("升级次数"), default=0)
    measures = models.TextField(_("处置措施"), blank=True)
    evidence = models.FileField(_("佐证材料"), upload_to="monitoring/evidence/", blank=True)
    closing_note = models.TextField(_("销号意见"), blank=True)
    published = models.BooleanField(_("已公开"), default=False)

    objects = WarningQuerySet.as_manager()

    class Meta:
        ordering = ["-raised", "-pk"]
        verbose_name = _("预警")
        verbose_name_plural = _("预警")

    def __str__(self):
        return f"{self.place.name_zh} {self.rule.name_zh} {self.period:%Y-%m}"

    def serialize(self) -> dict:
        data = super().serialize()
        data["evidence"] = self.evidence.name or ""
        return data

    @property
    def is_overdue(self) -> bool:
        return (
            self.status in (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED)
            and self.deadline < timezone.localdate()
        )


class Notification(models.Model):
    """An in-app notice about a warning; e-mailed in the daily digest unless the user
    chose not to receive mail."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    warning = models.ForeignKey(EarlyWarning, on_delete=models.CASCADE)
    event = models.CharField(max_length=20)
    created = models.DateTimeField(auto_now_add=True)
    read = models.DateTimeField(null=True, blank=True)
    mailed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self):
        return f"{self.event} {self.warning_id} → {self.user_id}"


class NotificationPreference(models.Model):
    class Mail(models.TextChoices):
        DAILY = "daily", _("每日摘要")
        NONE = "none", _("不发邮件")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="monitoring_preference"
    )
    mail = models.CharField(_("邮件通知"), max_length=10, choices=Mail.choices, default="daily")

    def __str__(self):
        return f"{self.user_id}: {self.mail}"
