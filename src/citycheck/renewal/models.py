"""The project library (项目库) and monthly progress (月调度).

A :class:`RenewalProject` addresses confirmed problems of its place; the year's adopted
projects form the annual construction plan. :class:`ProgressReport` is one month's
report of a project.
"""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citycheck.core.models import ChangeLoggedModel
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.diagnosis.models import Problem
from citycheck.places.models import Place


class ProjectStatus(models.TextChoices):
    CANDIDATE = "candidate", _("候选")
    ADOPTED = "adopted", _("已入库")
    IN_PROGRESS = "in_progress", _("在建")
    FINISHED = "finished", _("已完工")
    CANCELLED = "cancelled", _("已取消")


# The priority's components in the engine's order (citycheck.engine.renewal.priority_scores)
# and the note on where the demand component came from, for the explanation.
PRIORITY_COMPONENT_NAMES = {
    "severity": _("严重程度"),
    "demand": _("群众需求"),
    "urgency": _("紧迫性"),
    "cost": _("成本"),
}
DEMAND_SOURCE_NOTES = {
    "survey": _("（据满意度调查）"),
    "given": _("（据群众诉求数据）"),
    "unknown": _("（无满意度数据，按中等计）"),
}


class ProjectQuerySet(PlaceScopedQuerySet):
    place_lookup = "place"


class RenewalProject(ChangeLoggedModel):
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="renewal_projects")
    year = models.PositiveSmallIntegerField(_("计划年度"))
    name = models.CharField(_("项目名称"), max_length=200)
    project_type = models.SlugField(_("项目类型"), max_length=60)
    location = models.JSONField(
        _("位置（GeoJSON）"),
        null=True,
        blank=True,
        help_text=_("点或面，经纬度；须与底图边界同一坐标系（演示边界为 GCJ-02）。"),
    )
    problems = models.ManyToManyField(Problem, blank=True, related_name="projects")
    targets = models.JSONField(
        _("目标指标及预期变化"), default=list, help_text=_("[{indicator, expected_change}]")
    )
    budget = models.FloatField(_("总投资（万元）"))
    funding = models.JSONField(_("资金来源"), default=list, help_text=_("[{source, amount}]"))
    start = models.DateField(_("开工时间"))
    end = models.DateField(_("完工时间"))
    unit = models.CharField(_("责任单位"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.CANDIDATE
    )
    priority = models.FloatField(_("优先级"), null=True, blank=True)
    priority_components = models.JSONField(_("优先级构成"), default=dict)
    priority_explanation = models.TextField(_("优先级说明"), blank=True)
    priority_basis = models.JSONField(
        _("优先级依据"),
        default=dict,
        help_text=_("计算优先级所用的权重、群众需求来源和预算：{weights, demand_source, budget}"),
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["year", "-priority", "place__code", "name"]
        verbose_name = _("更新项目")
        verbose_name_plural = _("项目库")

    def __str__(self):
        return self.name

    def explain_priority(self) -> str:
        """The priority as a sum of weighted components, in the active language.

        Built from the stored components and basis (``priority_explanation`` is the
        engine's Chinese text, kept as the record); a project scored before the basis was
        stored shows that text, one without a priority nothing.
        """
        basis = self.priority_basis
        if self.priority is None or not basis:
            return self.priority_explanation
        terms = []
        for key, name in PRIORITY_COMPONENT_NAMES.items():
            term = f"{name} {self.priority_components[key]:.2g}×{basis['weights'][key]:.2g}"
            if key == "demand":
                term += str(DEMAND_SOURCE_NOTES[basis["demand_source"]])
            elif key == "cost":
                term += gettext("（预算 %(budget)g 万元）") % {"budget": basis["budget"]}
            terms.append(term)
        return gettext("优先级 %(priority).1f 分 = %(terms)s") % {
            "priority": self.priority,
            "terms": " + ".join(terms),
        }


class ProgressQuerySet(PlaceScopedQuerySet):
    place_lookup = "project__place"


class ProgressReport(ChangeLoggedModel):
    project = models.ForeignKey(RenewalProject, on_delete=models.CASCADE, related_name="reports")
    month = models.DateField(_("月份"), help_text=_("当月第一天。"))
    percent_complete = models.FloatField(_("形象进度（%）"))
    investment = models.FloatField(_("累计完成投资（万元）"), null=True, blank=True)
    milestones = models.TextField(_("节点完成情况"), blank=True)
    blockers = models.TextField(_("存在问题"), blank=True)

    objects = ProgressQuerySet.as_manager()

    class Meta:
        unique_together = [("project", "month")]
        ordering = ["project", "month"]
        verbose_name = _("月度进展")
        verbose_name_plural = _("月度进展")

    def __str__(self):
        return f"{self.project_id} {self.month:%Y-%m} {self.percent_complete}%"
