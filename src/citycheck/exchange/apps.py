from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "citycheck.exchange"
    verbose_name = _("互联互通")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the "exchange.submit" and "exchange.send" jobs)
