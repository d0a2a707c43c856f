from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from citycheck.collection.models import Round, Value
from citycheck.core import access
from citycheck.core.api.viewsets import Conflict
from citycheck.core.choices import Action
from citycheck.places.models import Place


class RoundSerializer(serializers.ModelSerializer):
    places = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Round
        fields = ["id", "year", "kind", "system", "status", "deadline", "is_synthetic", "places"]


class ValueSerializer(serializers.ModelSerializer):
    """A value; an update must send the ``version`` it read (optimistic concurrency)."""

    place = serializers.SlugRelatedField(slug_field="code", queryset=Place.objects.none())
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version read; an update is refused with 409 if the row changed since.",
    )
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Value
        fields = [
            "id",
            "round",
            "place",
            "indicator",
            "source",
            "value",
            "note",
            "version",
            "updated_by",
            "last_updated",
        ]
        read_only_fields = ["last_updated"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            # Places out of reach look like places that do not exist.
            fields["place"].queryset = access.restrict(
                Place.objects.all(), request.user, Action.CHANGE
            )
        return fields

    def validate(self, attrs):
        if self.instance is not None:
            read_version = attrs.pop("version", None)
            if read_version is None:
                raise serializers.ValidationError({"version": _("修改时须提供读取时的版本号。")})
            if read_version != self.instance.version:
                raise Conflict()
        else:
            attrs.pop("version", None)
        attrs["updated_by"] = self.context["request"].user
        return attrs

    def update(self, instance, validated_data):
        instance.version += 1
        return super().update(instance, validated_data)
