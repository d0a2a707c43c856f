from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "citycheck.reports"
    verbose_name = _("报告与发布")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the "reports.render_all" job)
