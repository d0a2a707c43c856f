from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "citycheck.core"
    verbose_name = _("核心")

    def ready(self):
        from . import signals  # noqa: F401
