from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Department, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "role",
        "place",
        "department",
        "is_staff",
        "is_active",
    ]
    list_filter = ["role", "is_staff", "is_active", "department"]
    search_fields = [
        "username",
        "first_name",
        "last_name",
        "email",
        "place__code",
        "place__name_zh",
    ]
    raw_id_fields = ["place"]
    filter_horizontal = ["assigned_places", "groups", "user_permissions"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("职责范围"), {"fields": ["role", "place", "department", "assigned_places"]}),
    )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en"]
    search_fields = ["code", "name_zh", "name_en"]
