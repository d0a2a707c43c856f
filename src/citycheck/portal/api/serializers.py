"""Shapes of the public portal API (documentation of the responses)."""

from rest_framework import serializers


class PortalPublicationSerializer(serializers.Serializer):
    release = serializers.IntegerField()
    year = serializers.IntegerField()
    method = serializers.CharField()
    input_digest = serializers.CharField()
    published_at = serializers.DateTimeField()


class PortalRankedPlaceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField()
    rank = serializers.IntegerField()
    rank_low = serializers.IntegerField(allow_null=True)
    rank_high = serializers.IntegerField(allow_null=True)


class PortalRankingSerializer(PortalPublicationSerializer):
    level = serializers.CharField()
    results = PortalRankedPlaceSerializer(many=True)


class PortalPlaceRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class PortalPlaceResultSerializer(serializers.Serializer):
    level = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)


class PortalPlaceSerializer(PortalPublicationSerializer):
    place = PortalPlaceRefSerializer()
    results = PortalPlaceResultSerializer(many=True)
