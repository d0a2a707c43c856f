from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet
from citycheck.indicators import services
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

    @extend_schema(
        request=inline_serializer("SystemUpload", {"file": serializers.FileField()}),
        responses={
            201: IndicatorSystemSerializer,
            400: OpenApiResponse(
                description="The file's issues (file, line, field); nothing imported."
            ),
            403: OpenApiResponse(description="The system belongs to another level (named)."),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser],
        permission_classes=[permissions.IsAuthenticated],
    )
    def import_file(self, request):
        """Import a system file as the requesting user: a province's administrator in a
        national instance may add its own extension, not change the national system."""
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": "a system file (YAML) is required"})
        try:
            system = services.import_uploaded_system(upload, acting_user=request.user)
        except services.SystemFileError as error:
            raise ValidationError({"issues": [str(issue) for issue in error.issues]}) from error
        return Response(IndicatorSystemSerializer(system).data, status=status.HTTP_201_CREATED)


class DimensionViewSet(RestrictedReadOnlyViewSet):
    queryset = Dimension.objects.all()
    serializer_class = DimensionSerializer
    filterset_class = DimensionFilterSet


class IndicatorViewSet(RestrictedReadOnlyViewSet):
    queryset = Indicator.objects.select_related("department").prefetch_related("standards")
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
