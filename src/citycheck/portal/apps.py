from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _publication_changed(sender, **kwargs):
    """A release saved or deleted (published, superseded): the cached public pages show
    publications, so they are forgotten once the change is committed."""
    from citycheck.core.public_pages import invalidate

    transaction.on_commit(invalidate)


class PortalConfig(AppConfig):
    name = "citycheck.portal"
    verbose_name = _("公众门户")

    def ready(self):
        from citycheck.assessment.models import Release

        post_save.connect(_publication_changed, sender=Release, dispatch_uid="portal-release")
        post_delete.connect(_publication_changed, sender=Release, dispatch_uid="portal-release-del")
