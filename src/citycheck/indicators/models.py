"""Indicator systems as data: systems, dimensions, indicators, standards, base figures.

Systems are loaded from YAML files (``data/systems/``) by ``citycheck systems import``;
the file is the source of truth and these rows are its loaded form.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from citycheck.accounts.models import Department
from citycheck.core.models import ChangeLoggedModel, NamedInTwoLanguages
from citycheck.places.models import CityClass, Place


class Direction(models.TextChoices):
    HIGHER = "higher", _("越高越好")
    LOWER = "lower", _("越低越好")
    RANGE = "range", _("区间最优")


class IndicatorType(models.TextChoices):
    GUIDING = "guiding", _("导向指标")
    BOTTOM_LINE = "bottom_line", _("底线指标")


class Tier(models.TextChoices):
    NATIONAL = "national", _("国家基础指标")
    PROVINCIAL = "provincial", _("省级特色指标")
    LOCAL = "local", _("地方特色指标")


class SourceKind(models.TextChoices):
    STATISTICS = "statistics", _("统计数据")
    SPATIAL = "spatial", _("空间数据")
    SURVEY = "survey", _("问卷调查")
    BIG_DATA = "big_data", _("大数据")


class Rollup(models.TextChoices):
    SUM = "sum", _("求和")
    RATIO_OF_SUMS = "ratio_of_sums", _("分子分母分别求和后相除")
    POPULATION_WEIGHTED_MEAN = "population_weighted_mean", _("人口加权平均")
    NONE = "none", _("不可汇总")


class Comparison(models.TextChoices):
    AT_LEAST = ">=", _("不低于")
    AT_MOST = "<=", _("不高于")
    BETWEEN = "between", _("介于")


class BaseFigure(ChangeLoggedModel):
    """A base figure (底数) shared by every formula: one definition, time point and scope."""

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    name_zh = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    unit = models.CharField(_("单位"), max_length=40)
    definition = models.TextField(_("定义"), blank=True)
    time_point = models.CharField(_("时点"), max_length=60, blank=True)
    spatial_scope = models.CharField(_("空间范围"), max_length=60, blank=True)
    # The range a county-level unit's value usually falls in: a plausibility check on entry.
    range_low = models.FloatField(_("合理范围下限"), null=True, blank=True)
    range_high = models.FloatField(_("合理范围上限"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("底数")
        verbose_name_plural = _("底数")

    def __str__(self):
        return f"{self.name_zh}（{self.unit}）"


class IndicatorSystem(ChangeLoggedModel):
    code = models.SlugField(_("代码"), max_length=60)
    version = models.PositiveSmallIntegerField(_("年度版本"))
    name_zh = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    description = models.TextField(_("说明"), blank=True)
    extends = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="extensions",
        verbose_name=_("扩展自"),
    )
    source_digest = models.CharField(_("文件摘要"), max_length=64, editable=False)
    # The level that owns the system: only administrators reaching this place change it;
    # null is this instance's top level (the province, or the nation of a national
    # instance), whose administrators alone may change it.
    owner = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="indicator_systems",
        verbose_name=_("所属层级"),
        help_text=_("留空为本平台最高层级（省，或全国平台的国家）。"),
    )

    class Meta:
        unique_together = [("code", "version")]
        ordering = ["code", "-version"]
        verbose_name = _("指标体系")
        verbose_name_plural = _("指标体系")

    def __str__(self):
        # Names usually carry their year already: 江西省城市体检指标体系（2021）.
        if str(self.version) in self.name_zh:
            return self.name_zh
        return f"{self.name_zh}（{self.version}）"

    def lineage(self) -> list["IndicatorSystem"]:
        """This system and the systems it extends, base first."""
        chain, system = [], self
        while system is not None:
            chain.append(system)
            system = system.extends
        return chain[::-1]

    def all_indicators(self):
        """Own indicators and those inherited from the systems this one extends."""
        return Indicator.objects.filter(system__in=self.lineage()).select_related("dimension")


class Dimension(NamedInTwoLanguages, ChangeLoggedModel):
    system = models.ForeignKey(IndicatorSystem, on_delete=models.CASCADE, related_name="dimensions")
    code = models.SlugField(_("代码"), max_length=60)
    name_zh = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        unique_together = [("system", "code")]
        ordering = ["system", "order"]
        verbose_name = _("维度")
        verbose_name_plural = _("维度")


class Indicator(NamedInTwoLanguages, ChangeLoggedModel):
    system = models.ForeignKey(IndicatorSystem, on_delete=models.CASCADE, related_name="indicators")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="indicators")
    code = models.SlugField(_("代码"), max_length=60)
    number = models.CharField(_("序号"), max_length=10, blank=True)
    group = models.CharField(
        _("分组"), max_length=60, blank=True, help_text=_("维度下的二级分类，如“安全耐久”。")
    )
    name_zh = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    definition = models.TextField(_("定义"), blank=True)
    unit = models.CharField(_("单位"), max_length=40)
    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices)
    type = models.CharField(_("类型"), max_length=15, choices=IndicatorType.choices)
    tier = models.CharField(_("层级"), max_length=15, choices=Tier.choices)
    formula = models.TextField(_("计算公式"), blank=True)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="indicators",
        verbose_name=_("责任单位"),
    )
    source_kind = models.CharField(_("数据来源类型"), max_length=15, choices=SourceKind.choices)
    spatial_scope = models.CharField(_("空间范围"), max_length=60, blank=True)
    time_point = models.CharField(_("时点"), max_length=60, blank=True)
    decimals = models.PositiveSmallIntegerField(_("小数位数"), default=2)
    rollup = models.CharField(_("汇总方式"), max_length=30, choices=Rollup.choices)
    citation = models.TextField(
        _("定义出处"),
        blank=True,
        help_text=_("定义所依据的公开来源；为空表示本平台自拟。"),
    )
    range_low = models.FloatField(_("合理范围下限"), null=True, blank=True)
    range_high = models.FloatField(_("合理范围上限"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        unique_together = [("system", "code")]
        ordering = ["system", "dimension__order", "order"]
        verbose_name = _("指标")
        verbose_name_plural = _("指标")

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def definition_is_cited(self) -> bool:
        return bool(self.citation)


class Standard(ChangeLoggedModel):
    """The standard or target of an indicator for one city class (blank = every class).

    ``warning_band`` widens the standard into a yellow zone: a value that misses the
    standard by no more than the band is yellow, beyond it red.
    """

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="standards")
    city_class = models.CharField(
        _("城市规模等级"), max_length=20, choices=CityClass.choices, blank=True
    )
    comparison = models.CharField(_("比较方式"), max_length=10, choices=Comparison.choices)
    value = models.FloatField(_("标准值"))
    value_high = models.FloatField(_("上限"), null=True, blank=True)
    warning_band = models.FloatField(_("预警带宽"), default=0)
    is_target = models.BooleanField(_("为目标值"), default=False)
    citation = models.TextField(_("出处"), blank=True)

    class Meta:
        unique_together = [("indicator", "city_class")]
        verbose_name = _("标准值")
        verbose_name_plural = _("标准值")

    def __str__(self):
        high = f"–{self.value_high}" if self.value_high is not None else ""
        return f"{self.indicator.code} {self.comparison} {self.value}{high}"


class Crosswalk(ChangeLoggedModel):
    """How an indicator of one system corresponds to one of another system."""

    class Relation(models.TextChoices):
        SAME = "same", _("相同")
        SIMILAR = "similar", _("相近")
        PART = "part", _("部分对应")

    source = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="crosswalk_out")
    target = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="crosswalk_in")
    relation = models.CharField(_("对应关系"), max_length=10, choices=Relation.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        unique_together = [("source", "target")]
        verbose_name = _("指标对照")
        verbose_name_plural = _("指标对照")
