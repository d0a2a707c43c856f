"""The exchange API: what this instance is (``GET instance/``) and where lower instances
deliver packages (``POST packages/``). Packages authenticate themselves: the signature of
a recorded peer's key, not a user (docs/exchange.md)."""

from __future__ import annotations

import time

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from citycheck.indicators.models import IndicatorSystem

from .. import conf, distribution, services

ERROR = inline_serializer(
    "ExchangeError",
    {"code": serializers.CharField(), "message": serializers.CharField()},
)
RECEIPT = inline_serializer(
    "ExchangeReceipt",
    {
        "body": serializers.DictField(
            help_text="package_id, package_digest, receiver, sender, received, state "
            "(accepted / partially_accepted / rejected), counts, rejections, error"
        ),
        "signature": serializers.DictField(help_text="algorithm Ed25519, key_id, value"),
    },
)
INSTANCE = inline_serializer(
    "ExchangeInstance",
    {
        "code": serializers.CharField(),
        "mode": serializers.CharField(),
        "public_key": serializers.CharField(),
        "key_id": serializers.CharField(),
        "formats": serializers.ListField(child=serializers.CharField()),
    },
)
PACKAGE = inline_serializer(
    "ExchangePackage",
    {
        "format": serializers.CharField(),
        "format_version": serializers.CharField(),
        "manifest": serializers.DictField(),
        "parts": serializers.DictField(child=serializers.CharField()),
        "signature": serializers.DictField(),
    },
)


class InstanceView(APIView):
    """This instance's code, mode and public key: what a peer records to trust it."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: INSTANCE})
    def get(self, request):
        return Response(services.describe_instance())


class PackageView(APIView):
    """Receive a package (JSON, optionally ``Content-Encoding: gzip``).

    200 with the signed receipt when the package was read and judged (its ``state`` says
    accepted, partially accepted or rejected, with reasons per row); a package id already
    received answers the same receipt. 400 unreadable or damaged (digest, row count),
    403 unknown sender or bad signature, 409 a package id reused for other content,
    413 too large: nothing is recorded then.
    """

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    parser_classes = [JSONParser]

    @extend_schema(
        request=PACKAGE,
        responses={200: RECEIPT, 400: ERROR, 403: ERROR, 409: ERROR, 413: ERROR},
        examples=[
            OpenApiExample(
                "refusal",
                value={"code": "bad_signature", "message": "…"},
                response_only=True,
                status_codes=["403"],
            )
        ],
    )
    def post(self, request):
        started = time.perf_counter()
        raw = request._request.read(conf.max_bytes() + 1)
        gzipped = request.headers.get("Content-Encoding", "").lower() == "gzip"
        try:
            document = services.read_body(raw, gzipped=gzipped)
            receipt, _repeated = services.receive_package(document)
        except services.Refusal as refusal:
            return Response(
                {"code": refusal.code, "message": refusal.message}, status=refusal.status
            )
        response = Response(receipt)
        response["Server-Timing"] = f"receive;dur={(time.perf_counter() - started) * 1000:.0f}"
        return response


SYSTEM_LIST = inline_serializer(
    "ExchangeSystem",
    {
        "code": serializers.CharField(),
        "version": serializers.IntegerField(),
        "name_zh": serializers.CharField(),
        "name_en": serializers.CharField(),
    },
    many=True,
)
SYSTEM_PACKAGE = inline_serializer(
    "ExchangeSystemPackage",
    {
        "format": serializers.CharField(),
        "format_version": serializers.CharField(),
        "manifest": serializers.DictField(),
        "parts": serializers.DictField(child=serializers.CharField()),
        "signature": serializers.DictField(),
    },
)


class SystemListView(APIView):
    """The indicator systems this instance publishes to the levels below (public
    reference data)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: SYSTEM_LIST})
    def get(self, request):
        return Response(distribution.published_systems())


class SystemPackageView(APIView):
    """One system as a signed ``system`` package (the self-contained system file)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: SYSTEM_PACKAGE, 404: ERROR})
    def get(self, request, code: str, version: str):
        system = (
            IndicatorSystem.objects.filter(code=code, version=int(version)).first()
            if version.isdigit() and len(version) < 6
            else None
        )
        if system is None:
            return Response(
                {"code": "not_found", "message": f"没有指标体系 {code}（{version}）"}, status=404
            )
        return Response(distribution.system_package(system))
