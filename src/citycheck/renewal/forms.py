"""Forms of the treatment-step pages. They parse and check what a person posts, each error
on its field; the services decide and write."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from citycheck.accounts.models import Department

from . import services
from .models import ProjectStatus, RenewalProject
from .services import UNIT_SEPARATOR


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
    """A month written ``YYYY-MM`` (as ``<input type="month">`` sends it) or ``2025年6月``,
    cleaned to its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    default_error_messages = {
        "invalid": _("应写成“年-月”，如 2025-06 或 2025年6月；收到“%(value)s”")
    }
    WRITTEN = re.compile(r"(\d{4})\s*(?:-|年)\s*(\d{1,2})\s*月?")

    def to_python(self, value):
        if value in self.empty_values or isinstance(value, dt.date):
            return super().to_python(value)
        written = self.WRITTEN.fullmatch(str(value).strip())
        try:
            return dt.date(int(written[1]), int(written[2]), 1)
        except (TypeError, ValueError):  # no match, or month 13
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None


class ProgressBoardForm(forms.Form):
    as_of = MonthField(label=_("调度月份"), required=False)


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
    lowered_reason = forms.CharField(
        label=_("进度下调原因"),
        required=False,
        max_length=500,
        help_text=_("形象进度低于上月时必填。"),
    )


class CandidateForm(forms.Form):
    """A candidate's name, budget, dates, responsible departments and targets.

    Departments are picked from the registry (stored by code), with ``other_unit`` for a
    unit the registry does not list. The targets come as two lists of the same length
    (``target_indicator``, a code chosen among ``indicator_choices``, and
    ``target_change``), blank rows ignored.
    """

    name = forms.CharField(label=_("项目名称"), max_length=200)
    budget = forms.FloatField(label=_("总投资（万元）"), min_value=0)
    start = forms.DateField(label=_("开工时间"))
    end = forms.DateField(label=_("完工时间"))
    departments = forms.ModelMultipleChoiceField(
        label=_("责任单位"),
        queryset=Department.objects.all(),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_unit = forms.CharField(
        label=_("其他责任单位"),
        max_length=200,
        required=False,
        help_text=_("不在部门名录中的单位，多个用“、”分隔。"),
    )
    targets = forms.Field(label=_("目标指标及预期变化"), required=False)

    def __init__(self, *args, indicator_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator_choices = indicator_choices

    @classmethod
    def for_project(cls, project: RenewalProject, data=None) -> CandidateForm:
        initial = {field: getattr(project, field) for field in ("name", "budget", "start", "end")}
        registered = set(Department.objects.values_list("code", flat=True))
        codes = {name: code for code, name in Department.objects.values_list("code", "name_zh")}
        items = [item.strip() for item in project.unit.split(UNIT_SEPARATOR) if item.strip()]
        chosen = [codes.get(item, item) for item in items]
        return cls(
            data,
            initial={
                **initial,
                "departments": [code for code in chosen if code in registered],
                "other_unit": UNIT_SEPARATOR.join(c for c in chosen if c not in registered),
                "targets": project.targets,
            },
            indicator_choices=services.target_indicator_choices(project),
        )

    def target_rows(self) -> list[tuple[str, str]]:
        """(indicator code, expected change) rows to show: as posted, or as stored."""
        if self.is_bound:
            return self.posted_targets()
        return [(t["indicator"], f"{t['expected_change']:g}") for t in self.initial["targets"]]

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
        names = dict(self.indicator_choices)
        targets, problems = [], []
        for code, change in self.posted_targets():
            if code and code not in names:
                problems.append(_("未知的指标代码：%(code)s") % {"code": code})
            elif not code or not change:
                problems.append(
                    _("指标与预期变化须成对填写：%(indicator)s")
                    % {"indicator": names.get(code) or change}
                )
            else:
                try:
                    targets.append({"indicator": code, "expected_change": float(change)})
                except ValueError:
                    problems.append(
                        _("预期变化应为数值：%(indicator)s 收到“%(value)s”")
                        % {"indicator": names[code], "value": change}
                    )
        if problems:
            raise forms.ValidationError(problems)
        return targets

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            self.add_error("end", _("完工时间早于开工时间"))
        return data

    def unit(self) -> str:
        """The responsible departments as stored: registered codes, then other units."""
        data = self.cleaned_data
        others = data["other_unit"].replace("，", UNIT_SEPARATOR).replace(",", UNIT_SEPARATOR)
        items = [d.code for d in data["departments"]] + others.split(UNIT_SEPARATOR)
        return UNIT_SEPARATOR.join(item.strip() for item in items if item.strip())
