"""Peers, the submission ledger (packages sent and the rows in them) and packages received.

The ledger's states are described in ``docs/exchange.md``: a package is ``prepared``,
then ``accepted`` / ``partially_accepted`` / ``rejected`` only on the receiver's signed
receipt; ``undelivered`` when the receiver could not be reached (retried, never counted as
submitted); ``refused`` when the receiver refused the package as a whole without a receipt.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.models import ChangeLoggedModel
from citycheck.indicators.models import Indicator
from citycheck.places.models import Place


class ManagersOnlyQuerySet(models.QuerySet):
    """Exchange records are the administration's: users who may manage see them all."""

    def restrict(self, user, action: str = Action.VIEW):
        return self if access.may(user, Action.MANAGE) else self.none()


class PeerRelation(models.TextChoices):
    UPPER = "upper", _("上级平台")
    LOWER = "lower", _("下级平台")


class Peer(ChangeLoggedModel):
    """Another citycheck instance (or the national platform) this one exchanges with."""

    code = models.SlugField(_("平台代码"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    relation = models.CharField(_("关系"), max_length=10, choices=PeerRelation.choices)
    url = models.URLField(_("地址"), blank=True, help_text=_("留空：只以文件交换。"))
    public_key = models.CharField(_("公钥"), max_length=64, help_text=_("Ed25519 公钥（base64）"))
    place = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("所辖地区"),
        help_text=_("下级平台可报送的地区（该地区及其下级）。"),
    )
    active = models.BooleanField(_("启用"), default=True)

    objects = ManagersOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["relation", "code"]
        verbose_name = _("对端平台")
        verbose_name_plural = _("对端平台")

    def __str__(self):
        return f"{self.name} ({self.code})"


class PackageKind(models.TextChoices):
    SUBMISSION = "submission", _("报送")
    CORRECTION = "correction", _("更正")
    SYSTEM = "system", _("指标体系")


class LedgerState(models.TextChoices):
    PREPARED = "prepared", _("已生成，未送达")
    UNDELIVERED = "undelivered", _("未送达（接收方无法连接）")
    REFUSED = "refused", _("被整体拒收")
    ACCEPTED = "accepted", _("已接收")
    PARTIALLY_ACCEPTED = "partially_accepted", _("部分接收")
    REJECTED = "rejected", _("全部退回")


RECEIPTED_STATES = frozenset(
    {LedgerState.ACCEPTED, LedgerState.PARTIALLY_ACCEPTED, LedgerState.REJECTED}
)


class OutgoingPackage(ChangeLoggedModel):
    """One entry of the submission ledger: a package for a peer, and what came of it."""

    package_id = models.CharField(_("数据包编号"), max_length=64, unique=True)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="sent")
    round = models.ForeignKey(
        "collection.Round", on_delete=models.PROTECT, related_name="+", verbose_name=_("轮次")
    )
    kind = models.CharField(
        _("类型"), max_length=12, choices=PackageKind.choices, default=PackageKind.SUBMISSION
    )
    mapping_code = models.CharField(_("代码映射"), max_length=100)
    mapping_version = models.CharField(_("映射版本"), max_length=30)
    digest = models.CharField(_("摘要（SHA-256）"), max_length=64)
    rows = models.PositiveIntegerField(_("行数"))
    package = models.TextField(_("数据包"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=LedgerState.choices, default=LedgerState.PREPARED
    )
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    last_attempt = models.DateTimeField(_("最近发送"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    receipt = models.JSONField(_("回执"), null=True, blank=True)
    receipt_at = models.DateTimeField(_("回执时间"), null=True, blank=True)
    accepted_rows = models.PositiveIntegerField(_("接收行数"), default=0)
    rejected_rows = models.PositiveIntegerField(_("退回行数"), default=0)
    upload_url = models.URLField(
        _("分段上传地址"), max_length=300, blank=True, help_text=_("续传时询问接收方已收多少。")
    )

    objects = ManagersOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("报送记录")
        verbose_name_plural = _("报送记录")

    def __str__(self):
        return f"{self.package_id} → {self.peer.code} {self.state}"

    @property
    def has_receipt(self) -> bool:
        return self.state in RECEIPTED_STATES


class RowState(models.TextChoices):
    PENDING = "pending", _("待回执")
    ACCEPTED = "accepted", _("已接收")
    REJECTED = "rejected", _("已退回")


class SentRow(models.Model):
    """One observation of a sent package (in our codes), and the receiver's verdict."""

    package = models.ForeignKey(OutgoingPackage, on_delete=models.CASCADE, related_name="lines")
    row = models.PositiveIntegerField(_("行号"))
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    their_code = models.CharField(_("对方指标代码"), max_length=100)
    value = models.FloatField(_("数值"), null=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=RowState.choices, default=RowState.PENDING
    )
    reasons = models.TextField(_("退回原因"), blank=True)

    class Meta:
        ordering = ["package", "row"]
        unique_together = [("package", "row")]
        verbose_name = _("报送行")
        verbose_name_plural = _("报送行")

    def __str__(self):
        return f"{self.package_id}#{self.row} {self.state}"


class ReceivedPackage(models.Model):
    """A package received from a lower peer (over HTTPS or from a file), and its receipt.

    The receipt is stored signed, so a repeated package id answers the same receipt.
    """

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="received")
    package_id = models.CharField(_("数据包编号"), max_length=64)
    digest = models.CharField(_("摘要（SHA-256）"), max_length=64)
    kind = models.CharField(_("类型"), max_length=12, choices=PackageKind.choices)
    round = models.ForeignKey(
        "collection.Round",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("轮次"),
    )
    manifest = models.JSONField(_("清单"))
    received_at = models.DateTimeField(_("接收时间"))
    channel = models.CharField(_("途径"), max_length=10, default="https")
    state = models.CharField(_("状态"), max_length=20, choices=LedgerState.choices)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    accepted_rows = models.PositiveIntegerField(_("接收行数"), default=0)
    rejected_rows = models.PositiveIntegerField(_("退回行数"), default=0)
    receipt = models.JSONField(_("回执"))
    parts = models.JSONField(
        _("附加部分"), default=list, help_text=_("每个附加部分：名称、行数、是否接收")
    )

    objects = ManagersOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        unique_together = [("peer", "package_id")]
        verbose_name = _("接收记录")
        verbose_name_plural = _("接收记录")

    def __str__(self):
        return f"{self.peer.code}/{self.package_id} {self.state}"


class ReceivedRecord(models.Model):
    """A row of an optional part received from a lower peer (its release results, problem
    list or project list for the round), kept as sent: ``part`` names the part, ``key``
    the row's key within it (``LEVEL:CODE`` for results, the sender's problem or project
    id), ``data`` the row's columns. Provenance is the package (and through it the peer
    and the round)."""

    package = models.ForeignKey(ReceivedPackage, on_delete=models.CASCADE, related_name="records")
    part = models.CharField(_("部分"), max_length=40)
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("地区")
    )
    key = models.CharField(_("键"), max_length=200)
    data = models.JSONField(_("内容"))

    class Meta:
        ordering = ["package", "part", "pk"]
        indexes = [models.Index(fields=["package", "part"])]
        verbose_name = _("接收的报送内容")
        verbose_name_plural = _("接收的报送内容")

    def __str__(self):
        return f"{self.package_id}/{self.part}/{self.key}"


class UploadSession(models.Model):
    """A resumable upload of a large package: the sender declares its length and SHA-256,
    sends chunks at offsets, then finishes it; the bytes wait in a file under
    ``var/exchange/uploads/``. Unauthenticated until finished (the package then proves its
    sender), so bounded in size and number and removed when stale."""

    token = models.CharField(max_length=32, unique=True)
    length = models.PositiveBigIntegerField(_("长度（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    gzipped = models.BooleanField(default=True)
    received = models.PositiveBigIntegerField(_("已接收（字节）"), default=0)
    created = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)
    receipt = models.JSONField(_("回执"), null=True, blank=True)

    class Meta:
        verbose_name = _("分段上传")
        verbose_name_plural = _("分段上传")

    def __str__(self):
        return f"{self.token} {self.received}/{self.length}"
