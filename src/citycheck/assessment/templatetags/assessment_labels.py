"""Template filters that show result codes by name (``{% load assessment_labels %}``)."""

from django import template
from django.utils.html import format_html

from citycheck.assessment.labels import WARNING_LIGHTS, peer_group_name, standard_label

register = template.Library()


@register.filter
def warning_light(colour):
    """A warning colour code as a coloured dot with its name (红灯 …); “—” for none.
    Styled by ``core/citycheck.css``."""
    name = WARNING_LIGHTS.get(colour)
    if name is None:
        return "—"
    return format_html('<span class="warning-dot {}">{}</span>', colour, name)


@register.filter
def peer_group(code):
    """A result's peer group by name (Ⅰ型小城市, 全部地区 …)."""
    return peer_group_name(code)


@register.filter
def standard(stored):
    """``{{ row.standard|standard }}``: ``≥ 87.5`` rather than the stored ``>= 87.5``."""
    return standard_label(stored)
