"""Edited report readings (解读): the one thing a report keeps besides its release.

A report is built from a published release; its short written readings (one per
dimension and one overall) are generated from the numbers, and province officials may
rewrite them while the release is still a draft. A :class:`ReportReading` keeps such an
edit, with its author and time, and is used whenever the report is rendered.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from citycheck.assessment.models import PUBLIC_STATUSES, Release
from citycheck.core.models import ChangeLoggedModel
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.places.models import Place


class ReportReadingQuerySet(PlaceScopedQuerySet):
    place_lookup = "place"

    def published_q(self):
        return models.Q(release__status__in=PUBLIC_STATUSES)


class ReportReading(ChangeLoggedModel):
    """The edited text of one reading of one place's report in one release."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="readings")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    section = models.CharField(
        _("段落"), max_length=80, help_text=_("overall 或 dimension:<维度代码>")
    )
    text = models.TextField(_("解读文字"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited = models.DateTimeField(_("修改时间"))

    objects = ReportReadingQuerySet.as_manager()

    class Meta:
        unique_together = [("release", "place", "section")]
        ordering = ["release", "place__code", "section"]
        verbose_name = _("报告解读")
        verbose_name_plural = _("报告解读")

    def __str__(self):
        return f"{self.release_id} {self.place_id} {self.section}"
