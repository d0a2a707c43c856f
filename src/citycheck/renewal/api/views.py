"""API of the treatment step: the project library (with a GeoJSON map layer), monthly
progress reports and the progress board."""

import datetime as dt
import json

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from citycheck.collection.models import Round, RoundKind
from citycheck.core import access
from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet

from .. import services
from ..filtersets import RenewalProjectFilterSet
from ..models import ProgressReport, RenewalProject
from .serializers import ProgressReportSerializer, RenewalProjectSerializer


class RenewalProjectViewSet(RestrictedReadOnlyViewSet):
    queryset = RenewalProject.objects.select_related("place").prefetch_related("problems")
    serializer_class = RenewalProjectSerializer
    filterset_class = RenewalProjectFilterSet

    @extend_schema(responses=dict)
    @action(detail=False, methods=["get"], pagination_class=None)
    def geojson(self, request):
        """Project locations as a GeoJSON FeatureCollection (for the map), filtered like
        the library; coordinates are stored as entered, in the datum of the boundaries."""
        type_names = services.project_type_names()
        features = [
            {
                "type": "Feature",
                "geometry": project.location,
                "properties": {
                    "id": project.pk,
                    "name": project.name,
                    "project_type": project.project_type,
                    "project_type_name": type_names.get(project.project_type, ""),
                    "status": project.status,
                    "status_name": project.get_status_display(),
                    "place": project.place.code,
                    "place_name": project.place.name_zh,
                    "budget": project.budget,
                    "url": reverse("renewal:project", args=[project.pk]),
                },
            }
            for project in self.filter_queryset(self.get_queryset())
            if project.location
        ]
        return Response({"type": "FeatureCollection", "features": features})

    @extend_schema(request=ProgressReportSerializer, responses=ProgressReportSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def report(self, request, pk=None):
        """Report one month's progress (月调度) of the project."""
        project = self.get_object()
        if (
            not RenewalProject.objects.restrict(request.user, "change")
            .filter(pk=project.pk)
            .exists()
        ):
            raise ValidationError({"detail": _("无权填报该项目的进展。")})
        form = ProgressReportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            report = services.report_progress(
                project, acting_user=request.user, **form.validated_data
            )
        except services.ProgressError as exc:
            raise ValidationError({exc.field: str(exc)}) from exc
        return Response(ProgressReportSerializer(report).data)


class ProgressReportViewSet(RestrictedReadOnlyViewSet):
    queryset = ProgressReport.objects.select_related("project")
    serializer_class = ProgressReportSerializer
    filterset_fields = ["project", "month"]


class ProgressBoardView(APIView):
    """Late and stalled projects and progress rolled up by city, project type and disease."""

    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", str, description="YYYY-MM"),
            OpenApiParameter("year", int),
        ],
        responses=dict,
    )
    def get(self, request):
        month = request.query_params.get("as_of")
        try:
            as_of = dt.date.fromisoformat(f"{month}-01") if month else dt.date.today()
        except ValueError as exc:
            raise ValidationError({"as_of": _("应为 YYYY-MM")}) from exc
        year = request.query_params.get("year") or None
        if year is not None:
            try:
                year = serializers.IntegerField(min_value=2000, max_value=2100).run_validation(year)
            except ValidationError as exc:
                raise ValidationError({"year": exc.detail}) from exc
        board = services.progress_board(as_of=as_of, user=request.user, year=year)

        def records(frame, key):
            # Through JSON so that NaN becomes null and dates ISO strings.
            return json.loads(
                frame.reset_index(names=key).to_json(orient="records", date_format="iso")
            )

        return Response(
            {
                "as_of": as_of.strftime("%Y-%m"),
                "projects": records(board.flags, "project"),
                "by_city": records(board.by_city, "city"),
                "by_project_type": records(board.by_project_type, "project_type"),
                "by_disease": records(board.by_disease, "disease"),
            }
        )


def _round(request) -> Round:
    try:
        return Round.objects.own_first(request.user).get(
            year=int(request.query_params["round"]), kind=RoundKind.ANNUAL
        )
    except (KeyError, ValueError, Round.DoesNotExist) as exc:
        raise ValidationError({"round": _("需要已有的年度体检轮次，如 ?round=2024")}) from exc


class EffectsView(APIView):
    """Effect of finished projects per project type and targeted indicator (DiD)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("round", int, required=True)], responses=dict)
    def get(self, request):
        round_ = _round(request)
        if not services.effects_rounds(request.user).filter(pk=round_.pk).exists():
            raise PermissionDenied(_("项目成效评估仅对全省范围的用户开放。"))
        effects = services.project_effects(round_)
        return Response(json.loads(effects.to_json(orient="records")))


class WhatIfView(APIView):
    """Projected next-year values and warnings of a place from its planned projects."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("round", int, required=True),
            OpenApiParameter("place", str, required=True),
        ],
        responses=dict,
    )
    def get(self, request):
        round_ = _round(request)
        try:
            place = access.get_place(request.user, request.query_params.get("place", ""))
        except DjangoPermissionDenied as exc:
            raise NotFound() from exc
        try:
            return Response(services.what_if_for_place(round_, place))
        except services.WhatIfUnavailable as exc:
            raise ValidationError({exc.field: str(exc)}) from exc
