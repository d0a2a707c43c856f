"""The survey's read-only API, with the pages' permissions: surveys of the rounds a user
may view, progress against quota within the user's reach (signed-in users), weighted
scores with their intervals (the public: published rounds only), and responses in reach
without identifying data."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response as Reply

from citycheck.core.api.viewsets import RestrictedReadOnlyViewSet

from .. import services
from ..models import Kind, Response, Score
from .serializers import (
    ProgressCellSerializer,
    ResponseSerializer,
    ScoreSerializer,
    SurveyErrorSerializer,
    SurveySerializer,
)


class SurveyFilterSet(filters.FilterSet):
    year = filters.NumberFilter(field_name="round__year", min_value=2000, max_value=2100)
    round = filters.NumberFilter(field_name="round", min_value=1, max_value=2**31 - 1)


class SurveyViewSet(viewsets.ReadOnlyModelViewSet):
    """Surveys of the rounds the user may view (the public: published rounds)."""

    serializer_class = SurveySerializer
    filterset_class = SurveyFilterSet
    permission_classes = [permissions.AllowAny]

    def get_queryset(self):
        return services.visible_surveys(self.request.user).order_by("-round__year", "pk")

    @extend_schema(
        responses={200: ProgressCellSerializer(many=True), 403: SurveyErrorSerializer},
        filters=False,
    )
    @action(detail=True, permission_classes=[permissions.IsAuthenticated], pagination_class=None)
    def progress(self, request, pk=None):
        """Counted and flagged responses against quota per county and sex × age cell, for
        the counties in the user's reach."""
        board = services.progress_board(self.get_object(), request.user)
        columns = ["city", "county", "sex", "age_band", "quota", "responses", "flagged"]
        return Reply(ProgressCellSerializer(board[columns].to_dict("records"), many=True).data)


class ScoreFilterSet(filters.FilterSet):
    survey = filters.NumberFilter(field_name="survey", min_value=1, max_value=2**31 - 1)
    year = filters.NumberFilter(field_name="survey__round__year", min_value=2000, max_value=2100)
    place = filters.CharFilter(field_name="place__code", help_text="Place code.")
    kind = filters.ChoiceFilter(choices=Kind.choices)

    class Meta:
        model = Score
        fields = ["survey", "year", "place", "kind", "code"]


class ScoreViewSet(RestrictedReadOnlyViewSet):
    """Weighted scores with 95 % intervals in the user's reach, and every place's once its
    round is published (anonymous readers: published only)."""

    queryset = Score.objects.select_related("place", "survey__round").order_by(
        "survey", "place__code", "kind", "code"
    )
    serializer_class = ScoreSerializer
    filterset_class = ScoreFilterSet


class ResponseFilterSet(filters.FilterSet):
    survey = filters.NumberFilter(field_name="survey", min_value=1, max_value=2**31 - 1)
    county = filters.CharFilter(field_name="place__code", help_text="County code.")
    counted = filters.BooleanFilter(method="filter_counted", help_text="Enters the scores.")

    class Meta:
        model = Response
        fields = ["survey", "county", "street", "channel", "counted"]

    def filter_counted(self, queryset, name, value):
        counted = queryset.counted()
        return counted if value else queryset.exclude(pk__in=counted.values("pk"))


class ResponseViewSet(RestrictedReadOnlyViewSet):
    """Responses of the counties in the user's reach, without identifying data (never
    public)."""

    queryset = Response.objects.select_related("place").order_by("pk")
    serializer_class = ResponseSerializer
    filterset_class = ResponseFilterSet
    permission_classes = [permissions.IsAuthenticated]
