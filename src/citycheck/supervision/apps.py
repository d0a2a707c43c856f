from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "citycheck.supervision"
    verbose_name = _("督导考核")
