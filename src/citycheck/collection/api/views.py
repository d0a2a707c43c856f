from citycheck.collection.filtersets import RoundFilterSet, ValueFilterSet
from citycheck.collection.models import Round, Value
from citycheck.core.api.viewsets import RestrictedModelViewSet, RestrictedReadOnlyViewSet

from .serializers import RoundSerializer, ValueSerializer


class RoundViewSet(RestrictedReadOnlyViewSet):
    queryset = Round.objects.prefetch_related("places")
    serializer_class = RoundSerializer
    filterset_class = RoundFilterSet


class ValueViewSet(RestrictedModelViewSet):
    queryset = Value.objects.select_related("place", "updated_by")
    serializer_class = ValueSerializer
    filterset_class = ValueFilterSet
