"""Forms of the publication pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import services


class BulletinForm(forms.Form):
    """Which quarterly bulletin to download: the published release whose projects it
    follows (they are built in the year after the round), the quarter and the format."""

    release = forms.ModelChoiceField(queryset=None, label=_("评价结果版本"))
    quarter = forms.TypedChoiceField(label=_("季度"), coerce=int)
    format = forms.ChoiceField(
        label=_("格式"), choices=[(f, f.upper()) for f in services.FORMATS], initial="pdf"
    )

    def __init__(self, *args, releases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["release"].queryset = releases.order_by("-round__year", "-pk")
        self.fields["quarter"].choices = [
            (q, gettext("第%(quarter)d季度") % {"quarter": q}) for q in services.QUARTERS
        ]
        self.fields["release"].label_from_instance = lambda release: (
            gettext("%(year)d 年度评价结果 #%(pk)d（%(next)d 年项目进展）")
            % {"year": release.round.year, "pk": release.pk, "next": release.round.year + 1}
        )
