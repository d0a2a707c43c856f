"""Forms of the check-step pages. They parse and check input; the services decide
permission and write."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from citycheck.accounts.models import Department, User
from citycheck.core import access
from citycheck.core.choices import Action, Role
from citycheck.core.numbers import NumberError, parse_number
from citycheck.indicators.models import IndicatorSystem
from citycheck.places.models import GOVERNING_LEVELS, Place

from .models import Round, RoundKind, Source


class RoundOpenForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label=_("类型"), choices=RoundKind.choices)
    system = forms.ModelChoiceField(label=_("指标体系"), queryset=IndicatorSystem.objects.all())
    places = forms.ModelMultipleChoiceField(
        label=_("参与地区"),
        queryset=Place.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text=_("按住 Ctrl 多选；留空则为本省全部市、县。"),
        required=False,
    )
    deadline = forms.DateField(
        label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}), required=True
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["places"].queryset = access.restrict(
            Place.objects.exclude(level__in=GOVERNING_LEVELS).order_by("path"), user, Action.MANAGE
        )

    def clean_places(self):
        return list(self.cleaned_data["places"] or self.fields["places"].queryset)

    def clean(self):
        data = super().clean()
        key = {name: data.get(name) for name in ("year", "kind", "system")}
        # Unique per province (or nation) running it: another province's round is no clash.
        scope = Place.objects.governing(data.get("places") or [])
        if all(key.values()) and Round.objects.filter(**key, scope=scope).exists():
            self.add_error("year", _("该年度、类型和指标体系的轮次已存在。"))
        return data


class DepartmentAssignmentForm(forms.Form):
    indicator = forms.ModelChoiceField(label=_("指标"), queryset=None)
    department = forms.ModelChoiceField(label=_("责任单位"), queryset=Department.objects.all())

    def __init__(self, *args, round_, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = round_.system.all_indicators()


class EvaluatorAssignmentForm(forms.Form):
    place = forms.ModelChoiceField(label=_("地区"), queryset=None)
    evaluator = forms.ModelChoiceField(
        label=_("第三方评估机构"),
        queryset=User.objects.filter(role=Role.EVALUATOR, is_active=True),
    )

    def __init__(self, *args, round_, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = round_.places.order_by("path")


class CommentForm(forms.Form):
    text = forms.CharField(label=_("意见"), widget=forms.Textarea(attrs={"rows": 2}))


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("佐证材料"), help_text=_("PDF、JPG、PNG、XLSX、DOCX"))


class UploadForm(forms.Form):
    file = forms.FileField(label=_("填好的 Excel 模板（.xlsx）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.CITYCHECK_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("文件大小 %(size)d 字节超过上限 %(limit)d 字节。")
                % {"size": upload.size, "limit": settings.CITYCHECK_MAX_UPLOAD_BYTES}
            )
        return upload


class AdjudicationForm(forms.Form):
    place = forms.CharField(label=_("地区代码"))
    indicator = forms.CharField(label=_("指标代码"))
    chosen_source = forms.ChoiceField(
        label=_("采信来源"),
        choices=[
            (Source.SELF_CHECK, Source.SELF_CHECK.label),
            (Source.THIRD_PARTY, Source.THIRD_PARTY.label),
            (Source.ADOPTED, _("核定值")),
        ],
    )
    value = forms.FloatField(label=_("核定值"), required=False)
    reason = forms.CharField(label=_("理由"))


@dataclass
class EnteredRow:
    """One indicator row of the data-entry form as posted: what the user typed, and the
    value, note and version the page showed (to tell the user's own changes apart)."""

    indicator_id: int
    text: str
    note: str
    version: int
    seen_text: str
    seen_note: str
    value: float | None = None
    error: str = ""

    @property
    def changed(self) -> bool:
        return self.text != self.seen_text or self.note != self.seen_note


def parse_entry_rows(data, indicators) -> list[EnteredRow]:
    """The rows of a posted data-entry form, one per indicator owed; a cell that is not a
    number (as :func:`~citycheck.core.numbers.parse_number` reads numbers, like the API)
    gets an ``error`` naming the indicator and why."""
    rows = []
    for indicator in indicators:
        key = str(indicator.pk)
        try:
            version = int(data.get(f"version-{key}", "0") or 0)
        except ValueError:
            version = -1  # never stored: the save is refused as stale
        row = EnteredRow(
            indicator_id=indicator.pk,
            text=data.get(f"value-{key}", "").strip(),
            note=data.get(f"note-{key}", "").strip(),
            version=version,
            seen_text=data.get(f"seen-{key}", "").strip(),
            seen_note=data.get(f"seen-note-{key}", "").strip(),
        )
        if row.text:
            try:
                row.value = parse_number(row.text)
            except NumberError as bad:
                row.error = _("指标 %(code)s（%(name)s）的数值“%(text)s”：%(reason)s") % {
                    "code": indicator.code,
                    "name": indicator.name_zh,
                    "text": row.text,
                    "reason": bad,
                }
        rows.append(row)
    return rows
