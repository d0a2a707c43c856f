"""Two real instances on loopback: this test process is the province (its test database),
and a child process is the national platform (its own SQLite file, key and settings,
set up and served by ``citycheck exchange demo-peer``). They exchange over HTTP:
submit → rows rejected → mapping fixed → resubmit only those rows → accepted; a
duplicate post; a tampered package."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings
from django.db import connection

from citycheck.collection.models import ChangeChannel, Source
from citycheck.collection.services import ValueEntry, open_round, write_values
from citycheck.core.choices import Role
from citycheck.exchange import demo_peer, package, services
from citycheck.exchange.models import LedgerState, PeerRelation, RowState, SentRow
from citycheck.indicators.services import import_system_file
from citycheck.places.models import Place, PlaceLevel
from citycheck.places.services import load_divisions
from citycheck.testing import build_user

MAPPING = (
    Path(django_settings.DATA_DIR) / "exchange" / "mappings" / "jiangxi-2021_to_national-2021.yaml"
)
SYSTEMS = Path(django_settings.DATA_DIR) / "systems"
# A wrong unit for one indicator in an earlier mapping version: its rows are rejected.
WRONG = ("park_green_area_per_capita", "平方米/人", "公顷/人")


def _national_2025(directory: Path) -> Path:
    """A new version of the national system for the national instance to publish: one
    indicator added, one unit changed."""
    import yaml

    data = yaml.safe_load((SYSTEMS / "national-2021.yaml").read_text(encoding="utf-8"))
    data["version"] = 2025
    data["base_figures"] = str(SYSTEMS / data["base_figures"])
    data["departments"] = str((SYSTEMS / data["departments"]).resolve())
    by_code = {i["code"]: i for i in data["indicators"]}
    by_code["cluster_size"]["unit"] = "公顷"
    added = dict(
        by_code["greenway_coverage"], code="pocket_park_coverage", name_zh="口袋公园覆盖率"
    )
    added.pop("number", None)
    data["indicators"].append(added)
    path = directory / "national-2025.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def national(tmp_path_factory, django_db_setup, django_db_blocker):
    """The national instance: database copied from the migrated test database when it is
    SQLite (no second migration), set up and served by ``citycheck exchange demo-peer``."""
    directory = tmp_path_factory.mktemp("national")
    province_key = package.new_private_key()
    (directory / "province_key").write_text(province_key.hex())
    env = demo_peer.environment(directory)
    env.pop("DATABASE_URL_TEST", None)
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(directory / "national.sqlite3")
            connection.connection.backup(target)
            target.close()
    new_version = _national_2025(directory)
    port = _free_port()
    log = open(directory / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "citycheck",
            "exchange",
            "demo-peer",
            "--port",
            str(port),
            "--lower-code",
            "jiangxi",
            "--lower-key",
            package.public_key_of(province_key),
            "--year",
            "2024",
            "--system",
            str(new_version),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a fresh database migrates first (PostgreSQL runs)
    info = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            info = httpx.get(url + "/api/exchange/instance/", timeout=2).json()
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    if info is None:
        process.terminate()
        process.wait(10)
        raise AssertionError((directory / "server.log").read_text(errors="replace")[-3000:])
    yield {
        "url": url,
        "info": info,
        "db": directory / "national.sqlite3",
        "province_key": province_key,
        "directory": directory,
    }
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def national_query(national, sql, *parameters):
    with sqlite3.connect(national["db"]) as db:
        return db.execute(sql, parameters).fetchall()


@pytest.fixture
def province(national, settings, tmp_path, db):
    """The province's side: divisions, the Jiangxi system, a 2024 round over the cities
    with adopted values, and the national platform as its upper peer."""
    key_file = tmp_path / "exchange_key"
    key_file.write_text(national["province_key"].hex())
    settings.CITYCHECK_INSTANCE_CODE = "jiangxi"
    settings.CITYCHECK_EXCHANGE_KEY_FILE = key_file
    settings.CITYCHECK_EXCHANGE_MAPPINGS_DIR = tmp_path / "mappings"
    (tmp_path / "mappings").mkdir()
    load_divisions()
    import_system_file(SYSTEMS / "national-2021.yaml")
    system = import_system_file(SYSTEMS / "jiangxi-2021.yaml")
    admin = build_user("jx_admin", Role.PROVINCE_ADMIN, Place.objects.get(code="360000"))
    cities = list(Place.objects.filter(level=PlaceLevel.CITY).order_by("code")[:4])
    round_ = open_round(year=2024, system=system, places=cities, acting_user=admin)
    entries = [
        ValueEntry(place, indicator, float(10 + n + 0.125 * p))
        for p, place in enumerate(cities)
        for n, indicator in enumerate(system.all_indicators().order_by("code"))
    ]
    write_values(
        round_, Source.ADOPTED, entries, acting_user=admin, channel=ChangeChannel.ACCEPTANCE
    )
    peer = services.save_peer(
        code="national",
        name="国家城市体检平台",
        relation=PeerRelation.UPPER,
        public_key=national["info"]["public_key"],
        url=national["url"],
        acting_user=admin,
    )
    return {
        "round": round_,
        "admin": admin,
        "peer": peer,
        "cities": cities,
        "mappings": tmp_path / "mappings",
    }


def test_submit_reject_fix_resubmit_accept_duplicate_and_tampered(national, province):
    text = MAPPING.read_text(encoding="utf-8")
    code, right, wrong = WRONG
    bad = text.replace('version: "2021.1"', 'version: "2021.0"').replace(
        f'{{ours: {code}, theirs: {code}, unit: "{right}"}}',
        f'{{ours: {code}, theirs: {code}, unit: "{wrong}"}}',
    )
    assert bad.count(wrong) == 1
    (province["mappings"] / "v2021.0.yaml").write_text(bad, encoding="utf-8")
    admin, peer, round_ = province["admin"], province["peer"], province["round"]
    cities = len(province["cities"])

    first = services.prepare_package(round_, peer, acting_user=admin)
    first = services.send_package(first, acting_user=admin)
    assert first.state == LedgerState.PARTIALLY_ACCEPTED, first.error
    assert first.rows == 67 * cities and first.rejected_rows == cities
    rejected = SentRow.objects.filter(package=first, state=RowState.REJECTED)
    assert {r.indicator.code for r in rejected} == {code}
    assert "UNIT_MEASURE" in rejected.first().reasons
    adopted = "SELECT count(*) FROM collection_value WHERE source = 'adopted'"
    assert national_query(national, adopted) == [(66 * cities,)]

    shutil.copy(MAPPING, province["mappings"] / "v2021.1.yaml")  # the fixed mapping
    second = services.send_package(
        services.prepare_package(round_, peer, acting_user=admin), acting_user=admin
    )
    assert second.state == LedgerState.ACCEPTED and second.rows == cities
    assert second.mapping_version == "2021.1"
    assert national_query(national, adopted) == [(67 * cities,)]
    stored = national_query(
        national,
        "SELECT v.value FROM collection_value v JOIN places_place p ON p.id = v.place_id "
        "JOIN indicators_indicator i ON i.id = v.indicator_id "
        "WHERE v.source = 'adopted' AND p.code = ? AND i.code = ?",
        province["cities"][1].code,
        code,
    )
    sorted_codes = sorted(round_.system.all_indicators().values_list("code", flat=True))
    assert stored == [(10 + sorted_codes.index(code) + 0.125,)]
    channel = national_query(national, "SELECT DISTINCT channel FROM collection_valuechange")
    assert channel == [(ChangeChannel.EXCHANGE.value,)]

    url = national["url"] + services.RECEIVE_PATH
    body = gzip.compress(second.package.encode())
    repeated = httpx.post(url, content=body, headers={"Content-Encoding": "gzip"})
    assert repeated.status_code == 200 and repeated.json() == second.receipt
    received = "SELECT count(*) FROM exchange_receivedpackage"
    assert national_query(national, received) == [(2,)]

    document = json.loads(second.package)
    part = document["parts"][package.OBSERVATIONS]
    document["parts"][package.OBSERVATIONS] = part.replace(",A,", ",R,", 1)
    tampered = httpx.post(url, json=document)
    assert tampered.status_code == 400 and tampered.json()["code"] == "digest_mismatch"
    assert national_query(national, received) == [(2,)]
    assert os.path.exists(national["db"])


def test_pull_a_new_national_system_version_see_changes_and_adopt(national, province):
    from citycheck.exchange import distribution
    from citycheck.indicators.models import IndicatorSystem

    peer, admin = province["peer"], province["admin"]
    listed = {(s["code"], s["version"]) for s in distribution.available(peer)}
    assert ("national-2021", 2025) in listed
    changes, adopted, extensions = distribution.pull_system(
        peer, "national-2021", 2025, acting_user=admin
    )
    assert adopted is None and not IndicatorSystem.objects.filter(version=2025).exists()
    found = {(c.indicator, c.change, c.field) for c in changes.itertuples()}
    assert found == {("pocket_park_coverage", "added", ""), ("cluster_size", "changed", "unit")}
    assert [s.code for s in extensions] == ["jiangxi-2021"]  # ours, still on 2021
    _changes, adopted, _extensions = distribution.pull_system(
        peer, "national-2021", 2025, acting_user=admin, adopt=True
    )
    assert adopted.version == 2025 and adopted.indicators.count() == 68
    assert adopted.indicators.get(code="cluster_size").unit == "公顷"
    assert IndicatorSystem.objects.get(code="jiangxi-2021").extends.version == 2021


class DropsOnce(httpx.HTTPTransport):
    """Loopback transport that loses the connection on the third chunk, once; counts the
    bytes of every chunk that reached the receiver."""

    def __init__(self):
        super().__init__()
        self.chunks, self.dropped = [], False

    def handle_request(self, request):
        if request.method == "PUT":
            if len(self.chunks) == 2 and not self.dropped:
                self.dropped = True
                raise httpx.ConnectError("connection reset", request=request)
            self.chunks.append(len(request.read()))
        return super().handle_request(request)


def test_a_large_package_goes_in_chunks_and_an_interrupted_upload_resumes(
    national, province, settings
):
    settings.CITYCHECK_EXCHANGE_CHUNK_BYTES = 512
    shutil.copy(MAPPING, province["mappings"] / "v2021.1.yaml")
    admin, peer = province["admin"], province["peer"]
    outgoing = services.prepare_package(
        province["round"], peer, acting_user=admin, only_changed=False
    )
    transport = DropsOnce()
    with httpx.Client(transport=transport) as client:
        sent = services.send_package(outgoing, acting_user=admin, client=client, backoff=0)
    size = len(gzip.compress(outgoing.package.encode("utf-8"), compresslevel=5))
    assert size > 4 * 512 and transport.dropped
    assert sent.state == LedgerState.ACCEPTED and sent.attempts == 2, sent.error
    assert sum(transport.chunks) == size  # nothing sent twice: resumed at the offset
    assert sent.upload_url.startswith(national["url"] + "/api/exchange/uploads/")
    again = httpx.post(sent.upload_url + "finish/")
    assert again.status_code == 200 and again.json() == sent.receipt
