"""API of the diagnosis step: problem lists (with evidence and re-check), their review, and
starting a diagnosis or a re-check as a background job (its progress at
``/api/assessment/jobs/<id>/``, as for every job)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from citycheck.assessment.api.serializers import JobSerializer
from citycheck.collection.models import Round
from citycheck.core import access
from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet

from .. import jobs, services
from ..models import Problem
from .serializers import ProblemSerializer, ReviewSerializer, RoundJobSerializer


class ProblemViewSet(RestrictedReadOnlyViewSet):
    queryset = Problem.objects.select_related("place", "round")
    serializer_class = ProblemSerializer
    filterset_fields = {
        "round__year": ["exact"],
        "place__code": ["exact"],
        "disease": ["exact"],
        "severity": ["exact"],
        "status": ["exact"],
        "recheck_status": ["exact"],
    }

    @extend_schema(request=ReviewSerializer, responses=ProblemSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def review(self, request, pk=None):
        """Confirm or dismiss the problem, with a reason."""
        problem = self.get_object()
        form = ReviewSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            services.review_problem(
                problem,
                status=form.validated_data["status"],
                reason=form.validated_data["reason"],
                acting_user=request.user,
            )
        except services.ReviewError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(ProblemSerializer(problem).data)

    @extend_schema(request=RoundJobSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def run(self, request):
        """Write the problem lists of a round as a background job (403 unless the user
        manages every place of the round)."""
        return self._start_job(request, jobs.start_diagnosis)

    @extend_schema(request=RoundJobSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def recheck(self, request):
        """Re-check the previous round's problems against a round as a background job."""
        return self._start_job(request, jobs.start_recheck)

    def _start_job(self, request, start):
        payload = RoundJobSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rounds = access.restrict(Round.objects.all(), request.user)
        round_ = get_object_or_404(rounds, pk=payload.validated_data["round"])
        try:
            job = start(round_, acting_user=request.user)
        except jobs.NothingToRecheckError as exc:
            raise ValidationError({"round": str(exc)}) from exc
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
