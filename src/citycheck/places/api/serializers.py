from rest_framework import serializers

from citycheck.places.models import Place, PlaceYear


class PlaceYearSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlaceYear
        fields = ["year", "urban_population", "city_class"]


class PlaceSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="places-api:place-detail", lookup_field="code"
    )
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    years = PlaceYearSerializer(many=True, read_only=True)

    class Meta:
        model = Place
        fields = [
            "url",
            "code",
            "name_zh",
            "name_en",
            "level",
            "unit_type",
            "parent",
            "active",
            "years",
        ]
