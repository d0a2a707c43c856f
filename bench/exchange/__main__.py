"""Exchange benchmark: ``python -m bench.exchange [--quick]``.

A national round, 3,000 places × 70 indicators (210,000 adopted values), goes from a
provincial instance to a national one on loopback: packaged and signed
(:func:`citycheck.exchange.services.prepare_package`), sent gzipped over HTTP, verified,
checked row by row and imported by the receiver (a second process: its own SQLite
database, key and settings, served by Django's threaded server), and the signed receipt
entered in the ledger (:func:`~citycheck.exchange.services.send_package`). Target ≤ 30 s.

Peers in the same run: the format functions alone in memory (no database, no HTTP), and
the same table as JSON records instead of CSV (size and time), to show what the CSV part
saves; and the same round sent again as a resumable upload in 1 MiB chunks
(``chunked``). Prints one JSON object. ``--quick``: 300 places.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.engine._common import report, timed

N_INDICATORS = 70
PREFIX = 12


def _setup_django(directory: Path, *, code: str, settings_module: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
            "CITYCHECK_VAR_DIR": str(directory),
            "CITYCHECK_INSTANCE_CODE": code,
            "CITYCHECK_EXCHANGE_KEY_FILE": str(directory / "exchange_key"),
            "CITYCHECK_EXCHANGE_MAPPINGS_DIR": str(directory / "mappings"),
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _world(n_counties: int):
    """The same system, places and open round on both sides (bench.check's builders)."""
    from bench.check.__main__ import _administrator, _make_places, _make_system, _open_round

    system = _make_system()
    province, cities, counties = _make_places(n_counties, PREFIX)
    user = _administrator(province)
    places = [*cities, *counties]
    round_ = _open_round(system, places, user, 2024)
    return system, province, places, round_, user


def serve(directory: Path, port: int, lower_key: str, n_counties: int) -> None:
    """The receiving (national) instance."""
    _setup_django(directory, code="national", settings_module="citycheck.settings.dev")
    from django.core.management import call_command

    from citycheck.exchange.models import PeerRelation
    from citycheck.exchange.services import save_peer

    _system, province, _places, _round, user = _world(n_counties)
    save_peer(
        code="province",
        name="基准省",
        relation=PeerRelation.LOWER,
        public_key=lower_key,
        place=province,
        acting_user=user,
    )
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, verbosity=0)


def _mapping(directory: Path, system) -> None:
    (directory / "mappings").mkdir(exist_ok=True)
    lines = [
        "mapping:",
        "  code: bench_to_bench",
        '  version: "1"',
        "  ours: {system: bench, version: 2024}",
        "  theirs: {system: bench, version: 2024}",
        "pairs:",
    ]
    for code, unit in system.indicators.values_list("code", "unit"):
        lines.append(f'  - {{ours: {code}, theirs: {code}, unit: "{unit}"}}')
    (directory / "mappings" / "bench.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _peers(document: dict, public_key: str, units: dict, places: set) -> dict:
    """The format functions alone, and JSON records instead of the CSV table."""
    import pandas as pd

    from citycheck.exchange import package

    frame = package.read_observations(document["parts"][package.OBSERVATIONS])
    timings: dict = {}
    with timed(timings, "format_make_and_sign_s"):
        made = package.make_package(
            frame,
            package_id="peer",
            sender="province",
            receiver="national",
            dataflow="bench",
            round_={"year": 2024, "kind": "annual"},
            mapping={"code": "m", "version": "1"},
            created="t",
            private_key=bytes.fromhex(os.environ["BENCH_KEY"]),
        )
    with timed(timings, "format_verify_and_check_s"):
        verified = package.verify_package(made, {"province": public_key})
        problems = package.check_observations(
            verified.observations, dataflow="bench", period="2024", places=places, units=units
        )
    assert problems.empty
    with timed(timings, "json_records_encode_decode_s"):
        records = json.dumps(frame.to_dict("records"), ensure_ascii=False)
        pd.DataFrame.from_records(json.loads(records))
    timings["csv_part_bytes"] = len(made["parts"][package.OBSERVATIONS].encode())
    timings["json_records_bytes"] = len(records.encode())
    return timings


def _chunked(services, round_, peer, user, chunk_bytes: int = 1 << 20) -> dict:
    """The same round again (every value, a new package id) as a resumable upload in
    chunks of ``chunk_bytes``: the receiver's import finds nothing changed, so the
    difference to the one-shot send is the upload's own cost."""
    os.environ["CITYCHECK_EXCHANGE_CHUNK_BYTES"] = str(chunk_bytes)
    try:
        timings: dict = {}
        outgoing = services.prepare_package(round_, peer, acting_user=user, only_changed=False)
        with timed(timings, "send_validate_import_receipt_s"):
            outgoing = services.send_package(outgoing, acting_user=user)
        assert outgoing.state == "accepted", (outgoing.state, outgoing.error)
        size = len(services._gzip(outgoing.package))
        timings["chunk_bytes"] = chunk_bytes
        timings["chunks"] = -(-size // chunk_bytes)
        return timings
    finally:
        del os.environ["CITYCHECK_EXCHANGE_CHUNK_BYTES"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", nargs=3, metavar=("DIR", "PORT", "KEY"))
    parser.add_argument("--counties", type=int)
    arguments = parser.parse_args()
    n_counties = arguments.counties or (270 if arguments.quick else 2_970)
    if arguments.serve:
        directory, port, key = arguments.serve
        serve(Path(directory), int(port), key, n_counties)
        return

    import socket

    root = Path(tempfile.mkdtemp(prefix="bench-exchange-"))
    (root / "province").mkdir()
    (root / "national").mkdir()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from citycheck.exchange import package

    key = package.new_private_key()
    (root / "province" / "exchange_key").write_text(key.hex())
    os.environ["BENCH_KEY"] = key.hex()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(root / "national.log", "wb")  # noqa: SIM115
    receiver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.exchange",
            "--counties",
            str(n_counties),
            "--serve",
            str(root / "national"),
            str(port),
            package.public_key_of(key),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _setup_django(root / "province", code="province", settings_module="citycheck.settings.test")
        import httpx
        import numpy as np

        from citycheck.collection.models import Source, Value
        from citycheck.exchange import services
        from citycheck.exchange.models import PeerRelation

        system, _province, places, round_, user = _world(n_counties)
        rng = np.random.default_rng(0)
        indicators = list(system.indicators.all())
        Value.objects.bulk_create(
            (
                Value(
                    round=round_,
                    place=place,
                    indicator=indicator,
                    source=Source.ADOPTED,
                    value=float(rng.uniform(0, 100)),
                )
                for place in places
                for indicator in indicators
            ),
            batch_size=20_000,
        )
        _mapping(root / "province", system)
        deadline = time.monotonic() + 300
        info = None
        while time.monotonic() < deadline and receiver.poll() is None:
            try:
                info = httpx.get(
                    f"http://127.0.0.1:{port}/api/exchange/instance/", timeout=2
                ).json()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        if info is None:
            raise SystemExit((root / "national.log").read_text(errors="replace")[-3000:])
        peer = services.save_peer(
            code="national",
            name="国家",
            relation=PeerRelation.UPPER,
            public_key=info["public_key"],
            url=f"http://127.0.0.1:{port}",
            acting_user=user,
        )
        timings: dict = {}
        started = time.perf_counter()
        with timed(timings, "prepare_and_sign_s"):
            outgoing = services.prepare_package(round_, peer, acting_user=user)
        with timed(timings, "send_validate_import_receipt_s"):
            outgoing = services.send_package(outgoing, acting_user=user)
        timings["total_s"] = round(time.perf_counter() - started, 3)
        assert outgoing.state == "accepted", (outgoing.state, outgoing.error)
        chunked = _chunked(services, round_, peer, user)
        units = dict(system.indicators.values_list("code", "unit"))
        peers = _peers(
            json.loads(outgoing.package),
            package.public_key_of(key),
            units,
            {p.code for p in places},
        )
        report(
            {
                "scenario": "exchange: province → national on loopback",
                "places": len(places),
                "indicators": N_INDICATORS,
                "rows": outgoing.rows,
                "accepted_rows": outgoing.accepted_rows,
                "package_json_bytes": len(outgoing.package.encode()),
                "gzip_bytes": len(services._gzip(outgoing.package)),
                **timings,
                "target_total_s": 30,
                "chunked": chunked,
                "peers": peers,
            }
        )
    finally:
        receiver.terminate()
        try:
            receiver.wait(10)
        except subprocess.TimeoutExpired:
            receiver.kill()
        log.close()


if __name__ == "__main__":
    main()
