"""API of the diagnosis step: problem lists (with evidence and re-check) and their review."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet

from .. import services
from ..models import Problem
from .serializers import ProblemSerializer, ReviewSerializer


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
