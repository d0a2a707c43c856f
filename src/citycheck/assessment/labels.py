"""Names shown for the codes results are stored under: dimensions, indicators, peer
groups and warning lights, in the active language."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citycheck.core.language import localized
from citycheck.engine.standards import COMPARISON_SIGNS
from citycheck.indicators.models import Dimension, Indicator, IndicatorSystem
from citycheck.places.models import CityClass

# Peer groups that are not a city class (see ``compute._compute_level``).
ALL_PLACES = "all"
NO_CITY_CLASS = "—"

WARNING_LIGHTS = {
    "red": gettext_lazy("红灯"),
    "yellow": gettext_lazy("黄灯"),
    "green": gettext_lazy("绿灯"),
}


def dimension_names(system: IndicatorSystem) -> dict[str, str]:
    """Dimension code → name, over the system and the systems it extends."""
    rows = Dimension.objects.filter(system__in=system.lineage()).values_list(
        "code", "name_zh", "name_en"
    )
    return {code: localized(zh, en) for code, zh, en in rows}


def indicator_names(system: IndicatorSystem) -> dict[str, str]:
    """Indicator code → name, over the system and the systems it extends."""
    rows = Indicator.objects.filter(system__in=system.lineage()).values_list(
        "code", "name_zh", "name_en"
    )
    return {code: localized(zh, en) for code, zh, en in rows}


def city_class_name(code: str) -> str:
    """The city class label (Ⅰ型小城市 …); “—” for none, the code itself if unknown."""
    if not code or code == NO_CITY_CLASS:
        return NO_CITY_CLASS
    return str(CityClass(code).label) if code in CityClass.values else code


def peer_group_name(code: str) -> str:
    """What a result's ``peer_group`` means: a city class, places without a class, or all
    places of the level when the method compares everyone."""
    if code == ALL_PLACES:
        return _("全部地区")
    if code == NO_CITY_CLASS:
        return _("未定规模等级")
    return city_class_name(code)


def standard_label(stored: str) -> str:
    """A result's stored standard as officials write it: ``≥ 87.5``, ``≤ 50``, ``8–12``;
    releases computed before standards were stored that way hold ``>= 87.5``."""
    comparison, _space, value = (stored or "").partition(" ")
    if comparison in COMPARISON_SIGNS:
        return f"{COMPARISON_SIGNS[comparison]} {value}"
    return stored or "—"
