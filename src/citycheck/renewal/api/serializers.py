from rest_framework import serializers

from ..models import ProgressReport, RenewalProject


class RenewalProjectSerializer(serializers.ModelSerializer):
    place_code = serializers.CharField(source="place.code", read_only=True)
    place_name = serializers.CharField(source="place.name_zh", read_only=True)

    class Meta:
        model = RenewalProject
        fields = [
            "id",
            "year",
            "place_code",
            "place_name",
            "name",
            "project_type",
            "location",
            "problems",
            "targets",
            "budget",
            "funding",
            "start",
            "end",
            "unit",
            "status",
            "priority",
            "priority_components",
            "priority_explanation",
        ]
        read_only_fields = fields


class ProgressReportSerializer(serializers.ModelSerializer):
    # Required when the progress is below the latest earlier month's; kept in the audit.
    lowered_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500
    )

    class Meta:
        model = ProgressReport
        fields = [
            "id",
            "project",
            "month",
            "percent_complete",
            "investment",
            "milestones",
            "blockers",
            "lowered_reason",
        ]
        read_only_fields = ["id", "project"]
