"""Users, their role and their reach (a subtree of places, or assigned places)."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from citycheck.core.choices import Role
from citycheck.core.models import ChangeLoggedModel, NamedInTwoLanguages
from citycheck.places.models import Place, PlaceLevel


class Department(NamedInTwoLanguages, ChangeLoggedModel):
    """A responsible department (责任单位), e.g. 住房城乡建设, 自然资源, 统计."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name_zh = models.CharField(_("名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=120, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")


def department_names() -> dict[str, str]:
    """Each department's code and Chinese name → its name in the active language: stored
    text names departments either way (indicator files by code, proposals by name)."""
    names = {}
    for department in Department.objects.all():
        names[department.code] = names[department.name_zh] = department.name
    return names


def name_departments(items, names: dict[str, str] | None = None) -> list[str]:
    """Departments given by code or Chinese name, as their names; text naming no registered
    department (a project's own wording of its responsible unit) is kept as written.
    ``names`` (from :func:`department_names`) saves the query when naming many lists."""
    names = department_names() if names is None else names
    return [names.get(item.strip(), item.strip()) for item in items if item.strip()]


# Which level of place each role is anchored at; None means any level.
ROLE_PLACE_LEVEL = {
    Role.NATIONAL_ADMIN: PlaceLevel.NATION,
    Role.PROVINCE_ADMIN: PlaceLevel.PROVINCE,
    Role.PROVINCE_REVIEWER: PlaceLevel.PROVINCE,
    Role.CITY_ADMIN: PlaceLevel.CITY,
    Role.COUNTY_ADMIN: PlaceLevel.COUNTY,
    Role.DEPARTMENT_FILLER: None,
    Role.EVALUATOR: None,
    Role.INTERVIEWER: None,
    Role.PUBLIC: None,
}


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices, default=Role.PUBLIC)
    place = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("所属地区"),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("所属部门"),
    )
    assigned_places = models.ManyToManyField(
        Place, blank=True, related_name="evaluators", verbose_name=_("受托评估地区")
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def clean(self):
        level = ROLE_PLACE_LEVEL.get(self.role)
        if level and (self.place is None or self.place.level != level):
            raise ValidationError(
                {
                    "place": _("该角色须属于一个%(level)s级地区。")
                    % {"level": PlaceLevel(level).label}
                }
            )
        if self.role == Role.DEPARTMENT_FILLER and (self.department is None or self.place is None):
            raise ValidationError(_("部门填报员须指定所属地区和部门。"))
