"""Supervision (督导考核): local implementation plans with quantified targets, the monthly
dispatch (每月调度), the quarterly bulletin (每季度通报) and the annual assessment
(每年度考核) of cities and counties.

Services (``services.py``) are the only writers. What is issued (a bulletin, an
assessment) is never changed: a new issue supersedes it and says so.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from citycheck.assessment.models import Release
from citycheck.core.models import ChangeLoggedModel
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.indicators.models import Indicator
from citycheck.places.models import Place


class PlanQuerySet(PlaceScopedQuerySet):
    place_lookup = "place"


class PlanChildQuerySet(PlaceScopedQuerySet):
    place_lookup = "plan__place"


class LocalPlan(ChangeLoggedModel):
    """A city's or county's implementation plan (实施方案, §三(二))."""

    place = models.OneToOneField(Place, on_delete=models.PROTECT, related_name="local_plan")
    title = models.CharField(_("方案名称"), max_length=200)
    start_year = models.PositiveSmallIntegerField(_("起始年度"))
    end_year = models.PositiveSmallIntegerField(_("目标年度"))
    summary = models.TextField(_("主要内容"), blank=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["place__code"]
        verbose_name = _("实施方案")
        verbose_name_plural = _("实施方案")

    def __str__(self):
        return self.title


class Comparison(models.TextChoices):
    AT_LEAST = ">=", "≥"
    AT_MOST = "<=", "≤"


class PlanTarget(ChangeLoggedModel):
    """A quantified target: ``indicator`` ≥ (or ≤) ``value`` by ``year``."""

    plan = models.ForeignKey(LocalPlan, on_delete=models.CASCADE, related_name="targets")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("目标年度"))
    comparison = models.CharField(_("比较"), max_length=2, choices=Comparison.choices)
    value = models.FloatField(_("目标值"))

    objects = PlanChildQuerySet.as_manager()

    class Meta:
        unique_together = [("plan", "indicator", "year")]
        ordering = ["plan", "indicator__code", "year"]
        verbose_name = _("量化目标")
        verbose_name_plural = _("量化目标")

    def __str__(self):
        return f"{self.indicator.code} {self.comparison} {self.value:g} ({self.year})"


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未开始")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", _("已完成")
    DELAYED = "delayed", _("滞后")


class PlanTask(ChangeLoggedModel):
    """A task of a local plan, with its responsible department and deadline."""

    plan = models.ForeignKey(LocalPlan, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("任务"), max_length=200)
    department = models.CharField(_("责任单位"), max_length=200)
    deadline = models.DateField(_("完成时限"))
    status = models.CharField(
        _("状态"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    note = models.TextField(_("进展说明"), blank=True)

    objects = PlanChildQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "deadline", "pk"]
        verbose_name = _("方案任务")
        verbose_name_plural = _("方案任务")

    def __str__(self):
        return self.title


class YearlyPlan(ChangeLoggedModel):
    """What the plan sets out to do in one year (年度计划)."""

    plan = models.ForeignKey(LocalPlan, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("年度"))
    text = models.TextField(_("年度计划"))

    objects = PlanChildQuerySet.as_manager()

    class Meta:
        unique_together = [("plan", "year")]
        ordering = ["plan", "year"]
        verbose_name = _("年度计划")
        verbose_name_plural = _("年度计划")


class DispatchMonth(ChangeLoggedModel):
    """One month of the monthly dispatch: its deadline, open until the province closes it."""

    class Status(models.TextChoices):
        OPEN = "open", _("填报中")
        CLOSED = "closed", _("已截止")

    month = models.DateField(_("月份"), unique=True, help_text=_("当月第一天。"))
    deadline = models.DateField(_("报送截止日期"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default="open")
    closed_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("月度调度")
        verbose_name_plural = _("月度调度")

    def __str__(self):
        return f"{self.month:%Y-%m}"


class DispatchStatus(models.TextChoices):
    PENDING = "pending", _("待报送")
    SUBMITTED = "submitted", _("已报送")
    OVERDUE = "overdue", _("逾期未报")


class DispatchReport(ChangeLoggedModel):
    """One city's report of a dispatch month: the figures taken from the platform when it
    was submitted (projects, plan tasks) and the city's own words."""

    month = models.ForeignKey(DispatchMonth, on_delete=models.CASCADE, related_name="reports")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="dispatch_reports")
    status = models.CharField(
        _("状态"), max_length=10, choices=DispatchStatus.choices, default=DispatchStatus.PENDING
    )
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    late = models.BooleanField(_("逾期报送"), default=False)
    reminders = models.PositiveSmallIntegerField(_("催报次数"), default=0)
    summary = models.TextField(_("本月工作情况"), blank=True)
    figures = models.JSONField(_("本月数据"), default=dict)

    objects = PlanQuerySet.as_manager()

    class Meta:
        unique_together = [("month", "place")]
        ordering = ["month", "place__code"]
        verbose_name = _("月度调度报送")
        verbose_name_plural = _("月度调度报送")

    def __str__(self):
        return f"{self.place_id} {self.month}"


class IssueStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ISSUED = "issued", _("已印发")
    SUPERSEDED = "superseded", _("已被替代")


class Bulletin(ChangeLoggedModel):
    """A quarterly bulletin (季度通报): drafted by a job, its text edited, then issued
    with a document number and kept as issued."""

    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("标题"), max_length=200)
    text = models.TextField(_("通报正文"))
    ranking = models.JSONField(_("排名"), default=list)
    slow = models.JSONField(_("进展缓慢地区"), default=list)
    praised = models.JSONField(_("表扬地区"), default=list)
    status = models.CharField(
        _("状态"), max_length=10, choices=IssueStatus.choices, default=IssueStatus.DRAFT
    )
    number = models.CharField(_("文号"), max_length=60, blank=True)
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    files = models.JSONField(_("文件"), default=dict, help_text=_("{格式: MEDIA_ROOT 下路径}"))
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["-year", "-quarter", "-pk"]
        verbose_name = _("季度通报")
        verbose_name_plural = _("季度通报")

    def __str__(self):
        return self.number or self.title


class Appraisal(ChangeLoggedModel):
    """The annual assessment (年度考核) of a year under one scheme."""

    year = models.PositiveSmallIntegerField(_("考核年度"))
    scheme_name = models.CharField(_("考核方案"), max_length=200)
    scheme = models.JSONField(_("方案内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=IssueStatus.choices, default=IssueStatus.DRAFT
    )
    number = models.CharField(_("文号"), max_length=60, blank=True)
    issued_at = models.DateTimeField(_("印发时间"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    files = models.JSONField(_("文件"), default=dict)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    class Meta:
        ordering = ["-year", "-pk"]
        verbose_name = _("年度考核")
        verbose_name_plural = _("年度考核")

    def __str__(self):
        return self.number or f"{self.year} {self.scheme_name}"


class AppraisalChildQuerySet(PlaceScopedQuerySet):
    """A place sees its own scores once the assessment is issued; the province always."""

    place_lookup = "place"

    def restrict(self, user, action="view"):
        rows = super().restrict(user, action)
        if user.is_superuser or getattr(getattr(user, "place", None), "level", "") == "province":
            return rows
        return rows.exclude(appraisal__status=IssueStatus.DRAFT)


class AppraisalScore(ChangeLoggedModel):
    """The points of one place on one criterion, with the evidence behind them."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="scores")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    criterion = models.SlugField(_("考核项"), max_length=60)
    kind = models.CharField(_("类型"), max_length=10)
    measure = models.FloatField(_("完成率"), null=True, blank=True)
    points = models.FloatField(_("得分"))
    evidence = models.JSONField(_("依据"), default=dict)
    adjusted_from = models.FloatField(_("调整前得分"), null=True, blank=True)
    adjustment_reason = models.TextField(_("调整理由"), blank=True)

    objects = AppraisalChildQuerySet.as_manager()

    class Meta:
        unique_together = [("appraisal", "place", "criterion")]
        ordering = ["appraisal", "place__code", "pk"]
        verbose_name = _("考核得分")
        verbose_name_plural = _("考核得分")

    def __str__(self):
        return f"{self.place_id} {self.criterion} {self.points:g}"


class AppraisalTotal(ChangeLoggedModel):
    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="totals")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    total = models.FloatField(_("总分"))
    rank = models.PositiveSmallIntegerField(_("名次"))
    outcome = models.CharField(_("结果"), max_length=10, blank=True)

    objects = AppraisalChildQuerySet.as_manager()

    class Meta:
        unique_together = [("appraisal", "place")]
        ordering = ["appraisal", "place__level", "rank", "place__code"]
        verbose_name = _("考核总分")
        verbose_name_plural = _("考核总分")

    def __str__(self):
        return f"{self.place_id} {self.total:g}"


class ProvinceTask(ChangeLoggedModel):
    """A task of the province's own plan (省实施方案), with its responsible provincial
    departments; loaded from ``data/supervision/plan_tasks.yaml``."""

    number = models.PositiveSmallIntegerField(_("序号"), unique=True)
    programme_number = models.PositiveSmallIntegerField(_("工程序号"))
    programme = models.CharField(_("工程"), max_length=100)
    title = models.CharField(_("任务"), max_length=200)
    departments = models.ManyToManyField(
        "accounts.Department", related_name="province_tasks", verbose_name=_("责任单位")
    )
    others = models.JSONField(_("其他责任单位"), default=list)

    class Meta:
        ordering = ["number"]
        verbose_name = _("省级任务")
        verbose_name_plural = _("省级任务")

    def __str__(self):
        return f"{self.number}. {self.title}"


class ProvinceTaskReport(ChangeLoggedModel):
    """One department's monthly status of a province task."""

    task = models.ForeignKey(ProvinceTask, on_delete=models.CASCADE, related_name="reports")
    month = models.DateField(_("月份"))
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=12, choices=TaskStatus.choices)
    note = models.TextField(_("进展说明"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        unique_together = [("task", "month", "department")]
        ordering = ["task", "-month", "department"]
        verbose_name = _("省级任务月度进展")
        verbose_name_plural = _("省级任务月度进展")


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已申报")
    SHORTLISTED = "shortlisted", _("入围")
    SELECTED = "selected", _("入选")
    NOT_SELECTED = "not_selected", _("未入选")


class CaseType(models.TextChoices):
    OLD_COMPOUNDS = "old_compounds", _("老旧小区改造")
    COMMUNITY = "community", _("完整社区建设")
    GREEN = "green", _("生态修复与绿地")
    RESILIENCE = "resilience", _("排水防涝与韧性")
    HERITAGE = "heritage", _("历史文化保护")
    SMART = "smart", _("智慧城市")


class CaseQuerySet(PlaceScopedQuerySet):
    place_lookup = "place"

    def published_q(self):
        return models.Q(status=CaseStatus.SELECTED)


class Case(ChangeLoggedModel):
    """An outstanding renewal case (优秀案例) a city submits for the year's selection;
    selected cases are public (the portal)."""

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="cases")
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("案例名称"), max_length=200)
    case_type = models.CharField(_("类型"), max_length=20, choices=CaseType.choices)
    summary = models.TextField(_("案例介绍"))
    projects = models.ManyToManyField(
        "renewal.RenewalProject", blank=True, related_name="cases", verbose_name=_("关联项目")
    )
    indicators = models.JSONField(
        _("前后指标"),
        default=list,
        help_text=_("[{indicator, name, unit, before_year, before, after_year, after}]"),
    )
    status = models.CharField(_("状态"), max_length=14, choices=CaseStatus.choices, default="draft")
    submitted_at = models.DateTimeField(_("申报时间"), null=True, blank=True)
    decision_note = models.TextField(_("评审意见"), blank=True)
    is_synthetic = models.BooleanField(_("演示数据（合成）"), default=False)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "place__code", "pk"]
        verbose_name = _("优秀案例")
        verbose_name_plural = _("优秀案例")

    def __str__(self):
        return self.title


class CaseFileQuerySet(PlaceScopedQuerySet):
    place_lookup = "case__place"

    def published_q(self):
        return models.Q(case__status=CaseStatus.SELECTED)


def case_file_path(instance, filename):
    # the stored name is ours (a random name and the checked extension), never the upload's
    return f"supervision/cases/{instance.case_id}/{filename}"


class CaseFile(models.Model):
    """A photo or document of a case, checked by its bytes; the original name is kept
    only for display."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("照片")
        DOCUMENT = "document", _("文件")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to=case_file_path)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    created = models.DateTimeField(auto_now_add=True)

    objects = CaseFileQuerySet.as_manager()

    class Meta:
        ordering = ["case", "kind", "pk"]

    def __str__(self):
        return self.original_name


class CaseReview(ChangeLoggedModel):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    score = models.FloatField(_("评分"))
    comment = models.TextField(_("评审意见"), blank=True)

    class Meta:
        unique_together = [("case", "reviewer")]
        ordering = ["case", "reviewer"]
