"""Methods and division codes handed down: the level above publishes them signed; the
level below pulls, sees what changed, adopts, and keeps its own (method files never
overwritten, places the level above does not list left alone). Indicator systems are in
test_views.py and test_two_instances.py."""

import shutil
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings

from citycheck.assessment.methods import method_files
from citycheck.exchange import distribution, keys, package
from citycheck.exchange.models import PeerRelation
from citycheck.exchange.services import ExchangeError, save_peer
from citycheck.places.models import Place

from .test_submit import NATIONAL_KEY

OURS = Path(django_settings.DATA_DIR) / "methods" / "jiangxi-index-v2.yaml"


def _signed(kind, text, about, key=NATIONAL_KEY):
    return package.make_reference_package(
        kind,
        text,
        package_id=f"national-{kind}",
        sender="national",
        about=about,
        created="t",
        private_key=key,
    )


@pytest.fixture
def upper(small_province, instance, monkeypatch):
    """The national peer, answering from ``upper.answers`` (path → JSON)."""
    peer = save_peer(
        code="national",
        name="国家城市体检平台",
        relation=PeerRelation.UPPER,
        public_key=package.public_key_of(NATIONAL_KEY),
        url="http://national.test",
    )
    peer.answers = {}

    def handler(request):
        return httpx.Response(200, json=peer.answers[request.url.path])

    monkeypatch.setattr(
        distribution, "_client", lambda client: httpx.Client(transport=httpx.MockTransport(handler))
    )
    return peer


def test_pull_a_method_see_what_changes_and_adopt_it_keeping_our_own(
    client, settings, tmp_path, small_province, upper
):
    settings.CITYCHECK_METHODS_DIR = tmp_path / "methods"
    settings.CITYCHECK_METHODS_DIR.mkdir()
    shutil.copy(OURS, settings.CITYCHECK_METHODS_DIR)
    theirs = (
        OURS.read_text(encoding="utf-8")
        .replace("code: jiangxi-index", "code: national-index")
        .replace("version: 2", "version: 1")
        .replace("normalise: {method: minmax, low: 1, high: 100}", "normalise: {method: zscore}")
    )
    name = "national-index-v1.yaml"
    upper.answers["/api/exchange/methods/"] = [{"name": name, "code": "national-index"}]
    upper.answers[f"/api/exchange/methods/{name}/"] = _signed(
        "method", theirs, {"method": {"name": name, "code": "national-index", "version": 1}}
    )
    admin = small_province.users["province_admin"]
    changes, adopted = distribution.pull_method(upper, name, acting_user=admin)
    assert adopted is None and name not in method_files()
    changed = dict(zip(changes["field"], changes["new"], strict=True))
    assert changed["code"] == "national-index" and changed["steps.normalise.method"] == "zscore"
    # The manager's page lists it, shows what it changes, and adopts it.
    client.force_login(admin)
    page = client.get(f"/exchange/peers/{upper.pk}/methods/").content.decode()
    assert name in page and 'data-testid="reference-changes"' not in page
    page = client.get(f"/exchange/peers/{upper.pk}/methods/", {"name": name}).content.decode()
    assert 'data-testid="reference-changes"' in page and "zscore" in page
    response = client.post(f"/exchange/peers/{upper.pk}/methods/", {"name": name})
    assert response.status_code == 302 and response["Location"].endswith("/methods/")
    adopted = settings.CITYCHECK_METHODS_DIR / name
    assert adopted.read_text(encoding="utf-8") == theirs
    assert method_files() == [OURS.name, name]
    assert (settings.CITYCHECK_METHODS_DIR / OURS.name).read_bytes() == OURS.read_bytes()

    # A method of ours by the same name is never overwritten; a forged package is refused.
    upper.answers[f"/api/exchange/methods/{OURS.name}/"] = _signed(
        "method", theirs, {"method": {"name": OURS.name, "code": "national-index", "version": 1}}
    )
    with pytest.raises(ExchangeError, match="不会被覆盖"):
        distribution.pull_method(upper, OURS.name, acting_user=admin, adopt=True)
    assert (settings.CITYCHECK_METHODS_DIR / OURS.name).read_bytes() == OURS.read_bytes()
    upper.answers[f"/api/exchange/methods/{name}/"] = _signed(
        "method",
        theirs,
        {"method": {"name": name, "code": "national-index", "version": 1}},
        key=package.new_private_key(),
    )
    with pytest.raises(ExchangeError, match="签名无效"):
        distribution.pull_method(upper, name, acting_user=admin)


def test_pull_division_codes_see_what_changes_and_adopt_them(client, small_province, upper):
    ours = distribution.divisions_text()
    lines = ours.splitlines()
    # The level above: one county added, one renamed, one of ours not listed, and another
    # province (not ours: left out of the comparison and the load).
    theirs = "\n".join(
        [line.replace("濂溪区", "濂溪新区") for line in lines if not line.startswith("360403")]
        + [
            "360104,青云谱区,Qingyunpu District,county,360100,district",
            "110000,北京市,Beijing,province,,province",
            "110101,东城区,Dongcheng District,county,110000,district",
        ]
    )
    upper.answers["/api/exchange/divisions/"] = _signed(
        "divisions", theirs + "\n", {"divisions": {"places": len(lines) + 2}}
    )
    admin = small_province.users["province_admin"]
    changes, counts = distribution.pull_divisions(upper, acting_user=admin)
    assert counts is None and not Place.objects.filter(code="360104").exists()
    found = {(c.code, c.change, c.field) for c in changes.itertuples()}
    assert found == {
        ("360104", "added", ""),
        ("360402", "changed", "name_zh"),
        ("360403", "not_listed", ""),
    }
    client.force_login(admin)
    page = client.get(f"/exchange/peers/{upper.pk}/divisions/").content.decode()
    assert 'data-testid="reference-changes"' in page and "濂溪新区" in page
    response = client.post(f"/exchange/peers/{upper.pk}/divisions/")
    assert response.status_code == 302
    added = Place.objects.get(code="360104")
    assert added.parent.code == "360100" and added.path.endswith("/360100/360104/")
    assert Place.objects.get(code="360402").name_zh == "濂溪新区"
    assert Place.objects.filter(code="360403", active=True).exists()  # ours, kept
    assert not Place.objects.filter(code__startswith="11").exists()  # not our province


def test_this_instance_publishes_its_methods_and_divisions_signed(client, small_province, instance):
    listed = client.get("/api/exchange/methods/").json()
    assert {m["name"] for m in listed} == set(method_files())
    name = listed[0]["name"]
    signed = client.get(f"/api/exchange/methods/{name}/").json()
    verified = package.verify_package(signed, {"jiangxi": keys.public_key()})
    assert verified.manifest["kind"] == "method" and verified.manifest["method"]["name"] == name
    assert client.get("/api/exchange/methods/nope.yaml/").status_code == 404
    signed = client.get("/api/exchange/divisions/").json()
    verified = package.verify_package(signed, {"jiangxi": keys.public_key()})
    text = verified.parts[package.DIVISIONS_PART]
    assert text.splitlines()[1].startswith("360000,") and len(text.splitlines()) == 1 + len(
        small_province.places
    )
