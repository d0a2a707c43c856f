"""The console commands (offline hand-over, mapping checks) and the demo's national peer."""

import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from citycheck.exchange import keys, package
from citycheck.exchange.demo import load_national_peer
from citycheck.exchange.mappings import MappingError, coverage, read_mapping
from citycheck.exchange.models import LedgerState, OutgoingPackage, Peer, PeerRelation

from .test_submit import NATIONAL_KEY, write_mapping

SHIPPED = Path(django_settings.DATA_DIR) / "exchange" / "mappings"


def test_the_shipped_mapping_covers_every_national_indicator_and_explains_the_rest():
    import yaml

    systems = Path(django_settings.DATA_DIR) / "systems"
    national = yaml.safe_load((systems / "national-2021.yaml").read_text(encoding="utf-8"))
    jiangxi = yaml.safe_load((systems / "jiangxi-2021.yaml").read_text(encoding="utf-8"))
    units = {i["code"]: i["unit"] for i in national["indicators"]}
    ours = {**units, **{i["code"]: i["unit"] for i in jiangxi["indicators"]}}
    mapping = read_mapping(SHIPPED / "jiangxi-2021_to_national-2021.yaml")
    table = coverage(mapping, ours, their_units=units)
    counts = table["status"].value_counts().to_dict()
    assert counts == {"mapped": len(units), "unmapped": len(jiangxi["indicators"])}
    pairs = mapping.pairs.set_index("theirs")
    assert all(pairs.at[code, "unit"] == unit for code, unit in units.items())


def test_a_bad_mapping_file_names_file_line_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "mapping:\n"
        "  code: m\n"
        '  version: "1"\n'
        "  ours: {system: a, version: 1}\n"
        "  theirs: {system: b, version: 1}\n"
        "pairs:\n"
        "  - {ours: x, theirs: X, unit: '%'}\n"
        "  - {ours: x, theirs: Y, unit: '%', factor: -1}\n"
        "  - {ours: z, theirs: X, unit: '%', colour: red}\n"
        "unmapped:\n"
        "  - {ours: x, note: 无对应}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as refused:
        read_mapping(path)
    found = {(i.line, i.field) for i in refused.value.issues}
    assert found == {
        (8, "pairs[1].factor"),
        (8, "pairs[1].ours"),
        (9, "pairs[2].colour"),
        (9, "pairs[2].theirs"),
        (11, "unmapped[0].ours"),
    }
    assert all(i.file == str(path) for i in refused.value.issues)
    with pytest.raises(CommandError):
        call_command("exchange", "mappings", str(path))


def test_export_import_and_receipt_by_file(small_province, instance, tmp_path, capsys):
    """The province exports to a file; the receiving side (here the same database,
    receiving as if from a lower peer) imports it and writes a receipt file."""
    write_mapping(instance, version="2", density_unit="万人/km²", factor=0.0001)
    Peer.objects.create(
        code="national",
        name="国家",
        relation=PeerRelation.UPPER,
        public_key=package.public_key_of(NATIONAL_KEY),
    )
    out = tmp_path / "p.json"
    call_command(
        "exchange",
        "export",
        "2024",
        "--peer",
        "national",
        "--user",
        "province_admin",
        "--out",
        str(out),
    )
    outgoing = OutgoingPackage.objects.get()
    document = json.loads(out.read_text(encoding="utf-8"))
    assert package.package_digest(document) == outgoing.digest
    verified = package.verify_package(document, {"jiangxi": keys.public_key()})
    receipt = package.make_receipt(
        package_id=outgoing.package_id,
        package_digest=verified.digest,
        receiver="national",
        sender="jiangxi",
        received="t",
        state="accepted",
        counts={"rows": outgoing.rows, "accepted": outgoing.rows, "rejected": 0},
        rejections=[],
        error=None,
        private_key=NATIONAL_KEY,
    )
    receipt_file = tmp_path / "r.json"
    receipt_file.write_text(json.dumps(receipt), encoding="utf-8")
    call_command("exchange", "receipt", str(receipt_file), "--user", "province_admin")
    outgoing.refresh_from_db()
    assert outgoing.state == LedgerState.ACCEPTED and outgoing.accepted_rows == outgoing.rows
    with pytest.raises(CommandError, match="没有需要报送"):
        call_command(
            "exchange",
            "export",
            "2024",
            "--peer",
            "national",
            "--user",
            "province_admin",
            "--out",
            str(out),
        )
    # Nothing new to send, but the problem list asked for: a package of that part alone;
    # the release asked for without one published: refused, nothing written.
    export = ["exchange", "export", "2024", "--peer", "national", "--user", "province_admin"]
    call_command(*export, "--with", "problems", "--out", str(tmp_path / "problems.json"))
    parts = json.loads((tmp_path / "problems.json").read_text(encoding="utf-8"))["parts"]
    assert sorted(parts) == [package.OBSERVATIONS, package.PROBLEMS]
    with pytest.raises(CommandError, match="已发布"):
        call_command(*export, "--with", "release", "--out", str(tmp_path / "release.json"))
    assert OutgoingPackage.objects.count() == 2
    # A package file from an unknown sender is refused with its reason.
    with pytest.raises(CommandError, match="unknown_sender"):
        call_command("exchange", "import", str(out), "--receipt", str(tmp_path / "x.json"))


def test_the_demo_records_the_national_peer_whose_key_demo_peer_uses(
    small_province, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    load_national_peer(lambda text: None)
    peer = Peer.objects.get(code="national")
    assert peer.relation == PeerRelation.UPPER and peer.url == "http://127.0.0.1:8001"
    assert peer.public_key == package.public_key_of(
        keys.private_key(tmp_path / "demo-peer" / "exchange_key")
    )
    assert (tmp_path / "demo-peer" / "exchange_key").stat().st_mode & 0o077 == 0
