from rest_framework import serializers

from ..models import Problem, ProblemStatus


class ProblemSerializer(serializers.ModelSerializer):
    place_code = serializers.CharField(source="place.code", read_only=True)
    place_name = serializers.CharField(source="place.name_zh", read_only=True)
    year = serializers.IntegerField(source="round.year", read_only=True)
    # Worded in the request's language (see diagnosis.wording).
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)

    class Meta:
        model = Problem
        fields = [
            "id",
            "year",
            "place_code",
            "place_name",
            "disease",
            "disease_name",
            "title",
            "description",
            "dimension",
            "severity",
            "points",
            "signals",
            "evidence",
            "causes",
            "departments",
            "explanation",
            "status",
            "status_reason",
            "reviewed_at",
            "first_year",
            "returned",
            "previous",
            "recheck_status",
            "recheck_year",
            "recheck_evidence",
            "recheck_explanation",
        ]
        read_only_fields = fields


class RoundJobSerializer(serializers.Serializer):
    round = serializers.IntegerField(help_text="The id of the round.")


class ReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[ProblemStatus.CONFIRMED, ProblemStatus.DISMISSED])
    reason = serializers.CharField()
