from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionConfig(AppConfig):
    name = "citycheck.collection"
    verbose_name = _("体检数据采集")
