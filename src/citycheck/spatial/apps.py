from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpatialConfig(AppConfig):
    name = "citycheck.spatial"
    verbose_name = _("空间分析")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the "spatial.analyse" job)
