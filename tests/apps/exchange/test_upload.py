"""Resumable upload of a large package (the receiver's side; the sender resuming over
loopback is in test_two_instances.py): chunks at offsets, how much arrived, an
interrupted upload resumed, finishing answers the one-shot receipt, bounds, stale
sessions removed."""

import datetime as dt
import gzip
import hashlib
import json

from django.utils import timezone

from citycheck.exchange import upload
from citycheck.exchange.models import ReceivedPackage, UploadSession

from .test_receive import document, rows, units

UPLOADS = "/api/exchange/uploads/"


def _body(small_province, peer_key, system_code):
    unit = units(small_province)["green_space"]
    frame = rows(
        *(
            (code, "green_space", 1.5 + n, unit)
            for n, code in enumerate(["360102", "360103", "360100"])
        )
    ).assign(DATAFLOW=system_code)
    return gzip.compress(json.dumps(document(frame, peer_key, dataflow=system_code)).encode())


def _open(client, body):
    answer = client.post(
        UPLOADS,
        {"length": len(body), "sha256": hashlib.sha256(body).hexdigest(), "gzip": True},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    return f"{UPLOADS}{answer.json()['id']}/"


def _put(client, url, body, start, end):
    return client.put(
        url,
        body[start:end],
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes {start}-{end - 1}/{len(body)}",
    )


def test_an_interrupted_upload_resumes_where_it_stopped_and_answers_the_receipt(
    client, small_province, nanchang, peer_key, system_code
):
    body = _body(small_province, peer_key, system_code)
    url = _open(client, body)
    third = len(body) // 3
    assert _put(client, url, body, 0, third).json()["offset"] == third
    # The connection drops; the sender asks how much arrived.
    head = client.head(url)
    assert head.status_code == 200 and head["Upload-Offset"] == str(third)
    early = client.post(url + "finish/")
    assert early.status_code == 409 and early.json() == {
        "code": "incomplete",
        "message": early.json()["message"],
        "offset": third,
    }
    wrong = _put(client, url, body, 0, third)  # a chunk sent twice
    assert wrong.status_code == 409 and wrong.json()["offset"] == third
    assert _put(client, url, body, third, len(body)).json()["offset"] == len(body)
    receipt = client.post(url + "finish/").json()
    assert receipt["body"]["state"] == "accepted" and receipt["body"]["counts"]["accepted"] == 3
    assert ReceivedPackage.objects.get().channel == "https"
    # Finishing again, or uploading the same package afresh, answers the same receipt.
    assert client.post(url + "finish/").json() == receipt
    again = _open(client, body)
    _put(client, again, body, 0, len(body))
    assert client.post(again + "finish/").json() == receipt
    assert ReceivedPackage.objects.count() == 1
    assert not list(upload.conf.upload_dir().glob("*.part"))  # files gone once finished


def test_uploads_are_bounded_checked_and_stale_ones_removed(
    client, settings, small_province, nanchang, peer_key, system_code
):
    body = _body(small_province, peer_key, system_code)
    settings.CITYCHECK_EXCHANGE_MAX_BYTES = len(body) - 1
    big = {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    assert client.post(UPLOADS, big, content_type="application/json").status_code == 413
    settings.CITYCHECK_EXCHANGE_MAX_BYTES = 10 * len(body)
    bad = client.post(UPLOADS, {"length": -1, "sha256": "x"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "malformed"

    url = _open(client, body)
    past = client.put(
        url,
        b"xx",
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes {len(body)}-{len(body) + 1}/{len(body)}",
    )
    assert past.status_code == 400
    damaged = bytes([body[0] ^ 1]) + body[1:]
    _put(client, url, damaged, 0, len(damaged))
    refused = client.post(url + "finish/")
    assert refused.status_code == 400 and refused.json()["code"] == "digest_mismatch"
    assert client.head(url).status_code == 404 and not ReceivedPackage.objects.exists()

    settings.CITYCHECK_EXCHANGE_MAX_UPLOADS = 2
    _open(client, body)
    _open(client, body)
    busy = client.post(
        UPLOADS,
        {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()},
        content_type="application/json",
    )
    assert busy.status_code == 429
    assert len(list(upload.conf.upload_dir().glob("*.part"))) == 2
    later = timezone.now() + upload.STALE_AFTER + dt.timedelta(minutes=1)
    assert upload.remove_stale(later) == 2
    assert not UploadSession.objects.exists()
    assert not list(upload.conf.upload_dir().glob("*.part"))
