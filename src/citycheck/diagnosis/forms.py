"""Forms of the diagnosis pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from citycheck.collection.models import Round


class RoundJobForm(forms.Form):
    """The round a diagnosis or re-check job runs on, chosen among ``rounds`` (latest first,
    preselected)."""

    round = forms.ModelChoiceField(queryset=Round.objects.none(), label=_("轮次"), empty_label=None)

    def __init__(self, *args, rounds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["round"].queryset = rounds
