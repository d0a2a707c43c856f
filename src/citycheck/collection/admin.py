from django.contrib import admin

from .models import BaseFigureValue, Round, Value


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ["year", "kind", "system", "status", "deadline", "is_synthetic"]
    list_filter = ["status", "kind", "is_synthetic"]
    filter_horizontal = ["places"]


@admin.register(Value)
class ValueAdmin(admin.ModelAdmin):
    list_display = ["round", "place", "indicator", "source", "value", "version", "updated_by"]
    list_filter = ["source", "round"]
    search_fields = ["place__code", "place__name_zh", "indicator__code"]
    list_select_related = ["round", "place", "indicator", "updated_by"]
    raw_id_fields = ["place", "indicator", "updated_by"]
    readonly_fields = ["version"]


@admin.register(BaseFigureValue)
class BaseFigureValueAdmin(admin.ModelAdmin):
    list_display = ["place", "figure", "year", "value", "source"]
    list_filter = ["year", "figure"]
    search_fields = ["place__code", "place__name_zh", "figure__code"]
    raw_id_fields = ["place"]
