"""Read-only API of supervision: local plans, dispatch reports, assessment scores and
totals (a place's only once issued), cases (selected ones public). Every list is
restricted to the user's reach; writes go through the pages."""

from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet

from ..models import AppraisalScore, AppraisalTotal, Case, DispatchReport, LocalPlan
from .serializers import (
    AppraisalScoreSerializer,
    AppraisalTotalSerializer,
    CaseSerializer,
    DispatchReportSerializer,
    LocalPlanSerializer,
)


class LocalPlanViewSet(RestrictedReadOnlyViewSet):
    """Implementation plans with their quantified targets and tasks."""

    queryset = LocalPlan.objects.select_related("place").prefetch_related(
        "targets__indicator", "tasks"
    )
    serializer_class = LocalPlanSerializer


class DispatchReportViewSet(RestrictedReadOnlyViewSet):
    """Cities' monthly dispatch reports with the figures taken when submitted."""

    queryset = DispatchReport.objects.select_related("month", "place").order_by(
        "-month__month", "place__code"
    )
    serializer_class = DispatchReportSerializer


class AppraisalScoreViewSet(RestrictedReadOnlyViewSet):
    """Assessment points per place and criterion with their evidence."""

    queryset = AppraisalScore.objects.select_related("appraisal", "place").order_by(
        "appraisal", "place__code", "pk"
    )
    serializer_class = AppraisalScoreSerializer


class AppraisalTotalViewSet(RestrictedReadOnlyViewSet):
    """Assessment totals, ranks and outcomes (commend, summon)."""

    queryset = AppraisalTotal.objects.select_related("appraisal", "place")
    serializer_class = AppraisalTotalSerializer


class CaseViewSet(RestrictedReadOnlyViewSet):
    """Outstanding cases: selected ones for everybody, others to their places and the
    province."""

    queryset = Case.objects.select_related("place").prefetch_related("projects")
    serializer_class = CaseSerializer
