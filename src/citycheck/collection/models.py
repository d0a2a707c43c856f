"""Rounds of the health check and the values collected in them."""

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, When
from django.utils.translation import gettext_lazy as _

from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.models import ChangeLoggedModel
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.indicators.models import BaseFigure, Indicator, IndicatorSystem
from citycheck.places.models import Place


class RoundKind(models.TextChoices):
    ANNUAL = "annual", _("年度体检")
    FIVE_YEAR = "five_year", _("五年评估")


class RoundStatus(models.TextChoices):
    OPEN = "open", _("填报中")
    CLOSED = "closed", _("已截止")
    PUBLISHED = "published", _("已发布")


class Source(models.TextChoices):
    SELF_CHECK = "self_check", _("城市自体检")
    THIRD_PARTY = "third_party", _("第三方评估")
    SURVEY = "survey", _("满意度调查")
    SPATIAL = "spatial", _("空间分析")
    ADOPTED = "adopted", _("采信值")


class RoundQuerySet(models.QuerySet):
    def restrict(self, user, action: str = Action.VIEW):
        """Rounds with a place in the user's reach; published rounds are readable by anyone."""
        public = Q(status=RoundStatus.PUBLISHED) if action == Action.VIEW else None
        if not access.may(user, action):
            return self.filter(public) if public is not None else self.none()
        if user.is_superuser:
            return self
        scoped = self._taking_part(user)
        return self.filter(scoped if public is None else scoped | public)

    @staticmethod
    def _taking_part(user) -> Q:
        taking_part = Round.places.through.objects.filter(
            place_id__in=access.reach(user).values("pk")
        )
        return Q(pk__in=taking_part.values("round_id"))

    def own_first(self, user):
        """The rows ordered with the rounds taking part in the user's reach first (all
        alike for a superuser or a user without reach): where a year names a round, the
        user's own province's rather than another province's."""
        if not getattr(user, "is_authenticated", False) or user.is_superuser:
            return self
        own = Case(When(self._taking_part(user), then=0), default=1)
        return self.alias(own=own).order_by("own", *self.model._meta.ordering)

    def run_over(self, place):
        """Rounds run over ``place``: by its province, by the nation above it, or by no one
        in particular (an unscoped round); the lowest runner first."""
        codes = place.path.strip("/").split("/")
        return self.filter(Q(scope__isnull=True) | Q(scope__code__in=codes)).order_by(
            F("scope__path").desc(nulls_last=True), "-year", "-pk"
        )


class Round(ChangeLoggedModel):
    year = models.PositiveSmallIntegerField(_("年度"))
    kind = models.CharField(
        _("类型"), max_length=12, choices=RoundKind.choices, default=RoundKind.ANNUAL
    )
    system = models.ForeignKey(
        IndicatorSystem, on_delete=models.PROTECT, verbose_name=_("指标体系")
    )
    places = models.ManyToManyField(Place, related_name="rounds", verbose_name=_("参与地区"))
    # Who runs the round: the province of its places, or the nation for a national round
    # over several provinces (``Place.objects.governing``). Two provinces of a national
    # instance run the same year's round of a system side by side.
    scope = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scoped_rounds",
        verbose_name=_("组织地区"),
        help_text=_("开展本轮体检的省（或国家）。"),
    )
    deadline = models.DateField(_("截止日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    is_synthetic = models.BooleanField(
        _("演示数据"), default=False, help_text=_("由演示数据生成器产生的合成数据。")
    )

    objects = RoundQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["year", "kind", "system", "scope"], name="round_unique_per_scope"
            ),
            # A round without a scope (its places under no common province) is unique as before.
            models.UniqueConstraint(
                fields=["year", "kind", "system"],
                condition=Q(scope__isnull=True),
                name="round_unique_unscoped",
            ),
        ]
        ordering = ["-year", "kind"]
        verbose_name = _("体检轮次")
        verbose_name_plural = _("体检轮次")

    def __str__(self):
        return f"{self.year} {self.get_kind_display()}"


class ValueQuerySet(PlaceScopedQuerySet):
    department_lookup = "indicator__department"

    def published_q(self):
        return Q(round__status=RoundStatus.PUBLISHED, source=Source.ADOPTED)


class Value(ChangeLoggedModel):
    """One indicator value of one place in one round from one source.

    ``version`` increases with every save; a form or upload that read version n may only
    write if the row is still at n (optimistic concurrency).
    """

    # The batch path writes a million values in one statement, and PostgreSQL checks a
    # foreign key with one look-up per row at commit (40 % of that time), so these keys are
    # guarded by Django, not the database: every writer resolves places and indicators
    # against the round before storing, and Django still applies CASCADE and PROTECT.
    # No separate index on round: the unique (round, place, indicator, source) index leads
    # with it.
    round = models.ForeignKey(
        Round,
        on_delete=models.CASCADE,
        related_name="values",
        db_index=False,
        db_constraint=False,
    )
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="values", db_constraint=False
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="values", db_constraint=False
    )
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    value = models.FloatField(_("数值"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        db_constraint=False,  # Django applies SET_NULL itself; saves a check per batch row
    )

    objects = ValueQuerySet.as_manager()

    class Meta:
        unique_together = [("round", "place", "indicator", "source")]
        indexes = [models.Index(fields=["round", "source", "place"])]
        verbose_name = _("指标值")
        verbose_name_plural = _("指标值")

    def __str__(self):
        return f"{self.round.year} {self.place_id} {self.indicator.code} {self.source}={self.value}"


class BaseFigureValueQuerySet(PlaceScopedQuerySet):
    pass


class BaseFigureValue(ChangeLoggedModel):
    """The value of a base figure (底数) for a place and year, shared by all formulas."""

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="base_figures")
    figure = models.ForeignKey(BaseFigure, on_delete=models.PROTECT, related_name="values")
    year = models.PositiveSmallIntegerField(_("年度"))
    value = models.FloatField(_("数值"))
    source = models.CharField(_("来源"), max_length=200, blank=True)

    objects = BaseFigureValueQuerySet.as_manager()

    class Meta:
        unique_together = [("place", "figure", "year")]
        verbose_name = _("底数值")
        verbose_name_plural = _("底数值")

    def __str__(self):
        return f"{self.place_id} {self.figure.code} {self.year}={self.value}"


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回")
    CITY_APPROVED = "city_approved", _("市级已审核")
    ACCEPTED = "accepted", _("省级已采纳")


# Statuses in which the values of a submission may no longer be changed by its filler.
LOCKED_STATUSES = frozenset(
    {SubmissionStatus.SUBMITTED, SubmissionStatus.CITY_APPROVED, SubmissionStatus.ACCEPTED}
)


class AssignmentKind(models.TextChoices):
    DEPARTMENT = "department", _("指标责任单位")
    EVALUATOR = "evaluator", _("第三方评估地区")


class Assignment(ChangeLoggedModel):
    """Who owes what in a round: an indicator to a department, or a place to an evaluator.

    A department assignment overrides ``Indicator.department`` for this round; without
    one, the indicator's own responsible department applies.
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="assignments")
    kind = models.CharField(_("类型"), max_length=12, choices=AssignmentKind.choices)
    indicator = models.ForeignKey(
        Indicator, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("责任单位"),
    )
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evaluation_assignments",
        verbose_name=_("第三方评估机构"),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="assignment_department_or_evaluator",
                condition=(
                    Q(
                        kind=AssignmentKind.DEPARTMENT,
                        indicator__isnull=False,
                        department__isnull=False,
                        place__isnull=True,
                        evaluator__isnull=True,
                    )
                    | Q(
                        kind=AssignmentKind.EVALUATOR,
                        indicator__isnull=True,
                        department__isnull=True,
                        place__isnull=False,
                        evaluator__isnull=False,
                    )
                ),
            ),
            models.UniqueConstraint(
                fields=["round", "indicator"],
                condition=Q(kind=AssignmentKind.DEPARTMENT),
                name="one_department_per_round_indicator",
            ),
            models.UniqueConstraint(
                fields=["round", "place"],
                condition=Q(kind=AssignmentKind.EVALUATOR),
                name="one_evaluator_per_round_place",
            ),
        ]
        verbose_name = _("任务分派")
        verbose_name_plural = _("任务分派")

    def __str__(self):
        if self.kind == AssignmentKind.DEPARTMENT:
            return f"{self.round} {self.indicator.code} → {self.department}"
        return f"{self.round} {self.place.code} → {self.evaluator}"


class SubmissionQuerySet(PlaceScopedQuerySet):
    """A department filler sees every submission of its place: its part is judged by the
    place's whole data set too."""


class Submission(ChangeLoggedModel):
    """The data set one place owes in a round from one source, and where it stands.

    ``department`` blank: the place's whole data set; set: the part a department fills
    (the indicators it is responsible for). ``version`` guards concurrent workflow steps.
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="submissions")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="submissions")
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submissions",
        verbose_name=_("责任单位"),
    )
    status = models.CharField(
        _("状态"), max_length=15, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "place", "source", "department"],
                name="one_submission_per_department",
            ),
            models.UniqueConstraint(
                fields=["round", "place", "source"],
                condition=Q(department__isnull=True),
                name="one_whole_submission_per_place",
            ),
        ]
        indexes = [models.Index(fields=["round", "source", "status"])]
        verbose_name = _("填报任务")
        verbose_name_plural = _("填报任务")

    def __str__(self):
        department = f" {self.department.code}" if self.department_id else ""
        return f"{self.round} {self.place.code} {self.source}{department} {self.status}"

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED_STATUSES


class SubmissionChildQuerySet(PlaceScopedQuerySet):
    place_lookup = "submission__place"


class ValueComment(models.Model):
    """A comment on a submission, or on one indicator of it (indicator set)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="comments")
    indicator = models.ForeignKey(
        Indicator, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    text = models.TextField(_("意见"))
    event = models.CharField(_("环节"), max_length=30, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = SubmissionChildQuerySet.as_manager()

    class Meta:
        ordering = ["created", "pk"]
        verbose_name = _("填报意见")
        verbose_name_plural = _("填报意见")

    def __str__(self):
        return f"{self.submission_id} {self.text[:30]}"


class RevisionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    GRANTED = "granted", _("已同意")
    REFUSED = "refused", _("已驳回")


class RevisionRequest(models.Model):
    """A request to reopen approved data, with the reason kept."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="revisions")
    reason = models.TextField(_("修改理由"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=RevisionStatus.choices, default=RevisionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    objects = SubmissionChildQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("修改申请")
        verbose_name_plural = _("修改申请")

    def __str__(self):
        return f"{self.submission_id} {self.status}"


def evidence_path(instance, filename):
    return f"evidence/{instance.submission.round_id}/{instance.submission.place.code}/{filename}"


class Evidence(models.Model):
    """A file (pdf, image, spreadsheet, document) supporting a submission or one value."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="evidence")
    indicator = models.ForeignKey(
        Indicator, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(_("文件"), upload_to=evidence_path)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_kind = models.CharField(_("类型"), max_length=10)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = SubmissionChildQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")

    def __str__(self):
        return self.original_name


class ChangeChannel(models.TextChoices):
    FORM = "form", _("网页填报")
    EXCEL = "excel", _("Excel 上传")
    BATCH = "batch", _("批量接口")
    ADJUDICATION = "adjudication", _("省级裁定")
    ACCEPTANCE = "acceptance", _("省级采纳")
    EXCHANGE = "exchange", _("下级平台报送")
    SPATIAL = "spatial", _("空间分析")


class ValueChangeQuerySet(PlaceScopedQuerySet):
    place_lookup = "value__place"
    department_lookup = "value__indicator__department"


class ValueChange(models.Model):
    """The audit of one change to a value: who, when, old, new, through which channel, why.

    Written by every path that writes values (form, Excel, batch API, adjudication) in the
    same transaction, including the bulk paths that bypass model signals.
    """

    # No database-level foreign keys: Django cascades and nulls them itself, and the
    # batch path writes a million audit rows at a time (a constraint check per row
    # costs about two thirds of that insert on PostgreSQL).
    value = models.ForeignKey(
        Value, on_delete=models.CASCADE, related_name="changes", db_constraint=False
    )
    old_value = models.FloatField(_("原值"), null=True, blank=True)
    new_value = models.FloatField(_("新值"), null=True, blank=True)
    old_note = models.TextField(blank=True)
    new_note = models.TextField(blank=True)
    version = models.PositiveIntegerField(_("版本"))
    # Only value_id is indexed: history is read per value.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    time = models.DateTimeField(_("时间"))
    channel = models.CharField(_("途径"), max_length=12, choices=ChangeChannel.choices)
    reason = models.TextField(_("原因"), blank=True)

    objects = ValueChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-pk"]
        verbose_name = _("指标值变更")
        verbose_name_plural = _("指标值变更")

    def __str__(self):
        return f"{self.value_id} {self.old_value} → {self.new_value}"


class AdjudicationQuerySet(PlaceScopedQuerySet):
    pass


class Adjudication(models.Model):
    """The province's choice of the adopted value where self-check and third party differ."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="adjudications")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    self_check_value = models.FloatField(_("自体检值"), null=True, blank=True)
    third_party_value = models.FloatField(_("第三方值"), null=True, blank=True)
    chosen_source = models.CharField(_("采信来源"), max_length=12, choices=Source.choices)
    adopted_value = models.FloatField(_("采信值"))
    reason = models.TextField(_("理由"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(auto_now=True)

    objects = AdjudicationQuerySet.as_manager()

    class Meta:
        unique_together = [("round", "place", "indicator")]
        verbose_name = _("采信裁定")
        verbose_name_plural = _("采信裁定")

    def __str__(self):
        return f"{self.round} {self.place.code} {self.indicator.code} = {self.adopted_value}"


class ReminderKind(models.TextChoices):
    BEFORE_DEADLINE = "before", _("截止前提醒")
    OVERDUE = "overdue", _("逾期催报")


class ReminderQuerySet(PlaceScopedQuerySet):
    pass


class Reminder(models.Model):
    """An in-app reminder (and the e-mail sent with it); one per user, place, kind and day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="reminders")
    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类型"), max_length=10, choices=ReminderKind.choices)
    day = models.DateField(_("日期"))
    message = models.TextField(_("内容"))
    emailed = models.BooleanField(_("已发邮件"), default=False)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        unique_together = [("user", "round", "place", "kind", "day")]
        ordering = ["-day", "-pk"]
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")

    def __str__(self):
        return f"{self.day} {self.user} {self.kind} {self.place_id}"


class PendingUpload(models.Model):
    """A parsed upload waiting for its confirm step (the diff was shown, nothing stored yet)."""

    token = models.CharField(max_length=36, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("待确认上传")
        verbose_name_plural = _("待确认上传")

    def __str__(self):
        return self.token
