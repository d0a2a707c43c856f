import django_filters

from .models import Place, PlaceLevel


class PlaceFilterSet(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=PlaceLevel.choices)
    parent = django_filters.CharFilter(field_name="parent__code", label="parent code")

    class Meta:
        model = Place
        fields = ["level", "parent", "active"]
