"""The monitoring API: batches of observations from machine clients (ingest tokens), and
the warnings a user may see."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet

from .. import services
from ..models import EarlyWarning
from .auth import HasIngestToken, IngestTokenAuthentication, IngestTokenThrottle
from .serializers import (
    EarlyWarningSerializer,
    MonitoringErrorSerializer,
    ObservationBatchDocSerializer,
    ObservationBatchResultSerializer,
    ObservationBatchSerializer,
)


class ObservationBatchView(APIView):
    """Post a batch of observations (all or nothing)."""

    authentication_classes = [IngestTokenAuthentication]
    permission_classes = [HasIngestToken]
    throttle_classes = [IngestTokenThrottle]

    @extend_schema(
        operation_id="monitoring_observation_batch",
        request=ObservationBatchDocSerializer,
        responses={
            201: OpenApiResponse(ObservationBatchResultSerializer, "Stored."),
            200: OpenApiResponse(
                ObservationBatchResultSerializer, "A retry of a stored batch: nothing written."
            ),
            400: OpenApiResponse(
                ObservationBatchResultSerializer,
                "Rows refused (each with its reason): nothing written.",
            ),
            401: OpenApiResponse(
                MonitoringErrorSerializer, "No token, or a revoked or unknown one."
            ),
            403: OpenApiResponse(
                MonitoringErrorSerializer,
                "A row outside the token's places or feed: nothing written.",
            ),
            409: OpenApiResponse(
                MonitoringErrorSerializer, "The batch id was used for other rows."
            ),
            429: OpenApiResponse(MonitoringErrorSerializer, "Over the token's rate limit."),
        },
    )
    def post(self, request):
        token = request.auth
        body = ObservationBatchSerializer(data=request.data)
        if not body.is_valid():
            return Response(
                {
                    "batch_id": str(request.data.get("batch_id", ""))[:100]
                    if isinstance(request.data, dict)
                    else "",
                    "accepted": 0,
                    "unchanged": 0,
                    "replayed": False,
                    "refused": [
                        {"row": 0, "field": name, "reason": " ".join(map(str, _flat(errors)))}
                        for name, errors in body.errors.items()
                    ],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            result = services.ingest(
                body.validated_data["rows"],
                feed=token.feed,
                scope=token.place,
                token=token,
                batch_id=body.validated_data["batch_id"],
                acting_user=token.created_by,
            )
        except services.ScopeError as denied:
            raise PermissionDenied(str(denied.args[0]) if denied.args else None) from None
        except services.MonitoringError as conflict:
            return Response({"detail": str(conflict)}, status=status.HTTP_409_CONFLICT)
        if result.refused:
            code = status.HTTP_400_BAD_REQUEST
        elif result.replayed:
            code = status.HTTP_200_OK
        else:
            code = status.HTTP_201_CREATED
        return Response(result.as_dict(), status=code)


def _flat(errors):
    if isinstance(errors, dict):
        for value in errors.values():
            yield from _flat(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from _flat(value)
    else:
        yield errors


@extend_schema_view(
    list=extend_schema(
        responses={
            200: EarlyWarningSerializer(many=True),
            400: MonitoringErrorSerializer,
            403: MonitoringErrorSerializer,
        }
    ),
    retrieve=extend_schema(
        responses={
            200: EarlyWarningSerializer,
            403: MonitoringErrorSerializer,
            404: MonitoringErrorSerializer,
        }
    ),
)
class WarningViewSet(RestrictedReadOnlyViewSet):
    """Warnings in the user's reach (a department filler: its department's); the public
    sees published ones only."""

    queryset = EarlyWarning.objects.select_related(
        "place", "rule", "indicator", "department", "escalated_to"
    ).order_by("-raised", "-pk")
    serializer_class = EarlyWarningSerializer
    filterset_fields = ["status", "level"]
