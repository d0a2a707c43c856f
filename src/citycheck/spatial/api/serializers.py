from rest_framework import serializers

from ..models import Analysis, AreaResult


class AnalysisSerializer(serializers.ModelSerializer):
    """An analysis with its provenance: ``digest`` covers the input frames, the parameters
    and the code version; ``accepted`` is when it was adopted for the round (null if not)."""

    dataset_name = serializers.CharField(source="dataset.name", read_only=True)
    format = serializers.CharField(source="dataset.format", read_only=True)
    place = serializers.CharField(source="dataset.place.code", read_only=True)
    place_name = serializers.CharField(source="dataset.place.name_zh", read_only=True)
    round = serializers.IntegerField(source="dataset.round_id", read_only=True)
    round_year = serializers.IntegerField(source="dataset.round.year", read_only=True)
    dataset_digest = serializers.CharField(source="dataset.digest", read_only=True)

    class Meta:
        model = Analysis
        fields = [
            "id",
            "dataset",
            "dataset_name",
            "format",
            "dataset_digest",
            "place",
            "place_name",
            "round",
            "round_year",
            "parameters",
            "code_version",
            "digest",
            "created",
            "accepted",
        ]


class AnalysisDetailSerializer(AnalysisSerializer):
    class Meta(AnalysisSerializer.Meta):
        fields = [*AnalysisSerializer.Meta.fields, "summary"]


class AreaResultSerializer(serializers.ModelSerializer):
    """Share of the residents of an area within ``band`` metres (0: the type's service
    radius; parks by area) of a facility of the type."""

    class Meta:
        model = AreaResult
        fields = [
            "id",
            "analysis",
            "level",
            "area",
            "county",
            "facility_type",
            "band",
            "population",
            "covered",
            "share",
        ]
