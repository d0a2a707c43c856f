from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "citycheck.core"
    verbose_name = _("核心")

    def ready(self):
        from . import signals  # noqa: F401

        # Each app's jobs.py registers its background job functions.
        autodiscover_modules("jobs")
