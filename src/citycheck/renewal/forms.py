"""Forms of the treatment-step pages. They parse and check what a person posts, each error
on its field; the services decide and write."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from citycheck.indicators.models import Indicator

from .models import ProjectStatus, RenewalProject


def first_error(form: forms.Form) -> str:
    """The form's first error as "field: message", for forms posted from another page
    (the message is shown there, not beside the field)."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return (
            _("%(field)s：%(error)s") % {"field": label, "error": errors[0]} if label else errors[0]
        )
    return ""


class MonthField(forms.DateField):
    """A month written ``YYYY-MM``, cleaned to its first day."""

    input_formats = ["%Y-%m"]
    default_error_messages = {"invalid": _("应写成“年-月”，如 2025-06")}


class ProjectImportForm(forms.Form):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))


class ProposeForm(forms.Form):
    year = forms.IntegerField(
        label=_("根据已确认问题生成候选项目，体检年度"), min_value=2000, max_value=2100
    )


class ProjectStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=ProjectStatus.choices)


class CandidateSelectionForm(forms.Form):
    """The candidates ticked for adoption, among those the user may change."""

    project = forms.ModelMultipleChoiceField(label=_("候选项目"), queryset=None)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = candidates


class ProgressReportForm(forms.Form):
    month = MonthField(label=_("月份"))
    percent_complete = forms.FloatField(label=_("形象进度（%）"), min_value=0, max_value=100)
    investment = forms.FloatField(label=_("累计完成投资（万元）"), min_value=0, required=False)
    milestones = forms.CharField(label=_("节点完成情况"), required=False)
    blockers = forms.CharField(label=_("存在问题"), required=False)


class CandidateForm(forms.Form):
    """A candidate's name, budget, dates, unit and targets; the targets come as two lists
    of the same length (``target_indicator``, ``target_change``), blank rows ignored."""

    name = forms.CharField(label=_("项目名称"), max_length=200)
    budget = forms.FloatField(label=_("总投资（万元）"), min_value=0)
    start = forms.DateField(label=_("开工时间"))
    end = forms.DateField(label=_("完工时间"))
    unit = forms.CharField(label=_("责任单位"), max_length=200, required=False)
    targets = forms.Field(label=_("目标指标及预期变化"), required=False)

    @classmethod
    def for_project(cls, project: RenewalProject, data=None) -> CandidateForm:
        initial = {
            field: getattr(project, field) for field in ("name", "budget", "start", "end", "unit")
        }
        return cls(data, initial={**initial, "targets": project.targets})

    def posted_targets(self) -> list[tuple[str, str]]:
        """(indicator code, expected change) rows as posted, blank rows left out."""
        codes = self.data.getlist("target_indicator")
        changes = self.data.getlist("target_change")
        rows = zip(codes, changes + [""] * (len(codes) - len(changes)), strict=False)
        return [
            (code.strip(), change.strip())
            for code, change in rows
            if code.strip() or change.strip()
        ]

    def clean_targets(self) -> list[dict]:
        targets, problems = [], []
        for code, change in self.posted_targets():
            if not code or not change:
                problems.append(
                    _("指标代码与预期变化须成对填写：%(code)s") % {"code": code or change}
                )
                continue
            try:
                targets.append({"indicator": code, "expected_change": float(change)})
            except ValueError:
                problems.append(
                    _("预期变化应为数值：%(code)s 收到 %(value)r") % {"code": code, "value": change}
                )
        known = set(
            Indicator.objects.filter(code__in=[t["indicator"] for t in targets]).values_list(
                "code", flat=True
            )
        )
        problems += [
            _("未知的指标代码：%(code)s") % {"code": t["indicator"]}
            for t in targets
            if t["indicator"] not in known
        ]
        if problems:
            raise forms.ValidationError(problems)
        return targets

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            self.add_error("end", _("完工时间早于开工时间"))
        return data
