"""Rounds of the health check and the values collected in them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from citycheck.core.models import ChangeLoggedModel
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.indicators.models import BaseFigure, Indicator, IndicatorSystem
from citycheck.places.models import Place


class RoundKind(models.TextChoices):
    ANNUAL = "annual", _("年度体检")
    FIVE_YEAR = "five_year", _("五年评估")


class RoundStatus(models.TextChoices):
    OPEN = "open", _("填报中")
    CLOSED = "closed", _("已截止")
    PUBLISHED = "published", _("已发布")


class Source(models.TextChoices):
    SELF_CHECK = "self_check", _("城市自体检")
    THIRD_PARTY = "third_party", _("第三方评估")
    SURVEY = "survey", _("满意度调查")
    ADOPTED = "adopted", _("采信值")


class Round(ChangeLoggedModel):
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(_("类型"), max_length=12, choices=RoundKind.choices, default=RoundKind.ANNUAL)
    system = models.ForeignKey(IndicatorSystem, on_delete=models.PROTECT, verbose_name=_("指标体系"))
    places = models.ManyToManyField(Place, related_name="rounds", verbose_name=_("参与地区"))
    deadline = models.DateField(_("截止日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    is_synthetic = models.BooleanField(
        _("演示数据"), default=False, help_text=_("由演示数据生成器产生的合成数据。")
    )

    class Meta:
        unique_together = [("year", "kind", "system")]
        ordering = ["-year", "kind"]
        verbose_name = _("体检轮次")
        verbose_name_plural = _("体检轮次")

    def __str__(self):
        return f"{self.year} {self.get_kind_display()}"


class ValueQuerySet(PlaceScopedQuerySet):
    department_lookup = "indicator__department"

    def published_q(self):
        return Q(round__status=RoundStatus.PUBLISHED, source=Source.ADOPTED)


class Value(ChangeLoggedModel):
    """One indicator value of one place in one round from one source.

    ``version`` increases with every save; a form or upload that read version n may only
    write if the row is still at n (optimistic concurrency).
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="values")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="values")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values")
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    value = models.FloatField(_("数值"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = ValueQuerySet.as_manager()

    class Meta:
        unique_together = [("round", "place", "indicator", "source")]
        indexes = [models.Index(fields=["round", "source", "place"])]
        verbose_name = _("指标值")
        verbose_name_plural = _("指标值")

    def __str__(self):
        return f"{self.round.year} {self.place_id} {self.indicator.code} {self.source}={self.value}"


class BaseFigureValueQuerySet(PlaceScopedQuerySet):
    pass


class BaseFigureValue(ChangeLoggedModel):
    """The value of a base figure (底数) for a place and year, shared by all formulas."""

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="base_figures")
    figure = models.ForeignKey(BaseFigure, on_delete=models.PROTECT, related_name="values")
    year = models.PositiveSmallIntegerField(_("年度"))
    value = models.FloatField(_("数值"))
    source = models.CharField(_("来源"), max_length=200, blank=True)

    objects = BaseFigureValueQuerySet.as_manager()

    class Meta:
        unique_together = [("place", "figure", "year")]
        verbose_name = _("底数值")
        verbose_name_plural = _("底数值")

    def __str__(self):
        return f"{self.place_id} {self.figure.code} {self.year}={self.value}"
