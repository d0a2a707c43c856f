"""Read-only API of the life-circle analysis: the analyses in the user's reach with their
parameters, digest and acceptance, and their area results.

Rows come through ``restrict(user, "view")`` like the pages: anonymous readers see the
accepted analyses of published rounds only; results follow their analysis.
"""

from django_filters import rest_framework as filters
from rest_framework import viewsets

from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet, RestrictedViewSetMixin
from citycheck.core.choices import Action

from ..models import Analysis, AreaResult
from .serializers import AnalysisDetailSerializer, AnalysisSerializer, AreaResultSerializer


class AnalysisFilterSet(filters.FilterSet):
    place = filters.CharFilter(field_name="dataset__place__code", help_text="Place code.")
    round = filters.NumberFilter(
        field_name="dataset__round", min_value=1, max_value=2**31 - 1, help_text="Round id."
    )
    accepted = filters.BooleanFilter(
        field_name="accepted", lookup_expr="isnull", exclude=True, help_text="Accepted or not."
    )

    class Meta:
        model = Analysis
        fields = ["place", "round", "accepted"]


class AnalysisViewSet(RestrictedReadOnlyViewSet):
    queryset = Analysis.objects.select_related("dataset__place", "dataset__round").order_by(
        "-created", "-pk"
    )
    filterset_class = AnalysisFilterSet

    def get_serializer_class(self):
        return AnalysisDetailSerializer if self.action == "retrieve" else AnalysisSerializer


class AreaResultFilterSet(filters.FilterSet):
    analysis = filters.NumberFilter(
        field_name="analysis", min_value=1, max_value=2**31 - 1, help_text="Analysis id."
    )
    level = filters.ChoiceFilter(choices=AreaResult.Level.choices)
    band = filters.NumberFilter(
        min_value=0,
        max_value=100_000,
        help_text="Metres; 0 for the type's service radius (parks by area).",
    )

    class Meta:
        model = AreaResult
        fields = ["analysis", "level", "facility_type", "band", "area", "county"]


class AreaResultViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Area results of the analyses in reach (filter by analysis, level, facility type,
    band, area or county)."""

    queryset = AreaResult.objects.order_by("analysis", "level", "area", "facility_type", "band")
    serializer_class = AreaResultSerializer
    filterset_class = AreaResultFilterSet

    def get_queryset(self):
        analyses = Analysis.objects.restrict(self.request.user, Action.VIEW)
        return self.queryset.filter(analysis__in=analyses.values("pk"))
