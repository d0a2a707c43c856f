"""Geodata imported for a round and the life-circle analyses run on it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from citycheck.collection.models import Round, RoundStatus
from citycheck.core.models import ChangeLoggedModel
from citycheck.core.querysets import PlaceScopedQuerySet
from citycheck.places.models import Place


class DatasetQuerySet(PlaceScopedQuerySet):
    place_lookup = "place"


class Dataset(ChangeLoggedModel):
    """A walking network, facilities and homes of one city (or county) for a round.

    The parsed frames are kept in ``frames`` (a zip of Parquet tables: nodes, edges,
    facilities, homes) in longitude/latitude on ``datum``; ``files`` lists the input files
    with their SHA-256 digests, ``conversions`` what was converted (GCJ-02 to WGS84).
    """

    class Format(models.TextChoices):
        OSM = "osm", _("OpenStreetMap PBF")
        FILES = "files", _("GeoPackage / GeoJSON / Shapefile")
        SYNTHETIC = "synthetic", _("演示用合成数据")

    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="spatial_datasets", verbose_name=_("体检轮次")
    )
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="spatial_datasets", verbose_name=_("地区")
    )
    name = models.CharField(_("名称"), max_length=200)
    format = models.CharField(_("格式"), max_length=12, choices=Format.choices)
    datum = models.CharField(_("坐标系"), max_length=16)
    files = models.JSONField(_("输入文件"), default=list)
    conversions = models.JSONField(_("坐标转换"), default=list)
    skipped = models.JSONField(_("跳过的行"), default=list)
    counts = models.JSONField(_("数量"), default=dict)
    # Paths in the default storage (not FileFields: the audit trail stores plain values).
    frames = models.CharField(_("数据文件"), max_length=300, editable=False)
    digest = models.CharField(_("数据摘要"), max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = _("空间数据")
        verbose_name_plural = _("空间数据")

    def __str__(self):
        return f"{self.place} {self.name}"


class AnalysisQuerySet(PlaceScopedQuerySet):
    place_lookup = "dataset__place"

    def published_q(self):
        return Q(accepted__isnull=False, dataset__round__status=RoundStatus.PUBLISHED)


class Analysis(ChangeLoggedModel):
    """One run of the life-circle analysis on a dataset, with its provenance.

    ``digest`` covers the input frames, the parameters and the code version: a rerun
    with the same inputs has the same digest and gives the same values. ``homes`` holds
    each home's distance to the nearest facility of every type (Parquet), for the map.
    """

    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="analyses", verbose_name=_("空间数据")
    )
    parameters = models.JSONField(_("参数"), default=dict)
    code_version = models.CharField(_("程序版本"), max_length=80)
    digest = models.CharField(_("输入摘要"), max_length=64)
    summary = models.JSONField(_("概要"), default=dict)
    homes = models.CharField(_("住宅距离文件"), max_length=300, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted = models.DateTimeField(_("采用时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AnalysisQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = _("生活圈分析")
        verbose_name_plural = _("生活圈分析")

    def __str__(self):
        return f"#{self.pk} {self.dataset}"


class AreaResult(models.Model):
    """Share of residents of an area within a band (or the service radius) of a type."""

    class Level(models.TextChoices):
        CITY = "city", _("全市")
        COUNTY = "county", _("县（市、区）")
        STREET = "street", _("街道")
        COMMUNITY = "community", _("社区")

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="results")
    level = models.CharField(_("层级"), max_length=12, choices=Level.choices)
    area = models.CharField(_("地区"), max_length=200)
    county = models.CharField(_("县（市、区）代码"), max_length=12, blank=True)
    facility_type = models.CharField(_("设施类型"), max_length=40)
    band = models.FloatField(_("距离（米）"), help_text=_("0 表示按服务半径（公园按面积）"))
    population = models.FloatField(_("人口"))
    covered = models.FloatField(_("覆盖人口"))
    share = models.FloatField(_("覆盖率"), null=True)

    class Meta:
        indexes = [models.Index(fields=["analysis", "level", "facility_type"])]
        verbose_name = _("分区结果")
        verbose_name_plural = _("分区结果")

    def __str__(self):
        return f"{self.area} {self.facility_type} {self.band:g}"
