from rest_framework import serializers

from citycheck.core.models import Job

from ..models import Release, Result


class ReleaseSerializer(serializers.ModelSerializer):
    round_year = serializers.IntegerField(source="round.year", read_only=True)
    scope = serializers.CharField(source="scope.code", read_only=True)

    class Meta:
        model = Release
        fields = [
            "id",
            "round",
            "round_year",
            "scope",
            "status",
            "provisional",
            "method_code",
            "method_version",
            "code_version",
            "input_digest",
            "created",
            "published_at",
        ]


class ReleaseDetailSerializer(ReleaseSerializer):
    class Meta(ReleaseSerializer.Meta):
        fields = [*ReleaseSerializer.Meta.fields, "method_text", "details"]


class ResultSerializer(serializers.ModelSerializer):
    place = serializers.CharField(source="place.code", read_only=True)
    place_name = serializers.CharField(source="place.name_zh", read_only=True)

    class Meta:
        model = Result
        exclude = ["id"]


class RunSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    method = serializers.CharField(help_text="A file name in data/methods/.")


class JobSerializer(serializers.ModelSerializer):
    # What went wrong and what to do, never the traceback (see Job.failure_message).
    error = serializers.CharField(source="failure_message", read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "message",
            "result",
            "error",
            "created",
            "started",
            "finished",
        ]
