"""Template tags of the treatment step's sub-navigation (``renewal/_nav.html``, also
included by the diagnosis pages)."""

from django import template

from .. import services

register = template.Library()


@register.simple_tag
def may_read_effects(user) -> bool:
    """Whether the 项目成效 page has a round ``user`` may read (see
    :func:`citycheck.renewal.services.effects_rounds`)."""
    return services.effects_rounds(user).exists()
