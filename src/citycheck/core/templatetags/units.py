"""``{{ indicator.unit|unit }}``: a unit as the page's language reads it.

Units are stored as officials write them (个/万人); an English page shows them in English
words (items/10,000 persons) through :func:`citycheck.engine.units.english_unit`.
"""

from django import template
from django.utils.translation import get_language

from citycheck.engine.units import english_unit

register = template.Library()


@register.filter
def unit(text: str) -> str:
    if not text:
        return ""
    return english_unit(text) if (get_language() or "").startswith("en") else text
