"""API of the check step: rounds (with the batch path, completeness, discrepancies and
adjudication), submissions (with the workflow steps) and values.

Rows reach a caller only through ``access.restrict`` (the core viewset base, with the
view action for the steps); every write goes through the check-step services, which
decide the permission of the step and leave the audit. Refusals: 403 for permission,
409 for a state that does not allow the step (locked, closed, stale, wrong status,
validation errors), 400 for malformed input naming the field.
"""

from __future__ import annotations

import pandas as pd
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from citycheck.accounts.models import Department
from citycheck.collection import batch, services, workflow
from citycheck.collection.completeness import completeness_board
from citycheck.collection.filtersets import RoundFilterSet, SubmissionFilterSet, ValueFilterSet
from citycheck.collection.models import RevisionRequest, Round, Source, Submission, Value
from citycheck.core import access
from citycheck.core.api.viewsets import (
    Conflict,
    RestrictedModelViewSet,
    RestrictedReadOnlyViewSet,
)
from citycheck.core.choices import Action

from .serializers import (
    AdjudicateSerializer,
    AdjudicationSerializer,
    BatchResultSerializer,
    BatchSerializer,
    CompletenessSerializer,
    DiscrepancySerializer,
    RevisionDecisionSerializer,
    RevisionRequestSerializer,
    RoundSerializer,
    StepSerializer,
    SubmissionSerializer,
    ValueSerializer,
)


def frame_records(frame: pd.DataFrame) -> list[dict]:
    """Rows of a frame as dicts with None for missing values."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def refused(exc: Exception):
    """The API error for a refusal raised by the check-step services."""
    if isinstance(exc, DjangoPermissionDenied):
        return PermissionDenied(str(exc) or None)
    if isinstance(exc, batch.BatchError):
        return ValidationError({"errors": exc.errors})
    return Conflict(exc.message)


class RoundViewSet(RestrictedReadOnlyViewSet):
    queryset = Round.objects.prefetch_related("places")
    serializer_class = RoundSerializer
    filterset_class = RoundFilterSet

    @property
    def permission_action(self):
        return Action.VIEW  # the actions below let the services decide what they allow

    @extend_schema(request=BatchSerializer, responses=BatchResultSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def batch(self, request, pk=None):
        """Store a batch of values, all or nothing (COPY on PostgreSQL for large batches).

        Errors name the record field (``records[12].value``) and store nothing."""
        round_ = self.get_object()
        payload = BatchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            result = batch.submit_batch(
                round_,
                data["records"],
                source=data["source"],
                acting_user=request.user,
                reason=data["reason"],
            )
        except (services.CheckStepError, DjangoPermissionDenied) as exc:
            raise refused(exc) from exc
        return Response(BatchResultSerializer(result).data)

    @extend_schema(
        parameters=[OpenApiParameter("source", str, enum=list(services.ENTERED_SOURCES))],
        responses=CompletenessSerializer,
    )
    @action(detail=True, methods=["get"], permission_classes=[permissions.IsAuthenticated])
    def completeness(self, request, pk=None):
        """Submitted / returned / approved / overdue per place, rolled up to every ancestor,
        and values filled per department and dimension (the user's reach only)."""
        round_ = self.get_object()
        source = request.query_params.get("source", Source.SELF_CHECK)
        if source not in services.ENTERED_SOURCES:
            raise ValidationError({"source": f"must be one of {list(services.ENTERED_SOURCES)}"})
        board = completeness_board(round_, acting_user=request.user, source=source)
        codes = dict(Department.objects.values_list("pk", "code"))
        departments = board.departments.assign(
            department=board.departments["department_id"].map(codes)
        )
        body = {
            "places": frame_records(board.places),
            "rollup": frame_records(board.rollup),
            "departments": frame_records(departments),
            "dimensions": frame_records(board.dimensions),
        }
        return Response(CompletenessSerializer(body).data)

    @extend_schema(
        parameters=[OpenApiParameter("exceeds", bool, description="Only beyond tolerance.")],
        responses=DiscrepancySerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[permissions.IsAuthenticated],
        pagination_class=None,  # every row at once, as the schema says
    )
    def discrepancies(self, request, pk=None):
        """Self-check against third-party values per place and indicator, with tolerance."""
        frame = services.discrepancies(self.get_object(), acting_user=request.user)
        if request.query_params.get("exceeds") in ("true", "1"):
            frame = frame[frame["exceeds"]]
        return Response(DiscrepancySerializer(frame_records(frame), many=True).data)

    @extend_schema(request=AdjudicateSerializer, responses={201: AdjudicationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def adjudications(self, request, pk=None):
        """The province records the adopted value, who chose it and why."""
        round_ = self.get_object()
        payload = AdjudicateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        indicator = round_.system.all_indicators().filter(code=data["indicator"]).first()
        if indicator is None:
            raise ValidationError({"indicator": "not an indicator of the round's system"})
        try:
            place = access.get_place(request.user, data["place"], Action.VIEW)
        except DjangoPermissionDenied as exc:
            raise NotFound({"place": str(exc)}) from exc
        try:
            adjudication = services.adjudicate(
                round_,
                place,
                indicator,
                chosen_source=data["chosen_source"],
                reason=data["reason"],
                value=data["value"],
                acting_user=request.user,
            )
        except (services.CheckStepError, DjangoPermissionDenied) as exc:
            raise refused(exc) from exc
        return Response(AdjudicationSerializer(adjudication).data, status=status.HTTP_201_CREATED)


class SubmissionViewSet(RestrictedReadOnlyViewSet):
    """Submissions in reach, and the workflow steps on them."""

    queryset = Submission.objects.select_related(
        "place", "department", "submitted_by", "decided_by"
    ).order_by("round", "place__code", "source", "pk")
    serializer_class = SubmissionSerializer
    filterset_class = SubmissionFilterSet

    @property
    def permission_action(self):
        return Action.VIEW  # each step asks the workflow service for its own permission

    def _step(self, service, **arguments):
        submission = self.get_object()
        try:
            service(submission, acting_user=self.request.user, **arguments)
        except (services.CheckStepError, DjangoPermissionDenied) as exc:
            raise refused(exc) from exc
        submission.refresh_from_db()
        return Response(SubmissionSerializer(submission).data)

    def _comment(self):
        payload = StepSerializer(data=self.request.data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data["comment"]

    @extend_schema(request=StepSerializer, responses=SubmissionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def submit(self, request, pk=None):
        """Submit a draft or returned data set (refused on errors or unexplained warnings)."""
        return self._step(workflow.submit_submission, note=self._comment())

    @extend_schema(request=StepSerializer, responses=SubmissionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def approve(self, request, pk=None):
        """The city approves a county's submitted data."""
        return self._step(workflow.approve_submission, note=self._comment())

    @extend_schema(request=StepSerializer, responses=SubmissionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def accept(self, request, pk=None):
        """The province accepts city-approved (or a city's or third party's) data."""
        return self._step(workflow.accept_submission, note=self._comment())

    @extend_schema(request=StepSerializer, responses=SubmissionSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="return",
        url_name="return",
        permission_classes=[permissions.IsAuthenticated],
    )
    def return_(self, request, pk=None):
        """Return data to its filler; the comment is required."""
        return self._step(workflow.return_submission, comment=self._comment())

    @extend_schema(request=RevisionRequestSerializer, responses={201: RevisionRequestSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def revision(self, request, pk=None):
        """Ask to reopen approved data; the reason is kept."""
        submission = self.get_object()
        payload = RevisionRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            revision = workflow.request_revision(
                submission, acting_user=request.user, reason=payload.validated_data["reason"]
            )
        except (services.CheckStepError, DjangoPermissionDenied) as exc:
            raise refused(exc) from exc
        return Response(RevisionRequestSerializer(revision).data, status=status.HTTP_201_CREATED)


class RevisionRequestViewSet(RestrictedReadOnlyViewSet):
    """Requests to reopen approved data, and the decision on them."""

    queryset = RevisionRequest.objects.select_related("submission", "requested_by").order_by(
        "-requested_at", "pk"
    )
    serializer_class = RevisionRequestSerializer
    filterset_fields = ["submission", "status"]

    @property
    def permission_action(self):
        return Action.VIEW  # the workflow service decides who may decide

    @extend_schema(request=RevisionDecisionSerializer, responses=RevisionRequestSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def decide(self, request, pk=None):
        """Grant (the data reopens as returned) or refuse the request."""
        revision = self.get_object()
        payload = RevisionDecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            workflow.decide_revision(
                revision,
                grant=payload.validated_data["grant"],
                note=payload.validated_data["note"],
                acting_user=request.user,
            )
        except (services.CheckStepError, DjangoPermissionDenied) as exc:
            raise refused(exc) from exc
        revision.refresh_from_db()
        return Response(RevisionRequestSerializer(revision).data)


class ValueViewSet(RestrictedModelViewSet):
    queryset = Value.objects.select_related("place", "updated_by")
    serializer_class = ValueSerializer
    filterset_class = ValueFilterSet
