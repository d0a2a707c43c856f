"""The resident satisfaction survey: questionnaires, a survey per round, city links,
anonymous responses with their quality flags, and the weighted scores.

No response holds a name, a phone number or an address: the respondent's browser is
known only by a salted hash (to keep one answer per device), free text is masked for
phone and ID-card numbers before it is stored (``services.mask_identifiers``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from citycheck.collection.models import Round, RoundStatus
from citycheck.core.language import localized
from citycheck.core.models import ChangeLoggedModel
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.places.models import Place


class Questionnaire(ChangeLoggedModel):
    """A questionnaire file as loaded (``data/survey/*.yaml``), versioned by year."""

    code = models.SlugField(_("代码"), max_length=60)
    version = models.PositiveSmallIntegerField(_("年度版本"))
    name_zh = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    spec = models.JSONField(_("题目"), default=dict)
    digest = models.CharField(max_length=64, blank=True)

    class Meta:
        unique_together = [("code", "version")]
        ordering = ["code", "-version"]
        verbose_name = _("调查问卷")
        verbose_name_plural = _("调查问卷")

    def __str__(self):
        return f"{localized(self.name_zh, self.name_en)}（{self.version}）"

    @property
    def items(self) -> list[dict]:
        return self.spec.get("items", [])

    def item(self, code: str) -> dict | None:
        return next((i for i in self.items if i["code"] == code), None)

    def role_item(self, role: str) -> dict | None:
        return next((i for i in self.items if i.get("role") == role), None)


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("准备中")
    OPEN = "open", _("调查中")
    CLOSED = "closed", _("已结束")


class Survey(ChangeLoggedModel):
    """The year's survey of one round: its questionnaire, sample design and state."""

    round = models.OneToOneField(Round, on_delete=models.CASCADE, related_name="survey")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT)
    status = models.CharField(
        _("状态"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    minimum_per_city = models.PositiveIntegerField(_("每市最低样本量"), default=400)
    rate_per_10000 = models.FloatField(_("每万常住人口样本量"), default=3.0)
    trim_cap = models.FloatField(_("权重截尾倍数（相对中位数）"), default=5.0)
    weighted_at = models.DateTimeField(_("加权时间"), null=True, blank=True)
    weighting = models.JSONField(_("加权摘要"), null=True, blank=True)

    class Meta:
        ordering = ["-round__year"]
        verbose_name = _("满意度调查")
        verbose_name_plural = _("满意度调查")

    def __str__(self):
        return _("%(year)s 年满意度调查") % {"year": self.round.year}

    @property
    def is_open(self) -> bool:
        return self.status == SurveyStatus.OPEN


class LinkQuerySet(PlaceScopedQuerySet):
    pass


class SurveyLink(ChangeLoggedModel):
    """A city's public link: the token in its URL and on its poster's QR code."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="links")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="survey_links")
    token = models.CharField(max_length=40, unique=True)
    active = models.BooleanField(_("有效"), default=True)

    objects = LinkQuerySet.as_manager()

    class Meta:
        unique_together = [("survey", "place")]
        verbose_name = _("调查链接")
        verbose_name_plural = _("调查链接")

    def __str__(self):
        return f"{self.survey} · {self.place}"


class Street(ChangeLoggedModel):
    """A street or township (街道/乡镇) of a county, for respondents to say where they
    live below the county. Scores still roll up by county; the street is kept on the
    response for the city's own use and the export. Loaded from a file
    (``services.load_streets``: code, name and county), since no official township list
    ships with the platform."""

    county = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="survey_streets")
    code = models.CharField(_("街道（乡镇）代码"), max_length=12, unique=True)
    name_zh = models.CharField(_("名称"), max_length=50)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    synthetic = models.BooleanField(_("合成数据"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("街道（乡镇）")
        verbose_name_plural = _("街道（乡镇）")

    def __str__(self):
        return localized(self.name_zh, self.name_en)


class Channel(models.TextChoices):
    WEB = "web", _("网页问卷")
    INTERVIEW = "interview", _("访问员录入")
    IMPORT = "import", _("文件导入")


class Flag(models.TextChoices):
    DEVICE = "device", _("同一设备重复作答")
    SPEEDER = "speeder", _("作答过快")
    STRAIGHT = "straight", _("所有评分题选同一项")
    DUPLICATE = "duplicate", _("与另一份答卷完全相同")


class ResponseQuerySet(PlaceScopedQuerySet):
    def counted(self):
        """Responses that enter the scores: no quality flag, or a flag the province
        overrode."""
        return self.filter(Q(flags=[]) | Q(override=True))


class Response(models.Model):
    """One respondent's answers. Never edited except for the province's override of its
    quality flags (audited with ``record_event``)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="survey_responses")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    answers = models.JSONField(_("答案"), default=dict)
    street = models.CharField(_("街道（乡镇）"), max_length=12, blank=True)
    sex = models.CharField(_("性别"), max_length=10)
    age_band = models.CharField(_("年龄段"), max_length=10)
    seconds = models.PositiveIntegerField(_("作答用时（秒）"), null=True, blank=True)
    device = models.CharField(max_length=64, blank=True, db_index=True)
    nonce = models.CharField(max_length=64, null=True, blank=True, unique=True)
    reference = models.CharField(_("外部编号"), max_length=64, blank=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    flags = models.JSONField(_("质量标记"), default=list)
    override = models.BooleanField(_("省级认定有效"), default=False)
    override_reason = models.CharField(_("认定理由"), max_length=300, blank=True)
    weight = models.FloatField(_("权重"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("答卷")
        verbose_name_plural = _("答卷")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "reference"],
                condition=~Q(reference=""),
                name="survey_response_unique_reference",
            )
        ]

    def __str__(self):
        return _("答卷 %(pk)s") % {"pk": self.pk}

    @property
    def counted(self) -> bool:
        return not self.flags or self.override


class Kind(models.TextChoices):
    ITEM = "item", _("题目")
    DIMENSION = "dimension", _("维度")
    OVERALL = "overall", _("综合")
    INDICATOR = "indicator", _("指标")


class ScoreQuerySet(PlaceScopedQuerySet):
    def published_q(self):
        return Q(survey__round__status=RoundStatus.PUBLISHED)


class Score(models.Model):
    """A weighted score 0–100 (or a share in %) of one place with its 95 % interval."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="scores")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="survey_scores")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    code = models.CharField(max_length=60)
    n = models.PositiveIntegerField()
    effective_n = models.FloatField()
    score = models.FloatField()
    se = models.FloatField(null=True)
    low = models.FloatField(null=True)
    high = models.FloatField(null=True)
    few_responses = models.BooleanField(default=False)
    wide_interval = models.BooleanField(default=False)

    objects = ScoreQuerySet.as_manager()

    class Meta:
        unique_together = [("survey", "place", "kind", "code")]
        ordering = ["place__code", "kind", "code"]

    def __str__(self):
        return f"{self.place_id} {self.kind}:{self.code} {self.score:.1f}"
