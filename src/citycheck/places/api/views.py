from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from citycheck.core import access
from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet
from citycheck.places.filtersets import PlaceFilterSet
from citycheck.places.models import Boundary, Place

from .serializers import PlaceSerializer


def boundary_feature(boundary: Boundary) -> dict:
    place = boundary.place
    return {
        "type": "Feature",
        "id": place.code,
        "properties": {
            "code": place.code,
            "name": place.name,
            "level": place.level,
            "datum": boundary.datum,
            "area_km2": boundary.area_km2,
        },
        "geometry": boundary.geojson,
    }


class PlaceViewSet(RestrictedReadOnlyViewSet):
    queryset = Place.objects.select_related("parent").prefetch_related("years")
    serializer_class = PlaceSerializer
    filterset_class = PlaceFilterSet
    lookup_field = "code"

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="GeoJSON FeatureCollection of the place and its children in reach. "
        "`datum` says the coordinate system; GCJ-02 is offset 300–600 m from WGS84.",
    )
    @action(detail=True, filter_backends=[], pagination_class=None)
    def boundaries(self, request, code=None):
        place = self.get_object()
        places = access.restrict(
            Place.objects.filter(pk=place.pk) | place.children.all(), request.user
        )
        boundaries = Boundary.objects.filter(place__in=places).select_related("place")
        features = [boundary_feature(b) for b in boundaries.order_by("place__path")]
        datums = sorted({f["properties"]["datum"] for f in features})
        return Response({"type": "FeatureCollection", "datums": datums, "features": features})
