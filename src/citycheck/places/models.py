"""Places: the province, its prefecture-level cities and county-level units; in a national
instance, the nation above several provinces.

Codes are GB/T 2260 division codes. The hierarchy is stored as a materialised path
(``/360000/360100/360102/``) so that "this place and everything under it", the basis
of every permission decision, is one indexed prefix query.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from citycheck.core.models import ChangeLoggedModel, NamedInTwoLanguages


class PlaceLevel(models.TextChoices):
    # Only a national instance has a nation place (100000 中华人民共和国) above its
    # provinces; a single-province instance has its province as the root.
    NATION = "nation", _("国家")
    PROVINCE = "province", _("省")
    CITY = "city", _("设区市")
    COUNTY = "county", _("县（市、区）")


class UnitType(models.TextChoices):
    NATION = "nation", _("国家")
    PROVINCE = "province", _("省")
    PREFECTURE_CITY = "prefecture_city", _("地级市")
    DISTRICT = "district", _("市辖区")
    COUNTY_CITY = "county_city", _("县级市")
    COUNTY = "county", _("县")


class CityClass(models.TextChoices):
    """城市规模等级, State Council 2014 (国发〔2014〕51号), by urban resident population."""

    SUPER_MEGA = "super_mega", _("超大城市")  # ≥ 10 million
    MEGA = "mega", _("特大城市")  # 5–10 million
    LARGE_I = "large_1", _("Ⅰ型大城市")  # 3–5 million
    LARGE_II = "large_2", _("Ⅱ型大城市")  # 1–3 million
    MEDIUM = "medium", _("中等城市")  # 0.5–1 million
    SMALL_I = "small_1", _("Ⅰ型小城市")  # 0.2–0.5 million
    SMALL_II = "small_2", _("Ⅱ型小城市")  # < 0.2 million


# The levels that run rounds (``Round.scope``).
GOVERNING_LEVELS = (PlaceLevel.NATION, PlaceLevel.PROVINCE)


def shared_codes(paths) -> list[str]:
    """The codes every one of the materialised ``paths`` starts with, top first."""
    split = [path.strip("/").split("/") for path in paths]
    shared = []
    for codes in zip(*split, strict=False):
        if len(set(codes)) > 1:
            break
        shared.append(codes[0])
    return shared


class PlaceQuerySet(models.QuerySet):
    def subtree_of(self, place):
        """``place`` and every place under it."""
        return self.filter(path__startswith=place.path)

    def governing(self, places):
        """The province (or, across provinces, the nation) that runs work over ``places``:
        the lowest of them whose subtree holds every place; None when there is none (places
        of two provinces in an instance without a nation)."""
        codes = shared_codes(place.path for place in places)
        return (
            self.filter(code__in=codes, level__in=GOVERNING_LEVELS).order_by("-path").first()
            if codes
            else None
        )

    def provinces(self):
        return self.filter(level=PlaceLevel.PROVINCE).order_by("code")

    def nation(self):
        """The nation place of a national instance, or None (a single-province instance)."""
        return self.filter(level=PlaceLevel.NATION).first()

    def restrict(self, user, action="view"):
        """Places in the user's reach; anonymous and public users see the hierarchy of
        places only through published results, so they get none here."""
        from citycheck.core import access

        q = access.place_filter(user, action, place_lookup="pk")
        return self.none() if q is None else self.filter(q)


class Place(NamedInTwoLanguages, ChangeLoggedModel):
    """A division; ``name`` follows the page's language (``name_en`` in English where the
    division file gives one)."""

    code = models.CharField(_("行政区划代码"), max_length=12, unique=True)
    name_zh = models.CharField(_("名称"), max_length=50)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    level = models.CharField(_("层级"), max_length=10, choices=PlaceLevel.choices)
    unit_type = models.CharField(_("类型"), max_length=20, choices=UnitType.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级"),
    )
    path = models.CharField(max_length=200, db_index=True, editable=False)
    active = models.BooleanField(_("现行"), default=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("地区")
        verbose_name_plural = _("地区")

    def __str__(self):
        return f"{self.name}（{self.code}）"

    def save(self, *args, **kwargs):
        self.path = f"{self.parent.path if self.parent else '/'}{self.code}/"
        super().save(*args, **kwargs)

    def ancestors(self):
        codes = [c for c in self.path.strip("/").split("/") if c != self.code]
        return Place.objects.filter(code__in=codes).order_by("path")

    def province(self):
        """The province this place belongs to (itself for a province; None for the nation)."""
        if self.level == PlaceLevel.PROVINCE:
            return self
        return self.ancestors().filter(level=PlaceLevel.PROVINCE).first()


# Place path → its province's path: fixed by the division codes in the path (a changed
# code gives a new path), so kept for the process instead of a query on every page.
_PROVINCE_PATHS: dict[str, str | None] = {}


def province_path(place: Place) -> str | None:
    """The path of ``place.province()`` (None for the nation), kept per process."""
    if place.path not in _PROVINCE_PATHS:
        province = place.province()
        _PROVINCE_PATHS[place.path] = province.path if province else None
    return _PROVINCE_PATHS[place.path]


def in_shown_province(queryset, user, code: str = "", place_lookup: str = "scope"):
    """Rows of ``queryset`` (releases, by their ``scope``) that a user's lists and
    dashboards show: those of the user's own province, or for a national user (or a user
    without a place, a superuser) of the province ``code`` names, all when none is named.
    In a single-province instance every row is under the one province: nothing changes."""
    place = getattr(user, "place", None)
    if place is not None and place.level != PlaceLevel.NATION:
        path = province_path(place)
    elif code:
        province = Place.objects.provinces().filter(code=code).first()
        path = province.path if province else None
    else:
        return queryset
    if path is None:
        return queryset
    return queryset.filter(**{f"{place_lookup}__path__startswith": path})


class PlaceYear(ChangeLoggedModel):
    """Per-year facts of a place that standards depend on: the city class."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("年度"))
    urban_population = models.FloatField(_("城区常住人口（万人）"), null=True, blank=True)
    city_class = models.CharField(_("城市规模等级"), max_length=20, choices=CityClass.choices)

    class Meta:
        unique_together = [("place", "year")]
        ordering = ["place__code", "year"]
        verbose_name = _("地区年度信息")
        verbose_name_plural = _("地区年度信息")

    def __str__(self):
        return f"{self.place.code} {self.year} {self.get_city_class_display()}"


class DivisionChange(ChangeLoggedModel):
    """A change of division code (a county becomes a district, a merger, a renaming);
    time series follow a place from its predecessor codes to its successor."""

    class Kind(models.TextChoices):
        RECODE = "recode", _("代码变更")
        COUNTY_TO_DISTRICT = "county_to_district", _("撤县设区")
        COUNTY_TO_CITY = "county_to_city", _("撤县设市")
        MERGE = "merge", _("合并")
        SPLIT = "split", _("拆分")
        RENAME = "rename", _("更名")

    predecessor_code = models.CharField(_("原代码"), max_length=12, db_index=True)
    predecessor_name = models.CharField(_("原名称"), max_length=50)
    successor = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="predecessors", verbose_name=_("现地区")
    )
    kind = models.CharField(_("变更类型"), max_length=30, choices=Kind.choices)
    effective_year = models.PositiveSmallIntegerField(_("生效年度"))
    source = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        ordering = ["effective_year", "predecessor_code"]
        unique_together = [("predecessor_code", "successor")]
        verbose_name = _("区划变更")
        verbose_name_plural = _("区划变更")

    def __str__(self):
        return f"{self.predecessor_code} → {self.successor.code} ({self.effective_year})"


class Boundary(ChangeLoggedModel):
    """A place's boundary as GeoJSON in WGS84/CGCS2000 longitude-latitude, or flagged GCJ-02."""

    class Datum(models.TextChoices):
        WGS84 = "EPSG:4326", _("WGS84")
        CGCS2000 = "EPSG:4490", _("CGCS2000")
        GCJ02 = "GCJ-02", _("GCJ-02（火星坐标，偏移约 300–600 米）")

    place = models.OneToOneField(Place, on_delete=models.CASCADE, related_name="boundary")
    geojson = models.JSONField(_("几何（GeoJSON）"))
    datum = models.CharField(_("坐标系"), max_length=12, choices=Datum.choices)
    area_km2 = models.FloatField(_("面积（平方千米）"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=200)

    class Meta:
        verbose_name = _("边界")
        verbose_name_plural = _("边界")

    def __str__(self):
        return f"{self.place.code} ({self.datum})"

    def serialize(self) -> dict:
        # The geometry is large; the audit trail keeps its source and datum, not the polygon.
        return {
            "place": self.place_id,
            "datum": self.datum,
            "source": self.source,
            "area_km2": self.area_km2,
        }
