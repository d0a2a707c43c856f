"""``{{ indicator.unit|unit }}``: a unit as the page's language reads it
(:func:`citycheck.core.language.unit_label`)."""

from django import template

from citycheck.core.language import unit_label

register = template.Library()
register.filter("unit", unit_label)
