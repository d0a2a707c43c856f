from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet
from citycheck.indicators.filtersets import (
    DimensionFilterSet,
    IndicatorFilterSet,
    IndicatorSystemFilterSet,
)
from citycheck.indicators.models import Dimension, Indicator, IndicatorSystem

from .serializers import DimensionSerializer, IndicatorSerializer, IndicatorSystemSerializer


class IndicatorSystemViewSet(RestrictedReadOnlyViewSet):
    queryset = IndicatorSystem.objects.all()
    serializer_class = IndicatorSystemSerializer
    filterset_class = IndicatorSystemFilterSet


class DimensionViewSet(RestrictedReadOnlyViewSet):
    queryset = Dimension.objects.all()
    serializer_class = DimensionSerializer
    filterset_class = DimensionFilterSet


class IndicatorViewSet(RestrictedReadOnlyViewSet):
    queryset = Indicator.objects.select_related("department").prefetch_related("standards")
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
