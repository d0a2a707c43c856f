from rest_framework import serializers

from ..models import (
    AppraisalScore,
    AppraisalTotal,
    Case,
    DispatchReport,
    LocalPlan,
    PlanTarget,
    PlanTask,
)


class PlanTargetSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code", read_only=True)

    class Meta:
        model = PlanTarget
        fields = ["id", "indicator", "year", "comparison", "value"]
        read_only_fields = fields


class PlanTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanTask
        fields = ["id", "title", "department", "deadline", "status", "note"]
        read_only_fields = fields


class LocalPlanSerializer(serializers.ModelSerializer):
    place_code = serializers.CharField(source="place.code", read_only=True)
    place_name = serializers.CharField(source="place.name_zh", read_only=True)
    targets = PlanTargetSerializer(many=True, read_only=True)
    tasks = PlanTaskSerializer(many=True, read_only=True)

    class Meta:
        model = LocalPlan
        fields = [
            "id",
            "place_code",
            "place_name",
            "title",
            "start_year",
            "end_year",
            "summary",
            "targets",
            "tasks",
        ]
        read_only_fields = fields


class DispatchReportSerializer(serializers.ModelSerializer):
    month = serializers.DateField(source="month.month", read_only=True)
    deadline = serializers.DateField(source="month.deadline", read_only=True)
    place_code = serializers.CharField(source="place.code", read_only=True)
    place_name = serializers.CharField(source="place.name_zh", read_only=True)
    figures = serializers.DictField(read_only=True)

    class Meta:
        model = DispatchReport
        fields = [
            "id",
            "month",
            "deadline",
            "place_code",
            "place_name",
            "status",
            "submitted_at",
            "late",
            "reminders",
            "summary",
            "figures",
        ]
        read_only_fields = fields


class AppraisalScoreSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="appraisal.year", read_only=True)
    appraisal_status = serializers.CharField(source="appraisal.status", read_only=True)
    place_code = serializers.CharField(source="place.code", read_only=True)
    evidence = serializers.DictField(read_only=True)

    class Meta:
        model = AppraisalScore
        fields = [
            "id",
            "appraisal",
            "year",
            "appraisal_status",
            "place_code",
            "criterion",
            "kind",
            "measure",
            "points",
            "evidence",
            "adjusted_from",
            "adjustment_reason",
        ]
        read_only_fields = fields


class AppraisalTotalSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="appraisal.year", read_only=True)
    appraisal_status = serializers.CharField(source="appraisal.status", read_only=True)
    place_code = serializers.CharField(source="place.code", read_only=True)
    place_name = serializers.CharField(source="place.name_zh", read_only=True)

    class Meta:
        model = AppraisalTotal
        fields = [
            "id",
            "appraisal",
            "year",
            "appraisal_status",
            "place_code",
            "place_name",
            "total",
            "rank",
            "outcome",
        ]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    place_code = serializers.CharField(source="place.code", read_only=True)
    place_name = serializers.CharField(source="place.name_zh", read_only=True)
    indicators = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "year",
            "place_code",
            "place_name",
            "title",
            "case_type",
            "summary",
            "projects",
            "indicators",
            "status",
            "is_synthetic",
        ]
        read_only_fields = fields
