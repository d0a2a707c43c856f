from rest_framework import serializers

from ..models import EarlyWarning

MAX_ROWS = 5000


class ObservationRowSerializer(serializers.Serializer):
    place = serializers.CharField(help_text="Division code (GB/T 2260), e.g. 360102.")
    indicator = serializers.CharField(help_text="Monitoring indicator code.")
    period = serializers.CharField(help_text="2025-03-14 (daily), 2025-03 (monthly), 2025-Q1.")
    value = serializers.FloatField()
    unit = serializers.CharField(required=False, help_text="If given, must be the indicator's.")


class ObservationBatchSerializer(serializers.Serializer):
    batch_id = serializers.CharField(
        max_length=100,
        help_text="Chosen by the client; a retried batch with the same id and rows is "
        "answered as the first time and writes nothing.",
    )
    rows = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=MAX_ROWS)


# For the schema only: how rows look.
class ObservationBatchDocSerializer(ObservationBatchSerializer):
    rows = ObservationRowSerializer(many=True)


class ObservationRefusalSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1-based position in `rows`.")
    field = serializers.CharField()
    reason = serializers.CharField()


class ObservationBatchResultSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    accepted = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    replayed = serializers.BooleanField()
    refused = ObservationRefusalSerializer(many=True)


class MonitoringErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class EarlyWarningSerializer(serializers.ModelSerializer):
    place = serializers.CharField(source="place.code")
    rule = serializers.CharField(source="rule.code")
    indicator = serializers.CharField(source="indicator.code")
    department = serializers.CharField(source="department.code")
    escalated_to = serializers.CharField(source="escalated_to.code", allow_null=True, default=None)
    level = serializers.CharField(help_text="yellow or red.")
    status = serializers.CharField(help_text="open, acknowledged, handled or closed.")

    class Meta:
        model = EarlyWarning
        fields = [
            "id",
            "rule",
            "place",
            "indicator",
            "department",
            "level",
            "period",
            "value",
            "reference",
            "forecast",
            "lower",
            "upper",
            "periods_ahead",
            "status",
            "raised",
            "deadline",
            "escalated_to",
            "escalations",
        ]
