from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from citycheck.collection import services
from citycheck.collection.models import ChangeChannel, Round, Value
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
    """A value. Writes go through ``collection.services.save_values`` (permission, round
    and lock checks, audit); an update must send the ``version`` it read."""

    place = serializers.SlugRelatedField(slug_field="code", queryset=Place.objects.none())
    version = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="The version read (0 or absent when creating); a write is refused with "
        "409 if the stored row has another version.",
    )
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    IDENTITY_FIELDS = ("round", "place", "indicator", "source")

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
        if self.instance is None:
            return attrs
        if attrs.get("version") is None:
            raise serializers.ValidationError({"version": _("修改时须提供读取时的版本号。")})
        moved = [
            name
            for name in self.IDENTITY_FIELDS
            if name in attrs and attrs[name] != getattr(self.instance, name)
        ]
        if moved:
            raise serializers.ValidationError(dict.fromkeys(moved, _("已有数值的这一项不能修改。")))
        return attrs

    def _save(self, *, round, place, indicator, source, value=None, note="", version=0):
        entry = services.ValueEntry(
            place=place, indicator=indicator, value=value, note=note, read_version=version
        )
        try:
            result = services.save_values(
                round,
                [entry],
                source=source,
                acting_user=self.context["request"].user,
                channel=ChangeChannel.BATCH,
            )
        except services.CheckStepError as exc:
            raise Conflict(exc.message) from exc
        return result.values[0]

    def create(self, validated_data):
        return self._save(**validated_data)

    def update(self, instance, validated_data):
        fields = {
            name: getattr(instance, name) for name in (*self.IDENTITY_FIELDS, "value", "note")
        }
        return self._save(**{**fields, **validated_data})
