"""Filters of the project library, shared by the pages (table, map, Excel export) and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from citycheck.places.models import Place

from .models import ProjectStatus, RenewalProject


class RenewalProjectFilterSet(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("计划年度"))
    status = django_filters.ChoiceFilter(choices=ProjectStatus.choices, label=_("状态"))
    project_type = django_filters.CharFilter(label=_("项目类型"))
    place = django_filters.CharFilter(method="in_place", label=_("地区代码（含下辖地区）"))
    disease = django_filters.CharFilter(
        field_name="problems__disease", distinct=True, label=_("城市病")
    )

    class Meta:
        model = RenewalProject
        fields = ["year", "status", "project_type", "place", "disease"]

    def in_place(self, queryset, name, value):
        place = Place.objects.filter(code=value).first()
        if place is None:
            return queryset.none()
        return queryset.filter(place__in=Place.objects.subtree_of(place))
