"""Base models: every change to a change-logged model leaves a ChangeRecord."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .context import current_actor, current_request_id
from .language import localized


class NamedInTwoLanguages:
    """For models with ``name_zh`` and ``name_en``: ``name`` follows the active language,
    falling back to Chinese where no English name is recorded."""

    @property
    def name(self) -> str:
        return localized(self.name_zh, self.name_en)

    def __str__(self):
        return self.name


class ChangeRecord(models.Model):
    """One audited change: who, when, what object, its state before and after, and why."""

    class Kind(models.TextChoices):
        CREATE = "create", _("创建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        EVENT = "event", _("操作")

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    request_id = models.UUIDField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    event = models.CharField(max_length=50, blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=200)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-time", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        verbose_name = _("变更记录")
        verbose_name_plural = _("变更记录")

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M} {self.kind} {self.object_repr}"


class ChangeLoggedModel(models.Model):
    """A model whose saves and deletes are written to :class:`ChangeRecord`.

    ``snapshot()`` keeps the state before a change; the post-save signal in
    ``core/signals.py`` records before and after with the current actor.
    """

    created = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def serialize(self) -> dict:
        """The fields as the audit trail stores them: relations by key, a many-to-many
        field as the sorted list of its keys."""
        data = model_to_dict(self, exclude=["created", "last_updated"])
        for field in self._meta.many_to_many:
            if field.name in data:
                data[field.name] = sorted(related.pk for related in data[field.name])
        return data

    def snapshot(self) -> None:
        self._prechange_snapshot = self.serialize() if self.pk else None


def record_change(obj, kind, *, before=None, after=None, event="", note="", acting_user=None):
    """Write one ChangeRecord for ``obj``; ``acting_user`` defaults to the current actor."""
    user = acting_user if acting_user is not None else current_actor()
    return ChangeRecord.objects.create(
        user=user if user is not None and user.pk else None,
        request_id=current_request_id(),
        kind=kind,
        event=event,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
        note=note,
    )


def record_event(obj, event: str, *, acting_user=None, note: str = "", data=None):
    """Record a workflow step (submit, approve, publish …) on ``obj``."""
    return record_change(
        obj, ChangeRecord.Kind.EVENT, after=data, event=event, note=note, acting_user=acting_user
    )


class Job(models.Model):
    """A long computation (an assessment run, a batch of reports) and its progress.

    Runs on a Celery worker when a broker is configured, otherwise on a ``citycheck
    worker`` process that claims it from this table (embedded mode, never inside the web
    process); either way the page polls ``progress``. While a job is
    queued or running, an identical request (same ``key``) joins it instead of starting
    another (:func:`citycheck.core.jobs.start_job`).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("运行中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(_("任务"), max_length=60)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    message = models.CharField(_("当前步骤"), max_length=200, blank=True)
    parameters = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # Digest of kind and parameters: what was asked, whoever asked it.
    key = models.CharField(max_length=64, blank=True, editable=False)
    # The language of the request that started the job: its messages are written in it.
    language = models.CharField(max_length=10, blank=True)
    result = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # Why a failed job failed, in words for the people who see it; empty when the failure
    # was unexpected (the page then gives a general sentence and the reference).
    error = models.TextField(blank=True)
    # Where an unexpected failure happened: for administrators, never shown on the pages.
    traceback = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Users whose identical request joined the job while it ran; they see it too.
    joined_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # The process running it ("host:pid:start time"), so a worker finds the jobs of one
    # that died; and how many times a worker took it up (an interrupted job reruns once).
    worker = models.CharField(max_length=120, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    last_report = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status__in=["queued", "running"]) & ~models.Q(key=""),
                name="one_active_job_per_request",
            )
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk} {self.status} {self.progress}%"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def reference(self) -> str:
        """What a user quotes to an administrator, who finds the job and its log lines by it."""
        return f"JOB-{self.pk}"

    @property
    def failure_message(self) -> str:
        """What went wrong and what to do, in the active language; empty unless failed."""
        if self.status != self.Status.FAILED:
            return ""
        if self.error:
            return gettext("任务未能完成。原因：%(reason)s。请按此处理后重新开始任务。") % {
                "reason": self.error.rstrip("。. ")
            }
        return gettext(
            "任务因系统内部错误未能完成。请稍后重新开始；如果再次失败，请联系系统管理员，"
            "并告知参考编号 %(reference)s。"
        ) % {"reference": self.reference}

    def visible_to(self, user) -> bool:
        """A job is seen by whoever started or joined it, and by superusers."""
        return (
            user.is_superuser
            or self.created_by_id == user.pk
            or self.joined_by.filter(pk=user.pk).exists()
        )

    def report(self, progress: float, message: str = "") -> None:
        """Record progress (0–100) from inside the running job."""
        self.progress = max(0, min(100, round(progress)))
        self.message = message[:200]
        self.last_report = timezone.now()
        type(self).objects.filter(pk=self.pk).update(
            progress=self.progress, message=self.message, last_report=self.last_report
        )


class DemoStage(models.Model):
    """A stage of ``citycheck demo`` that finished: the set-up resumes after the last one.

    Each stage runs in one transaction and records itself in the same transaction, so a
    set-up killed half-way leaves whole stages only (:mod:`citycheck.core.demo`).
    """

    name = models.CharField(max_length=60, unique=True)
    finished = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["finished"]

    def __str__(self):
        return self.name


class PeriodicRun(models.Model):
    """When a periodic task (:mod:`citycheck.core.schedule`) last started: the row is
    claimed by a conditional update, so two processes never both run one task's turn."""

    name = models.CharField(max_length=100, unique=True)
    last_run = models.DateTimeField()
    last_finished = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
