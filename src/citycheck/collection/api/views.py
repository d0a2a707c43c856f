from django.db import transaction
from rest_framework import permissions

from citycheck.collection.filtersets import RoundFilterSet, ValueFilterSet
from citycheck.collection.models import Round, Value
from citycheck.core.api.viewsets import RestrictedModelViewSet, RestrictedReadOnlyViewSet

from .serializers import RoundSerializer, ValueSerializer


class RoundViewSet(RestrictedReadOnlyViewSet):
    queryset = Round.objects.prefetch_related("places")
    serializer_class = RoundSerializer
    filterset_class = RoundFilterSet


class ValueViewSet(RestrictedModelViewSet):
    queryset = Value.objects.select_related("updated_by")
    serializer_class = ValueSerializer
    filterset_class = ValueFilterSet

    def get_object(self):
        if self.request.method not in permissions.SAFE_METHODS:
            # Lock the row so that the version check and the save see the same version.
            self.queryset = self.queryset.select_for_update(of=("self",))
        return super().get_object()

    @transaction.atomic
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)
