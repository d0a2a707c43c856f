"""The package format without a database: signing, digests, row checks, mapping, deltas."""

import copy

import numpy as np
import pandas as pd
import pytest

from citycheck.exchange import package

KEY = package.new_private_key()
OTHER_KEY = package.new_private_key()
KEYS = {"jiangxi": package.public_key_of(KEY)}


def observations(values=(0.1 + 0.2, 1e-12, np.nan)):
    return pd.DataFrame(
        {
            "DATAFLOW": "national-2021",
            "REF_AREA": ["360100", "360400", "360102"][: len(values)],
            "INDICATOR": "green_space",
            "TIME_PERIOD": "2024",
            "SOURCE": "self_check",
            "OBS_VALUE": list(values),
            "UNIT_MEASURE": "%",
            "OBS_STATUS": "A",
            "COMMENT": ["", "说明, with a comma", ""][: len(values)],
        }
    )


def make(frame=None, **overrides):
    arguments = dict(
        package_id="jiangxi-2024-1",
        sender="jiangxi",
        receiver="national",
        dataflow="national-2021",
        round_={"year": 2024, "kind": "annual"},
        mapping={"code": "m", "version": "1"},
        created="2026-12-06T00:00:00+00:00",
        private_key=KEY,
    )
    arguments.update(overrides)
    return package.make_package(observations() if frame is None else frame, **arguments)


def test_a_package_reads_back_exactly_what_was_signed():
    verified = package.verify_package(make(), KEYS, receiver="national")
    frame = verified.observations
    assert frame["OBS_VALUE"].iloc[0] == 0.1 + 0.2  # shortest round-trip text, no rounding
    assert frame["OBS_VALUE"].iloc[1] == 1e-12
    assert np.isnan(frame["OBS_VALUE"].iloc[2])
    assert frame["COMMENT"].iloc[1] == "说明, with a comma"
    assert verified.manifest["counts"] == {"observations": 3, "places": 3, "indicators": 1}
    part = verified.manifest["parts"][0]
    assert part["sha256"] == package.sha256_hex(make()["parts"][package.OBSERVATIONS].encode())
    assert verified.digest == package.package_digest(make())


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (
            lambda p: p["parts"].__setitem__(
                "observations.csv", p["parts"]["observations.csv"].replace("360400", "360402")
            ),
            "digest_mismatch",
        ),
        (lambda p: p["manifest"].__setitem__("receiver", "national "), "bad_signature"),
        (lambda p: p["manifest"]["counts"].__setitem__("observations", 2), "bad_signature"),
        (lambda p: p["signature"].__setitem__("value", "AAAA"), "bad_signature"),
        (lambda p: p.__setitem__("signature", None), "bad_signature"),
        (lambda p: p["manifest"].__setitem__("sender", "guangdong"), "unknown_sender"),
        (lambda p: p.__setitem__("format_version", "9.0"), "unsupported_version"),
        (lambda p: p.pop("manifest"), "malformed"),
        (lambda p: p["parts"].__setitem__("extra.csv", ""), "malformed"),
    ],
)
def test_a_damaged_package_is_refused_with_its_reason(damage, code):
    document = copy.deepcopy(make())
    damage(document)
    with pytest.raises(package.PackageError) as refused:
        package.verify_package(document, KEYS, receiver="national")
    assert refused.value.code == code


def test_a_package_signed_by_another_key_or_for_another_receiver_is_refused():
    with pytest.raises(package.PackageError, match="bad_signature"):
        package.verify_package(make(private_key=OTHER_KEY), KEYS)
    with pytest.raises(package.PackageError, match="wrong_receiver"):
        package.verify_package(make(), KEYS, receiver="guangdong")


def test_a_table_whose_rows_disagree_with_the_signed_count_is_refused():
    document = make()
    text = document["parts"][package.OBSERVATIONS]
    shorter = text.rsplit("\n", 2)[0] + "\n"
    manifest = document["manifest"]
    manifest["parts"][0]["sha256"] = package.sha256_hex(shorter.encode())
    document["parts"][package.OBSERVATIONS] = shorter
    document["signature"] = package._sign(package.SIGNED_MANIFEST, manifest, KEY)
    with pytest.raises(package.PackageError, match="count_mismatch"):
        package.verify_package(document, KEYS)


def test_rows_are_checked_against_the_receivers_system_one_reason_each():
    frame = pd.concat(
        [
            observations((1.0,)),
            observations((2.0,)).assign(REF_AREA="110000"),  # unknown place
            observations((3.0,)).assign(REF_AREA="360400", INDICATOR="nope"),
            observations((4.0,)).assign(REF_AREA="360102", UNIT_MEASURE="‰"),
            observations((5.0,)).assign(REF_AREA="360103", TIME_PERIOD="2023"),
            observations((6.0,)).assign(REF_AREA="360402"),
            observations((7.0,)).assign(REF_AREA="360402"),  # duplicate of the row above
            observations((8.0,)).assign(REF_AREA="360403", DATAFLOW="other"),
        ],
        ignore_index=True,
    )
    text = package.observations_csv(frame).replace("8.0", "inf")
    frame = package.read_observations(text)
    problems = package.check_observations(
        frame,
        dataflow="national-2021",
        period="2024",
        places={"360100", "360400", "360102", "360103", "360402", "360403"},
        units={"green_space": "%"},
        raw=package.raw_values(text),
    )
    found = {(row.row, row.reason) for row in problems.itertuples()}
    assert found == {
        (2, "unknown_place"),
        (3, "unknown_indicator"),
        (4, "unit_mismatch"),
        (5, "period_outside_round"),
        (6, "duplicate_row"),
        (7, "duplicate_row"),
        (8, "wrong_dataflow"),
        (8, "bad_value"),
    }
    assert package.receipt_state(8, 7) == package.PARTIALLY_ACCEPTED
    assert package.receipt_state(8, 0) == package.ACCEPTED
    assert package.receipt_state(8, 8) == package.REJECTED


def test_a_table_with_another_header_is_refused():
    with pytest.raises(package.PackageError, match="bad_table"):
        package.read_observations("a,b\n1,2\n")


def test_receipts_are_signed_by_the_receiver_for_one_package():
    receipt = package.make_receipt(
        package_id="p1",
        package_digest="d1",
        receiver="national",
        sender="jiangxi",
        received="t",
        state="accepted",
        counts={"rows": 1, "accepted": 1, "rejected": 0},
        rejections=[],
        error=None,
        private_key=OTHER_KEY,
    )
    public = package.public_key_of(OTHER_KEY)
    assert (
        package.verify_receipt(receipt, public, package_id="p1", package_digest="d1")["state"]
        == "accepted"
    )
    with pytest.raises(package.PackageError, match="bad_receipt"):
        package.verify_receipt(receipt, KEYS["jiangxi"], package_id="p1", package_digest="d1")
    with pytest.raises(package.PackageError, match="bad_receipt"):
        package.verify_receipt(receipt, public, package_id="p2", package_digest="d1")
    forged = copy.deepcopy(receipt)
    forged["body"]["state"] = "rejected"
    with pytest.raises(package.PackageError, match="bad_receipt"):
        package.verify_receipt(forged, public, package_id="p1", package_digest="d1")


def test_codes_are_mapped_with_their_factor_and_unmapped_rows_set_aside():
    frame = pd.DataFrame(
        {"place": ["a", "a", "b"], "indicator": ["x", "own", "x"], "value": [1.5, 2.0, np.nan]}
    )
    entries = pd.DataFrame({"ours": ["x"], "theirs": ["X1"], "unit": ["人"], "factor": [10000.0]})
    mapped, unmapped = package.map_codes(frame, entries)
    assert mapped["indicator"].tolist() == ["X1", "X1"]
    assert mapped["value"].iloc[0] == 15000.0 and np.isnan(mapped["value"].iloc[1])
    assert mapped["ours_value"].iloc[0] == 1.5 and mapped["unit"].tolist() == ["人", "人"]
    assert unmapped["indicator"].tolist() == ["own"]


def test_only_rows_the_receiver_has_not_confirmed_as_they_are_now_are_changed():
    current = pd.DataFrame(
        {
            "place": ["a", "a", "b", "c"],
            "indicator": ["x", "y", "x", "x"],
            "value": [1.0, np.nan, 3.0, 4.0],
        }
    )
    confirmed = pd.DataFrame(
        {"place": ["a", "a", "b"], "indicator": ["x", "y", "x"], "value": [1.0, np.nan, 2.5]}
    )
    assert package.changed_rows(current, confirmed).tolist() == [False, False, True, True]
