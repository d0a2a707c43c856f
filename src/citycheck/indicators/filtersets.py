import django_filters

from .models import Dimension, Indicator, IndicatorSystem


class IndicatorSystemFilterSet(django_filters.FilterSet):
    class Meta:
        model = IndicatorSystem
        fields = ["code", "version"]


class DimensionFilterSet(django_filters.FilterSet):
    class Meta:
        model = Dimension
        fields = ["system", "code"]


class IndicatorFilterSet(django_filters.FilterSet):
    class Meta:
        model = Indicator
        fields = ["system", "dimension", "code", "tier", "type", "department"]
