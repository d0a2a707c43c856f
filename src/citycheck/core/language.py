"""What follows the interface language beyond gettext: names kept in both languages, and
units as officials write them (个/万人) read in English words on an English page."""

from django.utils.translation import get_language

from citycheck.engine.units import english_unit


def is_english() -> bool:
    return (get_language() or "").startswith("en")


def localized(name_zh: str, name_en: str = "") -> str:
    """``name_en`` when the page is in English and there is one, else ``name_zh``."""
    return name_en if name_en and is_english() else name_zh


def unit_label(text: str) -> str:
    """A unit in the page's language: ``个/万人``, or ``items/10,000 persons`` in English."""
    if not text:
        return ""
    return english_unit(text) if is_english() else text
