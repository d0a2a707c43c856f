from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import ChangeLoggedModel, ChangeRecord, record_change


@receiver(pre_save)
def _snapshot_before_save(sender, instance, raw, **kwargs):
    if (
        raw
        or not isinstance(instance, ChangeLoggedModel)
        or hasattr(instance, "_prechange_snapshot")
    ):
        return
    if instance.pk:
        previous = sender._base_manager.filter(pk=instance.pk).first()
        instance._prechange_snapshot = previous.serialize() if previous else None
    else:
        instance._prechange_snapshot = None


@receiver(post_save)
def _log_save(sender, instance, created, raw, **kwargs):
    if raw or not isinstance(instance, ChangeLoggedModel):
        return
    before = getattr(instance, "_prechange_snapshot", None)
    after = instance.serialize()
    del instance._prechange_snapshot
    if not created and before == after:
        return
    kind = ChangeRecord.Kind.CREATE if created else ChangeRecord.Kind.UPDATE
    record_change(instance, kind, before=before, after=after)


@receiver(post_delete)
def _log_delete(sender, instance, **kwargs):
    if isinstance(instance, ChangeLoggedModel):
        record_change(instance, ChangeRecord.Kind.DELETE, before=instance.serialize())
