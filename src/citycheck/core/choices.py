"""Choices shared by several apps: roles and the actions a role may take on places' data."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # Only in a national instance: anchored at the nation place, reaching every province.
    NATIONAL_ADMIN = "national_admin", _("国家级管理员")
    PROVINCE_ADMIN = "province_admin", _("省级管理员")
    PROVINCE_REVIEWER = "province_reviewer", _("省级审核员")
    CITY_ADMIN = "city_admin", _("市级管理员")
    COUNTY_ADMIN = "county_admin", _("县级管理员")
    DEPARTMENT_FILLER = "department_filler", _("部门填报员")
    EVALUATOR = "evaluator", _("第三方评估机构")
    INTERVIEWER = "interviewer", _("访问员")
    PUBLIC = "public", _("公众")


class Action(models.TextChoices):
    VIEW = "view", _("查看")
    CHANGE = "change", _("填报修改")
    APPROVE = "approve", _("审核")
    PUBLISH = "publish", _("发布")
    MANAGE = "manage", _("管理")
    # Entering survey interviews and importing external survey tools' exports.
    INTERVIEW = "interview", _("录入访问答卷")


# What each role may do inside its reach. The reach itself (which places) is computed in
# citycheck.core.access; this table is the only other input to every permission decision.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.NATIONAL_ADMIN: frozenset(Action.values),
    Role.PROVINCE_ADMIN: frozenset(Action.values),
    Role.PROVINCE_REVIEWER: frozenset({Action.VIEW, Action.APPROVE}),
    Role.CITY_ADMIN: frozenset({Action.VIEW, Action.CHANGE, Action.APPROVE}),
    Role.COUNTY_ADMIN: frozenset({Action.VIEW, Action.CHANGE}),
    Role.DEPARTMENT_FILLER: frozenset({Action.VIEW, Action.CHANGE}),
    Role.EVALUATOR: frozenset({Action.VIEW, Action.CHANGE}),
    # A survey company's staff: survey interviews for its assigned places, nothing else.
    Role.INTERVIEWER: frozenset({Action.INTERVIEW}),
    Role.PUBLIC: frozenset(),
}
