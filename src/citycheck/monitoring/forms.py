from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from citycheck.places.models import Place

from .models import Feed, MonitoringIndicator, NotificationPreference

EVIDENCE_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".zip")


class HandleForm(forms.Form):
    measures = forms.CharField(
        label=_("处置措施"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    evidence = forms.FileField(label=_("佐证材料"), required=False)

    def clean_evidence(self):
        upload = self.cleaned_data.get("evidence")
        if upload is None:
            return None
        if upload.size > settings.CITYCHECK_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("佐证材料过大（%(size)d 字节），上限为 %(limit)d 字节。")
                % {"size": upload.size, "limit": settings.CITYCHECK_MAX_UPLOAD_BYTES}
            )
        if not upload.name.lower().endswith(EVIDENCE_SUFFIXES):
            raise forms.ValidationError(
                _("佐证材料只接受以下格式：%(suffixes)s。")
                % {"suffixes": " ".join(EVIDENCE_SUFFIXES)}
            )
        return upload


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("销号意见"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["mail"]


class TokenForm(forms.Form):
    """Issue an ingest token: its name, the feed it writes and the place whose subtree it
    covers (among ``places``, the places the user may issue tokens for)."""

    name = forms.CharField(label=_("名称"), max_length=100)
    feed = forms.ModelChoiceField(
        label=_("数据来源"), queryset=Feed.objects.filter(active=True).order_by("code")
    )
    place = forms.ModelChoiceField(label=_("地区范围"), queryset=Place.objects.none())

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places.filter(active=True).order_by("path")


class ObservationForm(forms.Form):
    """One observation entered by hand; checked by ``services.ingest`` like the API's."""

    place = forms.ModelChoiceField(label=_("地区"), queryset=Place.objects.none())
    indicator = forms.ModelChoiceField(
        label=_("监测指标"), queryset=MonitoringIndicator.objects.order_by("code")
    )
    period = forms.CharField(
        label=_("期"),
        max_length=20,
        help_text=_("按指标频率填写：2025-03-14（日）、2025-03（月）、2025-Q1（季）。"),
    )
    value = forms.CharField(label=_("数值"), max_length=60)

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places.filter(active=True).order_by("path")
