"""Problem lists (问题清单): one :class:`Problem` per place, round and urban disease.

Written by ``services.run_diagnosis`` from the engine's problem list; the city confirms
or dismisses each problem with a reason; the next round's re-check fills the
``recheck_*`` fields.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from citycheck.accounts.models import name_departments
from citycheck.collection.models import Round
from citycheck.core.models import ChangeLoggedModel
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.places.models import Place

from . import wording


class Severity(models.TextChoices):
    SEVERE = "severe", _("严重")
    MODERATE = "moderate", _("较重")
    MILD = "mild", _("一般")


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("已排除")


class RecheckStatus(models.TextChoices):
    RESOLVED = "resolved", _("已解决")
    IMPROVING = "improving", _("好转")
    UNCHANGED = "unchanged", _("未改善")
    WORSE = "worse", _("加重")


class ProblemQuerySet(PlaceScopedQuerySet):
    place_lookup = "place"


class Problem(ChangeLoggedModel):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="problems")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="problems")
    disease = models.SlugField(_("城市病"), max_length=60)
    disease_name = models.CharField(_("城市病名称"), max_length=100)
    dimension = models.SlugField(_("维度"), max_length=60)
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices)
    points = models.PositiveSmallIntegerField(_("得分"))
    signals = models.JSONField(_("信号"), default=list)
    evidence = models.JSONField(_("证据"), default=list)
    causes = models.JSONField(_("成因指标"), default=list)
    departments = models.JSONField(_("责任单位"), default=list)
    explanation = models.TextField(_("说明"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    status_reason = models.TextField(_("确认或排除理由"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="next_rounds",
        verbose_name=_("上一轮同类问题"),
    )
    first_year = models.PositiveSmallIntegerField(_("首次发现年度"))
    returned = models.BooleanField(_("解决后复发"), default=False)
    recheck_status = models.CharField(
        _("复查结论"), max_length=10, choices=RecheckStatus.choices, blank=True
    )
    recheck_year = models.PositiveSmallIntegerField(_("复查年度"), null=True, blank=True)
    recheck_evidence = models.JSONField(_("复查证据"), default=list)
    recheck_explanation = models.TextField(_("复查说明"), blank=True)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        unique_together = [("round", "place", "disease")]
        ordering = ["round", "-points", "place__code", "disease"]
        verbose_name = _("问题")
        verbose_name_plural = _("问题清单")

    def __str__(self):
        return f"{self.round.year} {self.place_id} {self.disease_name}"

    @property
    def title(self) -> str:
        """The disease's name in the page's language."""
        return wording.title(self)

    @property
    def description(self) -> str:
        """Evidence, causes and lead departments in the page's language; unlike the
        stored ``explanation`` it leaves the place, disease and severity to the page."""
        return wording.description(self, getattr(self, "department_lookup", None))

    @property
    def department_names(self) -> list[str]:
        """The lead departments by name in the page's language (stored as names or codes)."""
        return name_departments(self.departments, getattr(self, "department_lookup", None))

    @property
    def recheck_items(self) -> list[dict]:
        """The re-check evidence, each item with its ``sentence`` in the page's language."""
        return wording.recheck_evidence(self)

    def as_engine_row(self) -> dict:
        """The fields the engine's re-check and project proposal read."""
        return {
            "problem": self.pk,
            "place": self.place.code,
            "disease": self.disease,
            "disease_name": self.disease_name,
            "year": self.round.year,
            "points": self.points,
            "severity": self.severity,
            "signals": self.signals,
            "evidence": self.evidence,
            "status": self.status,
        }
