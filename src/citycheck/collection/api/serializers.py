from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from citycheck.collection import services
from citycheck.collection.models import (
    Adjudication,
    ChangeChannel,
    RevisionRequest,
    Round,
    Source,
    Submission,
    Value,
)
from citycheck.core import access
from citycheck.core.api.fields import NumberField
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
    updated_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    value = NumberField(allow_null=True, required=False)

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
            return self._in_round(attrs)
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

    def _in_round(self, attrs):
        """A new value must be of a place of the round and an indicator of its system."""
        round_ = attrs["round"]
        if not round_.places.filter(pk=attrs["place"].pk).exists():
            raise serializers.ValidationError({"place": _("该地区不在本轮体检的参与地区中。")})
        if not round_.system.all_indicators().filter(pk=attrs["indicator"].pk).exists():
            raise serializers.ValidationError({"indicator": _("该指标不属于本轮体检的指标体系。")})
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


# --------------------------------------------------------------------------- check step


class SubmissionSerializer(serializers.ModelSerializer):
    place = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Submission
        fields = [
            "id",
            "round",
            "place",
            "source",
            "department",
            "status",
            "version",
            "submitted_at",
            "submitted_by",
            "decided_at",
            "decided_by",
        ]
        read_only_fields = fields


class StepSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="A note with the step; required when returning data.",
    )


class RevisionRequestSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RevisionRequest
        fields = [
            "id",
            "submission",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "decision_note",
        ]
        read_only_fields = [
            "id",
            "submission",
            "status",
            "requested_by",
            "requested_at",
            "decision_note",
        ]


class RevisionDecisionSerializer(serializers.Serializer):
    grant = serializers.BooleanField(help_text="true reopens the data as returned; false refuses.")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BatchRecordSerializer(serializers.Serializer):
    """One record of a batch (documentation of the shape; checked by the batch path)."""

    place = serializers.CharField(help_text="Division code of a place of the round.")
    indicator = serializers.CharField(help_text="Indicator code of the round's system.")
    value = NumberField(allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(
        required=False, help_text="The version read (0 for none); refused if stale."
    )


@extend_schema_field(BatchRecordSerializer(many=True))
class BatchRecordsField(serializers.ListField):
    """Records are checked as a whole by ``collection.batch.submit_batch`` (vectorised,
    errors named ``records[i].field``), not one serializer per record: a batch may hold a
    million of them."""

    child = serializers.DictField()


class BatchSerializer(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=Source.choices,
        default=Source.SELF_CHECK,
        help_text="self_check or third_party; the other sources are not entered directly.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    records = BatchRecordsField(allow_empty=False)


class BatchResultSerializer(serializers.Serializer):
    records = serializers.IntegerField()
    changed = serializers.IntegerField()
    method = serializers.ChoiceField(choices=["copy", "orm"])


class AdjudicateSerializer(serializers.Serializer):
    place = serializers.CharField(help_text="Division code.")
    indicator = serializers.CharField(help_text="Indicator code.")
    chosen_source = serializers.ChoiceField(
        choices=[Source.SELF_CHECK, Source.THIRD_PARTY, Source.ADOPTED],
        help_text="self_check or third_party: take that source's value; adopted: take "
        "`value` as given (e.g. after a site visit).",
    )
    value = NumberField(required=False, allow_null=True, default=None)
    reason = serializers.CharField()


class AdjudicationSerializer(serializers.ModelSerializer):
    place = serializers.SlugRelatedField(slug_field="code", read_only=True)
    self_check_value = NumberField(read_only=True)
    third_party_value = NumberField(read_only=True)
    adopted_value = NumberField(read_only=True)
    indicator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # Plain text: the request's choice set (AdjudicateSerializer) names the enum.
    chosen_source = serializers.CharField(read_only=True)

    class Meta:
        model = Adjudication
        fields = [
            "id",
            "round",
            "place",
            "indicator",
            "self_check_value",
            "third_party_value",
            "chosen_source",
            "adopted_value",
            "reason",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class DiscrepancySerializer(serializers.Serializer):
    place = serializers.CharField()
    indicator = serializers.CharField()
    self_check = NumberField(allow_null=True)
    third_party = NumberField(allow_null=True)
    relative_difference = NumberField(allow_null=True)
    tolerance = NumberField(allow_null=True)
    exceeds = serializers.BooleanField()
    adopted = NumberField(allow_null=True)


class StatusCountsMixin(serializers.Serializer):
    draft = serializers.IntegerField()
    submitted = serializers.IntegerField()
    returned = serializers.IntegerField()
    city_approved = serializers.IntegerField()
    accepted = serializers.IntegerField()


class FilledCountsMixin(serializers.Serializer):
    """Values filled in, values owed, and their share (null where none are owed)."""

    filled = serializers.IntegerField()
    expected = serializers.IntegerField()
    share = NumberField(allow_null=True)


class BoardPlaceSerializer(FilledCountsMixin):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    status = serializers.CharField()
    overdue = serializers.BooleanField()


class BoardRollupSerializer(StatusCountsMixin, FilledCountsMixin):
    code = serializers.CharField(help_text="The ancestor place the row sums up.")
    places = serializers.IntegerField()
    overdue = serializers.IntegerField()


class BoardDepartmentSerializer(StatusCountsMixin, FilledCountsMixin):
    department = serializers.CharField(allow_null=True)
    indicators = serializers.IntegerField()


class BoardDimensionSerializer(FilledCountsMixin):
    dimension = serializers.CharField()
    dimension_name = serializers.CharField()
    indicators = serializers.IntegerField()


class CompletenessSerializer(serializers.Serializer):
    places = BoardPlaceSerializer(many=True)
    rollup = BoardRollupSerializer(many=True)
    departments = BoardDepartmentSerializer(many=True)
    dimensions = BoardDimensionSerializer(many=True)
