"""API of the evaluation step: releases, their results, diff, publish, run, job status.

Reads go through ``access.restrict`` (core viewset base); publishing and running check
the PUBLISH action through the services.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from citycheck.collection.models import Round
from citycheck.core import access
from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet
from citycheck.core.choices import Action
from citycheck.core.models import Job

from .. import services
from ..compute import AssessmentError
from ..methods import MethodError, method_named
from ..models import Release, Result
from .serializers import (
    JobSerializer,
    ReleaseDetailSerializer,
    ReleaseSerializer,
    ResultSerializer,
    RunSerializer,
)


class ReleaseViewSet(RestrictedReadOnlyViewSet):
    queryset = Release.objects.select_related("round", "scope")
    filterset_fields = ["round", "status", "method_code"]

    def get_serializer_class(self):
        return ReleaseDetailSerializer if self.action == "retrieve" else ReleaseSerializer

    @property
    def permission_action(self):
        return Action.VIEW  # publish/diff/run check their own action below

    @extend_schema(request=None, responses=ReleaseSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def publish(self, request, pk=None):
        release = self.get_object()
        try:
            services.publish_release(release, acting_user=request.user)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except services.PublishError as exc:
            raise ValidationError({"problems": exc.problems}) from exc
        return Response(ReleaseSerializer(release).data)

    @extend_schema(parameters=[OpenApiParameter("other", int, required=True)], responses=dict)
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """What changed from this release to ``?other=``, and why."""
        release = self.get_object()
        other = get_object_or_404(self.get_queryset(), pk=request.query_params.get("other") or 0)
        diff = services.diff_releases(release, other)
        visible = set(
            Result.objects.restrict(request.user)
            .filter(release__in=[release, other])
            .values_list("place__code", flat=True)
        )
        return Response(
            {
                "a": release.pk,
                "b": other.pk,
                "same": diff.same,
                "method": [{"field": p, "before": b, "after": a} for p, b, a in diff.method],
                "inputs": diff.inputs,
                "results": [row for row in diff.results if row["place"] in visible],
            }
        )

    @extend_schema(request=RunSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def run(self, request):
        """Start the assessment of a round as a background job."""
        payload = RunSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rounds = access.restrict(Round.objects.all(), request.user, Action.PUBLISH)
        round_ = get_object_or_404(rounds, pk=payload.validated_data["round"])
        try:
            job = services.start_assessment(
                round_, method_named(payload.validated_data["method"]), acting_user=request.user
            )
        except (MethodError, AssessmentError) as exc:
            raise ValidationError({"method": str(exc)}) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ResultFilterSet(filters.FilterSet):
    place = filters.CharFilter(field_name="place__code")

    class Meta:
        model = Result
        fields = ["release", "level", "code", "place", "warning", "peer_group"]


class ResultViewSet(RestrictedReadOnlyViewSet):
    queryset = Result.objects.select_related("place").order_by(
        "release", "level", "code", "rank", "place__code"
    )
    serializer_class = ResultSerializer
    filterset_class = ResultFilterSet


class JobView(APIView):
    """Progress of a background job started by the user."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=JobSerializer)
    def get(self, request, pk: int):
        job = get_object_or_404(Job, pk=pk)
        if not job.visible_to(request.user):
            raise NotFound()  # as for a job that does not exist
        return Response(JobSerializer(job).data)
