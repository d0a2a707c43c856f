"""Submitting upward: the ledger, receipts, resubmitting what changed, corrections, and a
receiver that is down. The national side here is a small handler over the same format
functions (the two real instances meet in test_two_instances.py)."""

import json

import httpx
import numpy as np
import pytest

from citycheck.collection.models import Source
from citycheck.exchange import keys, package, services
from citycheck.exchange.models import (
    LedgerState,
    OutgoingPackage,
    PeerRelation,
    RowState,
    SentRow,
)
from citycheck.exchange.services import ExchangeError, save_peer

NATIONAL_KEY = package.new_private_key()
MAPPING = """\
mapping:
  code: test-system_to_national-test
  version: "{version}"
  ours: {{system: test-system, version: 2024}}
  theirs: {{system: national-test, version: 2024}}
pairs:
  - {{ours: green_space, theirs: N1, unit: "m²/人"}}
  - {{ours: built_density, theirs: N2, unit: "{density_unit}", factor: {factor}}}
unmapped:
  - {{ours: waterlogging, note: 国家体系无此指标}}
"""
NATIONAL_UNITS = {"N1": "m²/人", "N2": "万人/km²"}


def write_mapping(instance, *, version="1", density_unit="人/km²", factor=1):
    path = instance.CITYCHECK_EXCHANGE_MAPPINGS_DIR / f"test-{version}.yaml"
    path.write_text(
        MAPPING.format(version=version, density_unit=density_unit, factor=factor), encoding="utf-8"
    )


class National:
    """A receiver over the package functions: checks rows against NATIONAL_UNITS and
    answers a signed receipt; ``down`` makes it unreachable."""

    def __init__(self):
        self.down = False
        self.received = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        document = services.read_body(request.content, gzipped=True)
        verified = package.verify_package(
            document, {"jiangxi": keys.public_key()}, receiver="national"
        )
        self.received.append(verified)
        frame = verified.observations
        problems = package.check_observations(
            frame,
            dataflow="national-test",
            period="2024",
            places=set(frame["REF_AREA"]),
            units=NATIONAL_UNITS,
        )
        rejected = problems["row"].nunique()
        receipt = package.make_receipt(
            package_id=verified.manifest["package_id"],
            package_digest=verified.digest,
            receiver="national",
            sender="jiangxi",
            received="t",
            state=package.receipt_state(len(frame), rejected),
            counts={"rows": len(frame), "accepted": len(frame) - rejected, "rejected": rejected},
            rejections=[
                {
                    "row": int(p.row),
                    "column": p.column,
                    "reason": p.reason,
                    "message": package.REASONS[p.reason],
                }
                for p in problems.itertuples()
            ],
            error=None,
            private_key=NATIONAL_KEY,
        )
        return httpx.Response(200, json=receipt)


@pytest.fixture
def national(small_province, instance):
    peer = save_peer(
        code="national",
        name="国家城市体检平台",
        relation=PeerRelation.UPPER,
        public_key=package.public_key_of(NATIONAL_KEY),
        url="http://national.test",
    )
    handler = National()
    handler.peer = peer
    handler.client = httpx.Client(transport=httpx.MockTransport(handler))
    return handler


def send(small_province, national, **options):
    admin = small_province.users["province_admin"]
    outgoing = services.prepare_package(
        small_province.open_round, national.peer, acting_user=admin, **options
    )
    return services.send_package(outgoing, acting_user=admin, client=national.client, backoff=0)


def test_submit_reject_fix_resubmit_accept_then_correct(small_province, instance, national):
    write_mapping(instance)  # N2's unit is wrong: the national system counts 万人/km²
    first = send(small_province, national)
    places = len(small_province.places)
    assert first.state == LedgerState.PARTIALLY_ACCEPTED
    assert (first.rows, first.accepted_rows, first.rejected_rows) == (2 * places, places, places)
    frame = national.received[0].observations
    assert set(frame["INDICATOR"]) == {"N1", "N2"}  # waterlogging has no counterpart
    rejected = SentRow.objects.filter(package=first, state=RowState.REJECTED)
    assert {r.indicator.code for r in rejected} == {"built_density"}
    assert "UNIT_MEASURE" in rejected.first().reasons

    write_mapping(instance, version="2", density_unit="万人/km²", factor=0.0001)
    second = send(small_province, national)
    assert second.state == LedgerState.ACCEPTED and second.rows == places  # only the rejected rows
    sent = national.received[1].observations
    county = small_province.value(
        small_province.open_round, "county", indicator="built_density", source=Source.ADOPTED
    )
    row = sent[sent["REF_AREA"] == "360102"].iloc[0]
    assert row["OBS_VALUE"] == pytest.approx(county.value * 0.0001)
    assert national.received[1].manifest["mapping"] == {
        "code": "test-system_to_national-test",
        "version": "2",
    }
    with pytest.raises(ExchangeError):
        send(small_province, national)  # nothing left to send

    small_province.adopt(small_province.open_round, "county", "green_space", 99.5)
    flagged = services.changed_since_submission(national.peer, small_province.open_round)
    assert flagged[["place", "indicator", "value"]].values.tolist() == [
        ["360102", "green_space", 99.5]
    ]
    correction = send(small_province, national)
    assert correction.kind == "correction" and correction.rows == 1
    manifest = national.received[2].manifest
    assert set(manifest["corrects"]) == {first.package_id, second.package_id}
    assert national.received[2].observations["OBS_STATUS"].tolist() == ["R"]
    assert services.changed_since_submission(national.peer, small_province.open_round).empty


def test_a_receiver_that_is_down_leaves_an_undelivered_entry_and_nothing_submitted(
    small_province, instance, national
):
    write_mapping(instance)
    national.down = True
    outgoing = send(small_province, national)
    assert outgoing.state == LedgerState.UNDELIVERED and outgoing.attempts == 3
    assert "national.test" in outgoing.error
    assert not SentRow.objects.exclude(state=RowState.PENDING).exists()
    assert services.confirmed_values(national.peer, small_province.open_round).empty
    national.down = False
    again = services.send_package(
        outgoing, acting_user=small_province.users["province_admin"], client=national.client
    )
    assert again.state == LedgerState.PARTIALLY_ACCEPTED and again.attempts == 4


def test_the_worker_sends_undelivered_packages_again_until_a_person_must_look(
    small_province, instance, national, monkeypatch
):
    """The periodic resend delivers a package once the receiver is back; one that has used
    up its automatic attempts is left for a person to send from the ledger."""
    from django.utils import timezone

    from citycheck.exchange import periodic

    write_mapping(instance)
    national.down = True
    outgoing = send(small_province, national)
    given_up = send(small_province, national, only_changed=False)
    OutgoingPackage.objects.filter(pk=given_up.pk).update(attempts=periodic.MAX_AUTOMATIC_ATTEMPTS)
    monkeypatch.setattr(
        services, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(national))
    )

    assert periodic.resend_undelivered(timezone.now()) == {"resent": 1, "receipted": 0}
    outgoing.refresh_from_db()
    assert outgoing.state == LedgerState.UNDELIVERED and outgoing.attempts == 4

    national.down = False
    assert periodic.resend_undelivered(timezone.now()) == {"resent": 1, "receipted": 1}
    outgoing.refresh_from_db()
    given_up.refresh_from_db()
    assert outgoing.state == LedgerState.PARTIALLY_ACCEPTED and outgoing.attempts == 5
    assert given_up.state == LedgerState.UNDELIVERED


def test_a_receipt_not_signed_by_the_peer_changes_nothing(small_province, instance, national):
    write_mapping(instance)
    admin = small_province.users["province_admin"]
    outgoing = services.prepare_package(small_province.open_round, national.peer, acting_user=admin)
    forged = package.make_receipt(
        package_id=outgoing.package_id,
        package_digest=outgoing.digest,
        receiver="national",
        sender="jiangxi",
        received="t",
        state="accepted",
        counts={"rows": outgoing.rows, "accepted": outgoing.rows, "rejected": 0},
        rejections=[],
        error=None,
        private_key=package.new_private_key(),
    )
    with pytest.raises(ExchangeError):
        services.apply_receipt(outgoing, forged, acting_user=admin)
    outgoing.refresh_from_db()
    assert outgoing.state == LedgerState.PREPARED
    client = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: httpx.Response(403, json={"code": "bad_signature", "message": "签名无效"})
        )
    )
    refused = services.send_package(outgoing, acting_user=admin, client=client)
    assert refused.state == LedgerState.REFUSED and "签名无效" in refused.error
    assert services.confirmed_values(national.peer, small_province.open_round).empty


def test_only_managers_submit_and_a_round_without_mapping_is_refused(
    small_province, instance, national
):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.prepare_package(
            small_province.open_round, national.peer, acting_user=small_province.users["city_admin"]
        )
    with pytest.raises(ExchangeError, match="映射"):
        services.prepare_package(
            small_province.open_round,
            national.peer,
            acting_user=small_province.users["province_admin"],
        )
    assert np.isnan(np.nan) and json.dumps({})


class Watched:
    """A stand-in for the job a submission runs in: records the progress it is told."""

    def __init__(self, user):
        self.created_by, self.reports = user, []

    def report(self, percent, message=""):
        self.reports.append((percent, message))


def test_submitting_runs_as_a_job_with_progress_and_a_down_receiver_is_never_submitted(
    client, small_province, instance, national, monkeypatch
):
    from citycheck.core.models import Job
    from citycheck.exchange import jobs

    write_mapping(instance, version="2", density_unit="万人/km²", factor=0.0001)
    monkeypatch.setattr(
        services, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(national))
    )
    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    admin = small_province.users["province_admin"]
    national.down = True
    watched = Watched(admin)
    result = jobs.submit_job(
        watched, round_id=small_province.open_round.pk, peer_id=national.peer.pk
    )
    steps = [message for _percent, message in watched.reports]
    assert [s for s in steps if s.startswith(("打包", "签名", "发送", "核验"))] == [
        f"打包 {2 * len(small_province.places)} 行观测值",
        "签名",
        "发送（第 1 次）",
        "发送（第 2 次）",
        "发送（第 3 次）",
        "核验回执",
    ]
    assert any("秒后重试" in s for s in steps)
    percents = [p for p, _m in watched.reports]
    assert percents == sorted(percents) and percents[-1] == 100
    assert result["state"] == LedgerState.UNDELIVERED and "未送达" in steps[-1]
    assert services.confirmed_values(national.peer, small_province.open_round).empty

    # The ledger page's button starts the job to send it again (inline in tests).
    national.down = False
    client.force_login(admin)
    response = client.post(f"/exchange/sent/{result['package_id']}/retry/")
    job = Job.objects.get(kind="exchange.send")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.SUCCEEDED and "接收" in job.message
    page = client.get(response["Location"]).content.decode()
    assert f"/exchange/sent/{result['package_id']}/" in page
    assert len(services.confirmed_values(national.peer, small_province.open_round)) == 2 * len(
        small_province.places
    )
