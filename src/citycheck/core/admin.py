from django.contrib import admin

from .models import ChangeRecord, Job


@admin.register(ChangeRecord)
class ChangeRecordAdmin(admin.ModelAdmin):
    """The audit trail is read-only, also for staff."""

    list_display = ["time", "user", "kind", "event", "content_type", "object_repr"]
    list_filter = ["kind", "content_type"]
    search_fields = ["object_repr", "object_id", "event", "note", "user__username"]
    date_hierarchy = "time"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "progress", "message", "created_by", "created"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in Job._meta.fields]
