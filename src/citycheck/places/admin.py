from django.contrib import admin

from .models import Boundary, DivisionChange, Place, PlaceYear


class PlaceYearInline(admin.TabularInline):
    model = PlaceYear
    extra = 0


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "level", "unit_type", "parent", "active"]
    list_filter = ["level", "unit_type", "active"]
    search_fields = ["code", "name_zh", "name_en"]
    raw_id_fields = ["parent"]
    inlines = [PlaceYearInline]


@admin.register(DivisionChange)
class DivisionChangeAdmin(admin.ModelAdmin):
    list_display = ["predecessor_code", "predecessor_name", "successor", "kind", "effective_year"]
    list_filter = ["kind", "effective_year"]
    search_fields = ["predecessor_code", "predecessor_name", "successor__code"]
    raw_id_fields = ["successor"]


@admin.register(Boundary)
class BoundaryAdmin(admin.ModelAdmin):
    list_display = ["place", "datum", "area_km2", "source"]
    list_filter = ["datum"]
    search_fields = ["place__code", "place__name_zh"]
    raw_id_fields = ["place"]
    exclude = ["geojson"]  # megabytes of coordinates are not edited by hand
