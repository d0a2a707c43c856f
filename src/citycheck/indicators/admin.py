from django.contrib import admin

from .models import BaseFigure, Crosswalk, Dimension, Indicator, IndicatorSystem, Standard


class DimensionInline(admin.TabularInline):
    model = Dimension
    extra = 0


class StandardInline(admin.TabularInline):
    model = Standard
    extra = 0


@admin.register(IndicatorSystem)
class IndicatorSystemAdmin(admin.ModelAdmin):
    list_display = ["code", "version", "name_zh", "extends"]
    search_fields = ["code", "name_zh", "name_en"]
    inlines = [DimensionInline]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_zh",
        "system",
        "dimension",
        "unit",
        "direction",
        "type",
        "tier",
        "department",
    ]
    list_filter = ["system", "type", "tier", "direction", "department"]
    search_fields = ["code", "name_zh", "name_en", "definition"]
    list_select_related = ["system", "dimension", "department"]
    inlines = [StandardInline]


@admin.register(BaseFigure)
class BaseFigureAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "unit", "time_point", "spatial_scope"]
    search_fields = ["code", "name_zh", "name_en"]


@admin.register(Crosswalk)
class CrosswalkAdmin(admin.ModelAdmin):
    list_display = ["source", "target", "relation", "note"]
    list_filter = ["relation"]
    raw_id_fields = ["source", "target"]
