from rest_framework import serializers

from citycheck.indicators.models import Dimension, Indicator, IndicatorSystem, Standard


class IndicatorSystemSerializer(serializers.ModelSerializer):
    class Meta:
        model = IndicatorSystem
        fields = [
            "id",
            "code",
            "version",
            "name_zh",
            "name_en",
            "description",
            "extends",
            "source_digest",
            "owner",
        ]


class DimensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dimension
        fields = ["id", "system", "code", "name_zh", "name_en", "order"]


class StandardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Standard
        fields = [
            "city_class",
            "comparison",
            "value",
            "value_high",
            "warning_band",
            "is_target",
            "citation",
        ]


class IndicatorSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    standards = StandardSerializer(many=True, read_only=True)

    class Meta:
        model = Indicator
        fields = [
            "id",
            "system",
            "dimension",
            "code",
            "number",
            "name_zh",
            "name_en",
            "definition",
            "unit",
            "direction",
            "type",
            "tier",
            "formula",
            "department",
            "source_kind",
            "spatial_scope",
            "time_point",
            "decimals",
            "rollup",
            "citation",
            "standards",
        ]
