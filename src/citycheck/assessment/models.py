"""Releases of the city health index: frozen results of one assessment run.

A :class:`Release` is what an assessment run of a round produces: the method
specification it used (YAML text), the code version, a SHA-256 digest of its inputs and
one :class:`Result` row per place × level (indicator, dimension, index). Nothing in a
release changes after it is written; publishing only changes its status.

Who sees what (decided in :class:`ReleaseQuerySet` and :class:`ResultQuerySet`, nowhere
else): a draft release is seen only by the users who may publish it (province roles with
``Action.PUBLISH`` whose reach covers the release's scope); a published release is public,
including to anonymous users.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from citycheck.collection.models import Round
from citycheck.core.choices import Action
from citycheck.core.models import ChangeLoggedModel, Job
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.places.models import Place


class ReleaseStatus(models.TextChoices):
    DRAFT = "draft", _("待发布")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被替代")


class Level(models.TextChoices):
    INDEX = "index", _("城市健康指数")
    DIMENSION = "dimension", _("维度")
    INDICATOR = "indicator", _("指标")


class WarningColour(models.TextChoices):
    GREEN = "green", _("绿色")
    YELLOW = "yellow", _("黄色")
    RED = "red", _("红色")


# Statuses whose results anyone may read; a superseded release stays public so that
# links and downloads of the earlier publication keep working.
PUBLIC_STATUSES = (ReleaseStatus.PUBLISHED, ReleaseStatus.SUPERSEDED)


class _PublishableQuerySet(PlaceScopedQuerySet):
    """Drafts only for those who may publish them; published rows for everybody."""

    status_lookup = "status"

    def published_q(self) -> Q:
        return Q(**{f"{self.status_lookup}__in": PUBLIC_STATUSES})

    def restrict(self, user, action: str = Action.VIEW):
        drafts = super().restrict(user, Action.PUBLISH)
        return drafts | self.published() if action == Action.VIEW else drafts


class ReleaseQuerySet(_PublishableQuerySet):
    place_lookup = "scope"


class Release(ChangeLoggedModel):
    """One assessment run of a round, frozen."""

    round = models.ForeignKey(
        Round, on_delete=models.PROTECT, related_name="releases", verbose_name=_("体检轮次")
    )
    scope = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        related_name="releases",
        verbose_name=_("评价范围"),
        help_text=_("被评价地区的共同上级（通常为省）。"),
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=ReleaseStatus.choices, default=ReleaseStatus.DRAFT
    )
    method_code = models.SlugField(_("评价方法"), max_length=60)
    method_version = models.PositiveSmallIntegerField(_("方法版本"))
    method_text = models.TextField(_("评价方法说明（YAML）"))
    code_version = models.CharField(_("程序版本"), max_length=80)
    input_digest = models.CharField(_("输入摘要（SHA-256）"), max_length=64, db_index=True)
    details = models.JSONField(
        _("计算详情"),
        default=dict,
        help_text=_("所用权重、筛除的地区、敏感性与一致性检验、输入快照。"),
    )
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    provisional = models.BooleanField(
        _("暂定结果"),
        default=False,
        help_text=_("轮次仍在填报中，或有地区的数据尚未经省级采纳；轮次截止前不能发布。"),
    )

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("评价结果版本")
        verbose_name_plural = _("评价结果版本")

    def __str__(self):
        return f"#{self.pk} {self.round.year} {self.method_code} v{self.method_version}"

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    def serialize(self) -> dict:
        # The audit trail keeps what identifies a release, not its (large) details.
        return {
            "round": self.round_id,
            "status": self.status,
            "method_code": self.method_code,
            "method_version": self.method_version,
            "input_digest": self.input_digest,
            "code_version": self.code_version,
            "provisional": self.provisional,
        }


class ResultQuerySet(_PublishableQuerySet):
    status_lookup = "release__status"


class Result(models.Model):
    """The frozen result of one place at one level of the index tree.

    For an indicator row ``value`` is the adopted value and ``score`` its normalised score;
    for a dimension or the index both hold the aggregated score. Rank intervals come from
    the Monte Carlo uncertainty analysis (5 % and 95 % quantiles of the rank).
    """

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="results")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    code = models.CharField(_("代码"), max_length=60)
    name_zh = models.CharField(_("名称"), max_length=200)
    dimension_code = models.CharField(_("所属维度"), max_length=60, blank=True)
    value = models.FloatField(_("数值"), null=True, blank=True)
    score = models.FloatField(_("得分"), null=True, blank=True)
    weight = models.FloatField(_("权重"), null=True, blank=True)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)
    rank_median = models.FloatField(_("排名中位数"), null=True, blank=True)
    rank_low = models.PositiveIntegerField(_("排名区间下限（5%）"), null=True, blank=True)
    rank_high = models.PositiveIntegerField(_("排名区间上限（95%）"), null=True, blank=True)
    place_count = models.PositiveIntegerField(_("参评地区数"), null=True, blank=True)
    peer_group = models.CharField(_("同类组"), max_length=40, blank=True)
    peer_rank = models.PositiveIntegerField(_("同类排名"), null=True, blank=True)
    peer_count = models.PositiveIntegerField(_("同类地区数"), null=True, blank=True)
    meets_standard = models.BooleanField(_("达标"), null=True, blank=True)
    warning = models.CharField(_("预警"), max_length=10, choices=WarningColour.choices, blank=True)
    bottom_line_failed = models.BooleanField(_("底线指标未达标"), default=False)
    standard = models.CharField(_("标准值"), max_length=60, blank=True)
    distance_to_target = models.FloatField(_("距目标差距"), null=True, blank=True)
    obstacle_degree = models.FloatField(_("障碍度"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = ResultQuerySet.as_manager()

    class Meta:
        unique_together = [("release", "place", "level", "code")]
        indexes = [models.Index(fields=["release", "level", "code"])]
        ordering = ["release", "level", "rank", "place__code"]
        verbose_name = _("评价结果")
        verbose_name_plural = _("评价结果")

    def __str__(self):
        return f"{self.release_id} {self.place_id} {self.level}:{self.code}={self.score}"

    # Numbers that are published; none may be NaN or infinite.
    NUMBER_FIELDS = (
        "value",
        "score",
        "weight",
        "rank_median",
        "distance_to_target",
        "obstacle_degree",
    )

    def bad_numbers(self) -> list[str]:
        """Names of number fields holding NaN or an infinite value."""
        return [
            name
            for name in self.NUMBER_FIELDS
            if (number := getattr(self, name)) is not None and not math.isfinite(number)
        ]
