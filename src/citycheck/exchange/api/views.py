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

from .. import conf, distribution, services, upload

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
            receipt = _receive(raw, gzipped)
        except services.Refusal as refusal:
            return Response(
                {"code": refusal.code, "message": refusal.message}, status=refusal.status
            )
        response = Response(receipt)
        response["Server-Timing"] = f"receive;dur={(time.perf_counter() - started) * 1000:.0f}"
        return response


def _receive(raw: bytes, gzipped: bool) -> dict:
    """A package body received (one-shot or the whole of a finished upload): its receipt,
    or :class:`~citycheck.exchange.services.Refusal`."""
    return services.receive_package(services.read_body(raw, gzipped=gzipped))[0]


UPLOAD = inline_serializer(
    "ExchangeUpload",
    {
        "id": serializers.CharField(),
        "offset": serializers.IntegerField(),
        "length": serializers.IntegerField(),
        "finished": serializers.BooleanField(),
    },
)
NEW_UPLOAD = inline_serializer(
    "ExchangeNewUpload",
    {
        "length": serializers.IntegerField(help_text="bytes of the (gzipped) body"),
        "sha256": serializers.CharField(help_text="SHA-256 of those bytes, hex"),
        "gzip": serializers.BooleanField(default=True),
    },
)


def _upload_state(session) -> dict:
    return {
        "id": session.token,
        "offset": session.received,
        "length": session.length,
        "finished": session.receipt is not None,
    }


def _refused(refusal) -> Response:
    return Response(refusal.answer(), status=refusal.status)


class UploadListView(APIView):
    """Open a resumable upload of a large package (docs/exchange.md): 201 with its id.
    413 over the size limit, 429 too many uploads open."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    parser_classes = [JSONParser]

    @extend_schema(request=NEW_UPLOAD, responses={201: UPLOAD, 400: ERROR, 413: ERROR, 429: ERROR})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        try:
            session = upload.create_session(
                data.get("length"), data.get("sha256"), gzipped=data.get("gzip", True)
            )
        except upload.UploadRefusal as refusal:
            return _refused(refusal)
        return Response(_upload_state(session), status=201)


class UploadView(APIView):
    """One upload: ``GET``/``HEAD`` how much arrived (also as ``Upload-Offset``), ``PUT`` a
    chunk with ``Content-Range: bytes a-b/total`` starting at that offset (409 with the
    offset otherwise)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    parser_classes: list = []

    def _answer(self, session) -> Response:
        response = Response(_upload_state(session))
        response["Upload-Offset"] = str(session.received)
        return response

    @extend_schema(responses={200: UPLOAD, 404: ERROR})
    def get(self, request, token: str):
        try:
            return self._answer(upload.find_session(token))
        except upload.UploadRefusal as refusal:
            return _refused(refusal)

    @extend_schema(
        request={"application/octet-stream": bytes},
        responses={200: UPLOAD, 400: ERROR, 404: ERROR, 409: ERROR, 413: ERROR},
    )
    def put(self, request, token: str):
        data = request._request.read(conf.chunk_bytes() * 2 + 1)
        if len(data) > conf.chunk_bytes() * 2:
            return Response({"code": "too_large", "message": "分段过大"}, status=413)
        try:
            session = upload.write_chunk(token, request.headers.get("Content-Range", ""), data)
        except upload.UploadRefusal as refusal:
            return _refused(refusal)
        return self._answer(session)


class UploadFinishView(APIView):
    """Finish an upload: the whole body is received as by ``POST packages/`` and answers
    the same signed receipt (again on a repeated finish)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=None, responses={200: RECEIPT, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}
    )
    def post(self, request, token: str):
        try:
            receipt, _session = upload.finish(token, _receive)
        except upload.UploadRefusal as refusal:
            return _refused(refusal)
        except services.Refusal as refusal:
            return Response(
                {"code": refusal.code, "message": refusal.message}, status=refusal.status
            )
        return Response(receipt)


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
    "ExchangeReferencePackage",
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


METHOD_LIST = inline_serializer(
    "ExchangeMethod",
    {
        "name": serializers.CharField(),
        "code": serializers.CharField(),
        "version": serializers.IntegerField(),
        "name_zh": serializers.CharField(),
        "digest": serializers.CharField(),
    },
    many=True,
)


class MethodListView(APIView):
    """The method files this instance offers to the levels below."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: METHOD_LIST})
    def get(self, request):
        return Response(distribution.published_methods())


class MethodPackageView(APIView):
    """One method file as a signed ``method`` package."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: SYSTEM_PACKAGE, 404: ERROR})
    def get(self, request, name: str):
        signed = distribution.method_package(name)
        if signed is None:
            return Response({"code": "not_found", "message": f"没有评价方法 {name}"}, status=404)
        return Response(signed)


class DivisionsView(APIView):
    """This instance's current division codes as a signed ``divisions`` package."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: SYSTEM_PACKAGE})
    def get(self, request):
        return Response(distribution.divisions_package())
