from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "citycheck.assessment"
    verbose_name = _("评价")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the "assessment.run" job)
