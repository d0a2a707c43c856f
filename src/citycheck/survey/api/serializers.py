"""Survey API serializers: no field identifies a respondent (no device, nonce, fingerprint,
external reference or entering user); free text was masked before it was stored."""

from rest_framework import serializers

from ..models import Response, Score, Survey


class SurveySerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="round.year")
    round = serializers.IntegerField(source="round.pk", help_text="Round id.")
    questionnaire = serializers.CharField(source="questionnaire.code")
    questionnaire_version = serializers.IntegerField(source="questionnaire.version")
    status = serializers.CharField(help_text="draft, open or closed.")

    class Meta:
        model = Survey
        fields = [
            "id",
            "round",
            "year",
            "questionnaire",
            "questionnaire_version",
            "status",
            "minimum_per_city",
            "rate_per_10000",
            "trim_cap",
            "weighted_at",
        ]


class ProgressCellSerializer(serializers.Serializer):
    city = serializers.CharField()
    county = serializers.CharField()
    sex = serializers.CharField(help_text="male or female.")
    age_band = serializers.CharField(help_text="18_29, 30_39, 40_49, 50_59 or 60_plus.")
    quota = serializers.IntegerField()
    responses = serializers.IntegerField(help_text="Counted responses (no flag, or overruled).")
    flagged = serializers.IntegerField(help_text="Responses excluded by a quality flag.")


class ScoreSerializer(serializers.ModelSerializer):
    place = serializers.CharField(source="place.code")
    year = serializers.IntegerField(source="survey.round.year")
    kind = serializers.CharField(help_text="item, dimension, overall or indicator.")
    score = serializers.FloatField(help_text="0–100 (a share in % for share indicators).")
    low = serializers.FloatField(allow_null=True, help_text="95 % interval, lower end.")
    high = serializers.FloatField(allow_null=True, help_text="95 % interval, upper end.")

    class Meta:
        model = Score
        fields = [
            "id",
            "survey",
            "year",
            "place",
            "kind",
            "code",
            "n",
            "effective_n",
            "score",
            "se",
            "low",
            "high",
            "few_responses",
            "wide_interval",
        ]


class ResponseSerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="place.code")
    counted = serializers.BooleanField(help_text="Enters the scores.")
    flags = serializers.ListField(
        child=serializers.CharField(), help_text="device, speeder, straight or duplicate."
    )
    answers = serializers.DictField(help_text="Item code → answer (text masked).")

    class Meta:
        model = Response
        fields = [
            "id",
            "survey",
            "county",
            "street",
            "channel",
            "sex",
            "age_band",
            "seconds",
            "flags",
            "override",
            "counted",
            "weight",
            "answers",
        ]


class SurveyErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
