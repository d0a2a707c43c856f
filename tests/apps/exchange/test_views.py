"""The ledger pages: who may see them, submitting to a file, bringing back a receipt,
receiving a package file from below."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from citycheck.core.models import Job
from citycheck.exchange import package
from citycheck.exchange.models import LedgerState, OutgoingPackage, PeerRelation, ReceivedPackage
from citycheck.exchange.services import save_peer

from .test_submit import NATIONAL_KEY, write_mapping


@pytest.fixture
def national_by_file(small_province, instance):
    write_mapping(instance, version="2", density_unit="万人/km²", factor=0.0001)
    return save_peer(
        code="national",
        name="国家城市体检平台",
        relation=PeerRelation.UPPER,
        public_key=package.public_key_of(NATIONAL_KEY),
        url="",  # offline: files only
    )


def login(client, user):
    client.force_login(user)


def test_only_managers_see_the_ledger(client, small_province, instance):
    login(client, small_province.users["city_admin"])
    assert client.get("/exchange/").status_code == 403
    login(client, small_province.users["province_admin"])
    page = client.get("/exchange/")
    assert page.status_code == 200 and "互联互通" in page.content.decode()


def test_offline_round_trip_file_out_receipt_back(client, small_province, national_by_file):
    login(client, small_province.users["province_admin"])
    response = client.post(
        "/exchange/submit/",
        {
            "round": small_province.open_round.pk,
            "peer": national_by_file.pk,
            "scope": "changed",
            "send": "file",
        },
    )
    outgoing = OutgoingPackage.objects.get()
    job = Job.objects.get(kind="exchange.submit")
    assert response["Location"] == f"/jobs/{job.pk}/"  # packaging runs as a job
    page = client.get(response["Location"]).content.decode()
    assert f"/exchange/sent/{outgoing.package_id}/" in page and "下载后以文件方式" in page
    document = json.loads(client.get(f"/exchange/sent/{outgoing.package_id}/package.json").content)
    verified = package.verify_package(document, {"jiangxi": _public(client)})
    receipt = package.make_receipt(
        package_id=outgoing.package_id,
        package_digest=verified.digest,
        receiver="national",
        sender="jiangxi",
        received="t",
        state="partially_accepted",
        counts={"rows": outgoing.rows, "accepted": outgoing.rows - 1, "rejected": 1},
        rejections=[
            {
                "row": 1,
                "column": "REF_AREA",
                "reason": "unknown_place",
                "message": "地区代码不在接收方的行政区划中",
            }
        ],
        error=None,
        private_key=NATIONAL_KEY,
    )
    upload = SimpleUploadedFile("receipt.json", json.dumps(receipt).encode(), "application/json")
    client.post("/exchange/receipts/upload/", {"file": upload})
    outgoing.refresh_from_db()
    assert outgoing.state == LedgerState.PARTIALLY_ACCEPTED
    page = client.get(f"/exchange/sent/{outgoing.package_id}/").content.decode()
    assert "地区代码不在接收方的行政区划中" in page and 'data-testid="rejected-rows"' in page


def _public(client):
    return client.get("/api/exchange/instance/").json()["public_key"]


def test_a_package_file_from_below_is_received_like_a_post(
    client, small_province, instance, peer_key
):
    save_peer(
        code="nanchang",
        name="南昌市城市体检平台",
        relation=PeerRelation.LOWER,
        public_key=package.public_key_of(peer_key),
        place=small_province.places["city"],
    )
    from .test_receive import document, rows

    unit = small_province.indicators["green_space"].unit
    frame = rows(("360102", "green_space", 3.5, unit)).assign(DATAFLOW=small_province.system.code)
    doc = document(frame, peer_key, dataflow=small_province.system.code)
    login(client, small_province.users["province_admin"])
    upload = SimpleUploadedFile("p.json", json.dumps(doc).encode(), "application/json")
    response = client.post("/exchange/packages/upload/", {"file": upload})
    received = ReceivedPackage.objects.get()
    assert response["Location"].endswith(f"/exchange/received/{received.pk}/")
    assert received.channel == "file" and received.state == "accepted"
    page = client.get(f"/exchange/received/{received.pk}/").content.decode()
    assert "nanchang-2024-1" in page


def test_pull_and_adopt_a_system_from_the_ledger(client, small_province, instance, monkeypatch):
    import httpx
    import yaml

    from citycheck.exchange import distribution
    from citycheck.indicators.models import IndicatorSystem
    from citycheck.indicators.services import export_system

    data = yaml.safe_load(export_system(small_province.system))
    data["version"] = 2025
    for indicator in data["indicators"]:
        indicator.pop("formula", None)
    data["indicators"][0]["unit"] = "公顷"
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    signed = package.make_system_package(
        text,
        package_id="national-system-test-system-2025",
        sender="national",
        system={"code": "test-system", "version": 2025},
        created="t",
        private_key=NATIONAL_KEY,
    )

    def handler(request):
        if request.url.path.endswith("/systems/"):
            return httpx.Response(
                200,
                json=[{"code": "test-system", "version": 2025, "name_zh": "测试", "name_en": ""}],
            )
        return httpx.Response(200, json=signed)

    monkeypatch.setattr(
        distribution, "_client", lambda client: httpx.Client(transport=httpx.MockTransport(handler))
    )
    peer = save_peer(
        code="national",
        name="国家城市体检平台",
        relation=PeerRelation.UPPER,
        public_key=package.public_key_of(NATIONAL_KEY),
        url="http://national.test",
    )
    client.force_login(small_province.users["province_admin"])
    page = client.get(
        f"/exchange/peers/{peer.pk}/systems/?code=test-system&version=2025"
    ).content.decode()
    assert 'data-testid="system-changes"' in page and "公顷" in page
    response = client.post(
        f"/exchange/peers/{peer.pk}/systems/", {"code": "test-system", "version": "2025"}
    )
    adopted = IndicatorSystem.objects.get(code="test-system", version=2025)
    assert response.status_code == 302 and adopted.indicators.count() == 3
    # A package signed by another key is refused; nothing adopted.
    signed["signature"] = package.make_system_package(
        text,
        package_id="x",
        sender="national",
        system={"code": "test-system", "version": 2025},
        created="t",
        private_key=package.new_private_key(),
    )["signature"]
    page = client.get(
        f"/exchange/peers/{peer.pk}/systems/?code=test-system&version=2025"
    ).content.decode()
    assert "签名无效" in page
