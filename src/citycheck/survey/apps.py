from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveyConfig(AppConfig):
    name = "citycheck.survey"
    verbose_name = _("满意度调查")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the "survey.weight" job)
