"""Forms of the supervision pages: they check types; the services check the rest and
their refusals are put beside the field they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from citycheck.renewal.forms import MonthField

from .models import CaseType, Comparison, TaskStatus


class PlanForm(forms.Form):
    title = forms.CharField(label=_("方案名称"), max_length=200)
    start_year = forms.CharField(label=_("起始年度"), max_length=10)
    end_year = forms.CharField(label=_("目标年度"), max_length=10)
    summary = forms.CharField(
        label=_("主要内容"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class TargetForm(forms.Form):
    indicator = forms.CharField(label=_("指标代码"), max_length=60)
    year = forms.CharField(label=_("目标年度"), max_length=10)
    comparison = forms.ChoiceField(
        label=_("比较"), choices=[("", _("按指标方向")), *Comparison.choices], required=False
    )
    value = forms.CharField(label=_("目标值"), max_length=40)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("任务"), max_length=200)
    department = forms.CharField(label=_("责任单位"), max_length=200)
    deadline = forms.DateField(label=_("完成时限"), widget=forms.DateInput(attrs={"type": "date"}))


class YearlyPlanForm(forms.Form):
    year = forms.CharField(label=_("年度"), max_length=10)
    text = forms.CharField(label=_("年度计划"), widget=forms.Textarea(attrs={"rows": 3}))


class OpenMonthForm(forms.Form):
    month = MonthField(label=_("调度月份"))
    deadline = forms.DateField(
        label=_("报送截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class DispatchReportForm(forms.Form):
    summary = forms.CharField(
        label=_("本月工作情况"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )

    def __init__(self, *args, tasks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = list(tasks)
        for task in self.tasks:
            self.fields[f"task_{task.pk}"] = forms.ChoiceField(
                label=f"{task.title}（{task.department}）",
                choices=TaskStatus.choices,
                initial=task.status,
            )

    def task_updates(self) -> dict[int, str]:
        return {task.pk: self.cleaned_data[f"task_{task.pk}"] for task in self.tasks}


class BulletinStartForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2021, max_value=2035)
    quarter = forms.TypedChoiceField(
        label=_("季度"), coerce=int, choices=[(q, str(q)) for q in (1, 2, 3, 4)]
    )


class BulletinTextForm(forms.Form):
    text = forms.CharField(
        label=_("通报正文"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )


class AppraisalStartForm(forms.Form):
    year = forms.IntegerField(label=_("考核年度"), min_value=2021, max_value=2035)


class HandScoreForm(forms.Form):
    points = forms.CharField(label=_("得分"), max_length=20)
    evidence = forms.CharField(
        label=_("评分依据"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class AdjustForm(forms.Form):
    points = forms.CharField(label=_("调整后得分"), max_length=20)
    reason = forms.CharField(
        label=_("调整理由"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class CaseForm(forms.Form):
    place = forms.ChoiceField(label=_("地区"))
    year = forms.IntegerField(label=_("年度"), min_value=2021, max_value=2035)
    title = forms.CharField(label=_("案例名称"), max_length=200)
    case_type = forms.ChoiceField(label=_("类型"), choices=CaseType.choices)
    summary = forms.CharField(
        label=_("案例介绍"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )
    projects = forms.CharField(label=_("关联项目编号（逗号分隔）"), required=False, max_length=500)
    indicators = forms.CharField(
        label=_("前后对比指标代码（逗号分隔）"), required=False, max_length=500
    )

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(p.code, p.name) for p in places]

    def clean_projects(self):
        text = self.cleaned_data["projects"].replace("，", ",")
        items = [t.strip() for t in text.split(",") if t.strip()]
        if not all(t.isdigit() and len(t) < 10 for t in items):
            raise forms.ValidationError(_("项目编号须为数字，用逗号分隔"))
        return [int(t) for t in items]

    def clean_indicators(self):
        text = self.cleaned_data["indicators"].replace("，", ",")
        return [t.strip() for t in text.split(",") if t.strip()]


class CaseFileForm(forms.Form):
    file = forms.FileField(label=_("照片（JPEG/PNG，≤5 MB）或文件（PDF，≤20 MB）"))


class CaseReviewForm(forms.Form):
    score = forms.CharField(label=_("评分（0–100）"), max_length=20)
    comment = forms.CharField(label=_("评审意见"), required=False, max_length=2000)


class CaseDecisionForm(forms.Form):
    selected = forms.TypedChoiceField(
        label=_("决定"), coerce=lambda v: v == "1", choices=[("1", _("入选")), ("0", _("未入选"))]
    )
    note = forms.CharField(label=_("评审意见"), max_length=2000, required=False)
