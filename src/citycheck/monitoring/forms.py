from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import NotificationPreference

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
