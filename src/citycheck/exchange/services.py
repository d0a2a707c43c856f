"""Writes of the exchange: peers, packages prepared and sent (the ledger), receipts, and
packages received. The format itself is in :mod:`citycheck.exchange.package`.

The sender's rule: a row counts as submitted only when the receiver's **signed receipt**
accepted it; an undelivered or refused package leaves its rows pending, and the next
package sends them again (with whatever changed since).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
import uuid

import httpx
import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.collection.adoption import adopted_values
from citycheck.collection.models import (
    ChangeChannel,
    Round,
    RoundStatus,
    Source,
    Value,
    ValueChange,
)
from citycheck.collection.services import indicators_owed
from citycheck.core.access import may
from citycheck.core.choices import Action
from citycheck.core.models import record_event
from citycheck.indicators.models import Indicator
from citycheck.places.models import Place

from . import conf, keys, package
from .mappings import Mapping, find_mapping
from .models import (
    LedgerState,
    OutgoingPackage,
    Peer,
    PeerRelation,
    ReceivedPackage,
    ReceivedRecord,
    RowState,
    SentRow,
)

RECEIVE_PATH = "/api/exchange/packages/"


class ExchangeError(Exception):
    """A refused exchange operation; ``message`` is shown to the user as is."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def _check_manager(user) -> None:
    if not may(user, Action.MANAGE):
        raise PermissionDenied(_("只有省级管理员可以进行平台间报送。"))


def _now_text() -> str:
    return timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds")


# ── peers ────────────────────────────────────────────────────────────────────────


@transaction.atomic
def save_peer(*, code, name, relation, public_key, url="", place=None, acting_user=None) -> Peer:
    """Record (or update) a peer; its public key must be a valid Ed25519 key."""
    try:
        package.key_id(public_key)
        import base64

        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
    except (ValueError, TypeError) as exc:
        raise ExchangeError(_("公钥无效：应为 base64 编码的 32 字节 Ed25519 公钥。")) from exc
    peer, _created = Peer.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "relation": relation,
            "public_key": public_key,
            "url": url,
            "place": place,
            "active": True,
        },
    )
    record_event(
        peer, "peer_saved", acting_user=acting_user, data={"key_id": package.key_id(public_key)}
    )
    return peer


# ── the sender: prepare, send, receipts ──────────────────────────────────────────


def confirmed_values(peer: Peer, round_: Round) -> pd.DataFrame:
    """The values (our codes) the peer's receipts accepted for the round, the latest per
    place and indicator: columns place, indicator, value."""
    rows = SentRow.objects.filter(
        package__peer=peer, package__round=round_, state=RowState.ACCEPTED
    ).order_by("package__created", "package_id", "row")
    frame = pd.DataFrame.from_records(
        rows.values_list("place__code", "indicator__code", "value"),
        columns=["place", "indicator", "value"],
    )
    return frame.drop_duplicates(["place", "indicator"], keep="last").reset_index(drop=True)


def changed_since_submission(peer: Peer, round_: Round) -> pd.DataFrame:
    """Adopted values edited here after the peer accepted them: place, indicator,
    submitted (what the peer holds) and value (ours now)."""
    confirmed = confirmed_values(peer, round_)
    if confirmed.empty:
        return pd.DataFrame(columns=["place", "indicator", "submitted", "value"])
    current = adopted_values(round_)[["place", "indicator", "value"]]
    merged = confirmed.rename(columns={"value": "submitted"}).merge(
        current, on=["place", "indicator"], how="left"
    )
    a, b = merged["submitted"].to_numpy(float), merged["value"].to_numpy(float)
    same = (np.isnan(a) & np.isnan(b)) | (a == b)
    return merged[~same].reset_index(drop=True)


def mapping_for(round_: Round, peer: Peer) -> Mapping:
    mapping = find_mapping((round_.system.code, round_.system.version))
    if mapping is None:
        raise ExchangeError(
            _("没有指标体系 %(system)s（%(version)s）到上级体系的代码映射文件。")
            % {"system": round_.system.code, "version": round_.system.version}
        )
    return mapping


def _no_report(percent: float, message: str = "") -> None:
    """The progress callback when nobody watches (commands, tests)."""


def prepare_package(
    round_: Round,
    peer: Peer,
    *,
    acting_user,
    mapping: Mapping | None = None,
    only_changed: bool = True,
    parts: tuple[str, ...] | list[str] = (),
    report=_no_report,
) -> OutgoingPackage:
    """Package the round's adopted values for ``peer`` (mapped to its codes) and enter it
    in the ledger as ``prepared``.

    With ``only_changed`` (the default) only values the peer has not yet accepted as they
    are now go: new ones, rejected ones, and ones edited here since (a correction, their
    rows marked ``R``). ``parts`` adds the round's release, problem list and project list
    (names of :data:`citycheck.exchange.package.EXTRA_PARTS`, see :mod:`.parts`). Raises
    :class:`ExchangeError` when there is nothing to send. ``report(percent, message)`` is
    told each step (packaging, signing); only the ledger entry is written, in one
    transaction at the end.
    """
    from . import parts as extra

    _check_manager(acting_user)
    if peer.relation != PeerRelation.UPPER:
        raise ExchangeError(_("只能向上级平台报送。"))
    mapping = mapping or mapping_for(round_, peer)
    report(5, _("读取采信值并映射到上级指标代码"))
    current = adopted_values(round_)
    confirmed = confirmed_values(peer, round_)
    if only_changed and not current.empty:
        current = current[package.changed_rows(current, confirmed).to_numpy()]
    mapped, _unmapped = package.map_codes(current.reset_index(drop=True), mapping.pairs)
    if mapped.empty and not parts:
        raise ExchangeError(_("没有需要报送的数据：上级平台已接收全部现有采信值。"))
    confirmed_keys = set(zip(confirmed["place"], confirmed["indicator"], strict=True))
    revised = np.array(
        [key in confirmed_keys for key in zip(mapped["place"], mapped["ours"], strict=True)],
        dtype=bool,
    )
    observations = pd.DataFrame(
        {
            "DATAFLOW": mapping.theirs[0],
            "REF_AREA": mapped["place"].to_numpy(),
            "INDICATOR": mapped["indicator"].to_numpy(),
            "TIME_PERIOD": str(round_.year),
            "SOURCE": mapped["source"].to_numpy(),
            "OBS_VALUE": mapped["value"].to_numpy(float),
            "UNIT_MEASURE": mapped["unit"].to_numpy(),
            "OBS_STATUS": np.where(revised, package.STATUS_REVISED, package.STATUS_NORMAL),
            "COMMENT": "",
        },
        columns=package.COLUMNS,
    )
    report(15, _("打包 %(rows)s 行观测值") % {"rows": len(observations)})
    extra_parts = extra.build_parts(round_, mapping, parts)
    kind = "correction" if revised.any() else "submission"
    package_id = f"{conf.instance_code()}-{round_.year}-{uuid.uuid4().hex[:16]}"
    earlier = list(
        OutgoingPackage.objects.filter(peer=peer, round=round_)
        .exclude(state__in=[LedgerState.PREPARED, LedgerState.UNDELIVERED, LedgerState.REFUSED])
        .values_list("package_id", flat=True)
    )
    report(30, _("签名"))
    document = package.make_package(
        observations,
        package_id=package_id,
        sender=conf.instance_code(),
        receiver=peer.code,
        dataflow=mapping.theirs[0],
        round_={"year": round_.year, "kind": round_.kind},
        mapping=mapping.reference,
        kind=kind,
        created=_now_text(),
        private_key=keys.private_key(),
        corrects=earlier if kind == "correction" else None,
        extra_parts=extra_parts,
    )
    report(35, _("记入报送台账"))
    with transaction.atomic():
        outgoing = OutgoingPackage.objects.create(
            package_id=package_id,
            peer=peer,
            round=round_,
            kind=kind,
            mapping_code=mapping.code,
            mapping_version=mapping.version,
            digest=package.package_digest(document),
            rows=len(observations),
            package=json.dumps(document, ensure_ascii=False, separators=(",", ":")),
            created_by=acting_user,
        )
        place_ids = dict(
            Place.objects.filter(code__in=set(mapped["place"])).values_list("code", "pk")
        )
        indicator_ids = dict(round_.system.all_indicators().values_list("code", "pk"))
        _insert_lines(
            outgoing,
            mapped["place"].map(place_ids),
            mapped["ours"].map(indicator_ids),
            mapped["indicator"],
            mapped["ours_value"].to_numpy(float),
        )
        record_event(
            outgoing,
            "package_prepared",
            acting_user=acting_user,
            data={
                "rows": outgoing.rows,
                "digest": outgoing.digest,
                "mapping": mapping.reference,
                "parts": sorted(extra_parts),
            },
        )
    return outgoing


def _insert_lines(outgoing, place_ids, indicator_ids, their_codes, values) -> None:
    """The package's rows in the ledger, one statement (a national round has 210,000)."""
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(c)
        for c in (
            "package_id",
            "row",
            "place_id",
            "indicator_id",
            "their_code",
            "value",
            "state",
            "reasons",
        )
    )
    rows = zip(
        [outgoing.pk] * len(values),
        range(1, len(values) + 1),
        place_ids.astype("int64").tolist(),
        indicator_ids.astype("int64").tolist(),
        their_codes.tolist(),
        np.where(np.isnan(values), None, values).tolist(),
        [RowState.PENDING.value] * len(values),
        [""] * len(values),
        strict=True,
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(SentRow._meta.db_table)} ({columns})"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            list(rows),
        )


def http_client() -> httpx.Client:
    """The client packages are sent with (one place, so tests can put a peer behind it)."""
    return httpx.Client(timeout=httpx.Timeout(300.0, connect=5.0))


def _gzip(document_text: str) -> bytes:
    return gzip.compress(document_text.encode("utf-8"), compresslevel=5)


def send_package(
    outgoing: OutgoingPackage,
    *,
    acting_user,
    attempts: int = 3,
    backoff: float = 0.5,
    client: httpx.Client | None = None,
    report=_no_report,
) -> OutgoingPackage:
    """Deliver the package to the peer, with retries, and enter the outcome in the ledger.

    Connection failures, timeouts and 5xx/429 answers are retried ``attempts`` times with
    doubling pauses; still failing, the entry is ``undelivered`` with the reason. A 4xx
    answer without a receipt makes it ``refused``. Only a receipt signed by the peer's
    key changes the rows' states. A body larger than ``CITYCHECK_EXCHANGE_CHUNK_BYTES``
    goes as a resumable upload (:mod:`.upload`): a retry continues where the receiver's
    copy stopped. ``report(percent, message)`` is told each attempt and the receipt.
    """
    from . import upload

    _check_manager(acting_user)
    if outgoing.has_receipt:
        return outgoing
    peer = outgoing.peer
    if not peer.url:
        raise ExchangeError(_("对端平台 %(peer)s 没有登记地址，请导出文件交换。") % {"peer": peer})
    body = _gzip(outgoing.package)
    chunked = len(body) > conf.chunk_bytes()
    url = peer.url.rstrip("/") + (upload.UPLOADS_PATH if chunked else RECEIVE_PATH)
    own_client = client is None
    client = client or http_client()
    error, response = "", None
    try:
        for attempt in range(attempts):
            if attempt:
                pause = backoff * 2 ** (attempt - 1)
                report(
                    40 + 10 * attempt,
                    _("第 %(n)s 次发送未成功，%(pause)s 秒后重试：%(error)s")
                    % {"n": attempt, "pause": pause, "error": error},
                )
                time.sleep(pause)
            report(40 + 10 * attempt, _("发送（第 %(n)s 次）") % {"n": attempt + 1})
            outgoing.attempts += 1
            try:
                if chunked:
                    response = upload.send_in_chunks(
                        outgoing, body, client=client, base_url=url, report=report
                    )
                else:
                    response = client.post(
                        url,
                        content=body,
                        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
                    )
            except httpx.HTTPError as exc:
                error = _("无法连接接收方 %(url)s：%(error)s") % {"url": url, "error": exc}
                response = None
                continue
            if response.status_code >= 500 or response.status_code == 429:
                error = _("接收方暂时无法处理（HTTP %(status)s）") % {
                    "status": response.status_code
                }
                response = None
                continue
            break
    finally:
        if own_client:
            client.close()
    report(90, _("核验回执"))
    outgoing.last_attempt = timezone.now()
    if response is None:
        outgoing.state, outgoing.error = LedgerState.UNDELIVERED, error
        outgoing.save(update_fields=["state", "error", "attempts", "last_attempt", "last_updated"])
        record_event(outgoing, "package_undelivered", acting_user=acting_user, note=error)
        return outgoing
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 200 and isinstance(answer, dict) and "body" in answer:
        outgoing.save(update_fields=["attempts", "last_attempt", "last_updated"])
        try:
            return apply_receipt(outgoing, answer, acting_user=acting_user)
        except ExchangeError as exc:
            # Delivered, but the answer proves nothing: the rows stay pending.
            outgoing.error = _("回执无效，未记为已报送：%(error)s") % {"error": exc.message}
            outgoing.save(update_fields=["error", "last_updated"])
            record_event(outgoing, "receipt_invalid", acting_user=acting_user, note=outgoing.error)
            return outgoing
    message = (answer or {}).get("message") if isinstance(answer, dict) else None
    outgoing.state = LedgerState.REFUSED
    outgoing.error = _("接收方拒收（HTTP %(status)s）：%(message)s") % {
        "status": response.status_code,
        "message": message or response.text[:500],
    }
    outgoing.save(update_fields=["state", "error", "attempts", "last_attempt", "last_updated"])
    record_event(outgoing, "package_refused", acting_user=acting_user, note=outgoing.error)
    return outgoing


def outcome_message(outgoing: OutgoingPackage) -> str:
    """What came of a package, for the user: the receipt's counts, or why nothing counts
    as submitted yet."""
    if outgoing.has_receipt:
        return _("上级平台回执：%(state)s（接收 %(accepted)s 行，退回 %(rejected)s 行）") % {
            "state": outgoing.get_state_display(),
            "accepted": outgoing.accepted_rows,
            "rejected": outgoing.rejected_rows,
        }
    if outgoing.state == LedgerState.PREPARED and not outgoing.error:
        return _("数据包已生成，请下载后以文件方式交给上级平台。")
    return f"{outgoing.get_state_display()}：{outgoing.error}"


@transaction.atomic
def apply_receipt(outgoing: OutgoingPackage, receipt, *, acting_user) -> OutgoingPackage:
    """Enter a receipt (from the HTTPS answer or a file) in the ledger: the package's
    state and each row's. Refused unless signed by the peer for this very package."""
    try:
        body = package.verify_receipt(
            receipt,
            outgoing.peer.public_key,
            package_id=outgoing.package_id,
            package_digest=outgoing.digest,
        )
    except package.PackageError as exc:
        raise ExchangeError(exc.message) from exc
    outgoing = OutgoingPackage.objects.select_for_update().get(pk=outgoing.pk)
    if outgoing.has_receipt:
        return outgoing
    state = body.get("state")
    if state not in (package.ACCEPTED, package.PARTIALLY_ACCEPTED, package.REJECTED):
        raise ExchangeError(_("回执状态无效：%(state)s") % {"state": state})
    lines = SentRow.objects.filter(package=outgoing)
    if state == package.REJECTED and not body.get("rejections"):
        error = body.get("error") or {}
        lines.update(state=RowState.REJECTED, reasons=error.get("message", ""))
    else:
        lines.update(state=RowState.ACCEPTED, reasons="")
        by_row: dict[int, list[str]] = {}
        for item in body.get("rejections", []):
            by_row.setdefault(int(item["row"]), []).append(
                f"{item.get('column', '')}: {item.get('message', item.get('reason', ''))}"
            )
        by_text: dict[str, list[int]] = {}
        for row, texts in by_row.items():
            by_text.setdefault("；".join(texts), []).append(row)
        for text, rows in by_text.items():
            for start in range(0, len(rows), 500):
                lines.filter(row__in=rows[start : start + 500]).update(
                    state=RowState.REJECTED, reasons=text
                )
    counts = body.get("counts", {})
    outgoing.state = state
    outgoing.receipt = receipt
    outgoing.receipt_at = timezone.now()
    outgoing.error = (body.get("error") or {}).get("message", "")
    outgoing.accepted_rows = int(counts.get("accepted", 0))
    outgoing.rejected_rows = int(counts.get("rejected", 0))
    outgoing.save()
    record_event(
        outgoing, "receipt_received", acting_user=acting_user, data={"state": state, **counts}
    )
    return outgoing


# ── the receiver ─────────────────────────────────────────────────────────────────


class Refusal(Exception):
    """A package refused as a whole before any receipt: HTTP ``status``, ``code``,
    ``message``."""

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


REFUSAL_STATUS = {"unknown_sender": 403, "bad_signature": 403}


def read_body(raw: bytes, *, gzipped: bool) -> dict:
    """The package document from a request or file body (gzip allowed), bounded."""
    limit = conf.max_bytes()
    if gzipped or raw[:2] == b"\x1f\x8b":
        import zlib

        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise Refusal(
                400, "malformed", _("gzip 数据无法解压：%(error)s") % {"error": exc}
            ) from exc
    if len(raw) > limit:
        raise Refusal(413, "too_large", _("数据包超过 %(limit)s 字节的上限。") % {"limit": limit})
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refusal(
            400, "malformed", _("数据包不是有效的 UTF-8 JSON：%(error)s") % {"error": exc}
        ) from exc
    if not isinstance(document, dict):
        raise Refusal(400, "malformed", _("数据包应为 JSON 对象。"))
    return document


def receive_package(document: dict, *, channel: str = "https") -> tuple[dict, bool]:
    """Validate and import a package from a lower peer; returns (signed receipt, whether
    it answers an earlier identical package). Raises :class:`Refusal` when the package
    cannot be trusted or read (no receipt then: nothing is recorded)."""
    peers = dict(
        Peer.objects.filter(active=True, relation=PeerRelation.LOWER).values_list(
            "code", "public_key"
        )
    )
    try:
        verified = package.verify_package(document, peers, receiver=conf.instance_code())
    except package.PackageError as exc:
        raise Refusal(REFUSAL_STATUS.get(exc.code, 400), exc.code, exc.message) from exc
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise Refusal(400, "malformed", _("数据包结构无效：%(error)s") % {"error": exc}) from exc
    manifest = verified.manifest
    peer = Peer.objects.get(code=manifest["sender"])
    earlier = ReceivedPackage.objects.filter(peer=peer, package_id=manifest["package_id"]).first()
    if earlier is not None:
        return _repeat(earlier, verified)
    try:
        return _import(peer, verified, channel), False
    except IntegrityError:
        # The same package arrived twice at once: the other request stored it.
        earlier = ReceivedPackage.objects.get(peer=peer, package_id=manifest["package_id"])
        return _repeat(earlier, verified)


def _repeat(earlier: ReceivedPackage, verified) -> tuple[dict, bool]:
    if earlier.digest != verified.digest:
        raise Refusal(
            409,
            "package_id_reused",
            _("数据包编号 %(id)s 已用于内容不同的另一个数据包。") % {"id": earlier.package_id},
        )
    return earlier.receipt, True


def _find_round(manifest: dict, sender_place=None):
    spec = manifest.get("round")
    if not isinstance(spec, dict):
        return None, {"code": "unknown_round", "message": "清单的 round 应为对象"}
    rounds = Round.objects.all() if sender_place is None else Round.objects.run_over(sender_place)
    round_ = (
        rounds.filter(
            system__code=manifest["dataflow"], year=spec.get("year"), kind=spec.get("kind")
        )
        .select_related("system")
        .first()
        if isinstance(spec.get("year"), int) and isinstance(spec.get("kind"), str)
        else None
    )
    if round_ is None:
        return None, {
            "code": "unknown_round",
            "message": f"本平台没有 {spec.get('year')} 年 {spec.get('kind')} 指标体系 "
            f"{manifest['dataflow']} 的体检轮次",
        }
    if round_.status != RoundStatus.OPEN:
        return round_, {"code": "round_closed", "message": f"轮次 {round_} 已截止，不再接收数据"}
    return round_, None


@transaction.atomic
def _import(peer: Peer, verified, channel: str) -> dict:
    manifest, frame = verified.manifest, verified.observations
    round_, error = _find_round(manifest, peer.place)
    rejections: list[dict] = []
    accepted = 0
    if error is None:
        places = round_.places.all()
        if peer.place_id:
            places = places.filter(path__startswith=peer.place.path)
        place_objects = {p.code: p for p in places}
        indicators = {i.code: i for i in indicators_owed(round_)}
        problems = package.check_observations(
            frame,
            dataflow=manifest["dataflow"],
            period=str(round_.year),
            places=set(place_objects),
            units={code: i.unit for code, i in indicators.items()},
            raw=verified.raw_values,
        )
        rejections = _rejections(problems)
        bad = np.zeros(len(frame), dtype=bool)
        bad[problems["row"].to_numpy(int) - 1] = True
        good = frame[~bad]
        accepted = _store_received(
            round_,
            pd.DataFrame(
                {
                    "place_id": good["REF_AREA"].map({c: p.pk for c, p in place_objects.items()}),
                    "indicator_id": good["INDICATOR"].map({c: i.pk for c, i in indicators.items()}),
                    "value": good["OBS_VALUE"].astype(float),
                    "note": good["COMMENT"].astype(str),
                }
            ),
            reason=_("数据包 %(id)s（%(peer)s 报送）")
            % {"id": manifest["package_id"], "peer": peer.name},
        )
        part_verdicts, records = _judge_parts(verified, place_objects, set(indicators))
        refused_parts = sum(1 for v in part_verdicts if v["state"] == package.REJECTED)
        state = package.receipt_state(
            len(frame) + len(part_verdicts), len(frame) - accepted + refused_parts
        )
    else:
        state, part_verdicts, records = package.REJECTED, [], []
    counts = {"rows": len(frame), "accepted": accepted, "rejected": len(frame) - accepted}
    receipt = package.make_receipt(
        package_id=manifest["package_id"],
        package_digest=verified.digest,
        receiver=conf.instance_code(),
        sender=peer.code,
        received=_now_text(),
        state=state,
        counts=counts,
        rejections=rejections,
        error=error,
        private_key=keys.private_key(),
        parts=part_verdicts or None,
    )
    received = ReceivedPackage.objects.create(
        peer=peer,
        package_id=manifest["package_id"],
        digest=verified.digest,
        kind=manifest["kind"],
        round=round_,
        manifest=manifest,
        received_at=timezone.now(),
        channel=channel,
        state=state,
        rows=counts["rows"],
        accepted_rows=counts["accepted"],
        rejected_rows=counts["rejected"],
        receipt=receipt,
        parts=[{k: v for k, v in p.items() if k != "rejections"} for p in part_verdicts],
    )
    for record in records:
        record.package = received
    ReceivedRecord.objects.bulk_create(records, batch_size=2000)
    record_event(
        peer,
        "package_received",
        data={"package_id": received.package_id, "state": state, **counts},
    )
    return receipt


def _rejections(problems: pd.DataFrame) -> list[dict]:
    """Problems found in a table as the receipt lists them."""
    return [
        {
            "row": int(p.row),
            "column": p.column,
            "reason": p.reason,
            "message": package.REASONS[p.reason],
            "value": p.value,
        }
        for p in problems.itertuples(index=False)
    ]


def _judge_parts(verified, place_objects: dict, indicators: set[str]):
    """The verdict on each optional part of the package (accepted whole or refused whole,
    with reasons) and the records of the accepted ones, not yet saved."""
    verdicts, records = [], []
    for described in verified.manifest["parts"]:
        name = described.get("name")
        if name not in package.EXTRA_PARTS:
            continue  # a part of a later minor version: not read, its digest was checked
        frame, problems = package.check_part(
            name,
            verified.parts[name],
            rows=described.get("rows"),
            places=set(place_objects),
            indicators=indicators,
        )
        verdict = {"name": name, "rows": len(frame)}
        if len(problems):
            verdict.update(
                state=package.REJECTED,
                rejections=_rejections(problems),
            )
        else:
            verdict["state"] = package.ACCEPTED
            keys_ = frame[package.PART_KEYS[name]].astype(str).agg(":".join, axis=1)
            records.extend(
                ReceivedRecord(part=name, place=place_objects[row["REF_AREA"]], key=key, data=row)
                for key, row in zip(keys_, frame.to_dict("records"), strict=True)
            )
        verdicts.append(verdict)
    return verdicts, records


def _store_received(round_: Round, frame: pd.DataFrame, *, reason: str) -> int:
    """Write received rows as the round's adopted values, with one audit row per change
    (channel ``exchange``), set-based: a staging table, one upsert, one audit insert, on
    SQLite and PostgreSQL alike. Returns how many rows were stored."""
    if frame.empty:
        return 0
    value_table, change_table = Value._meta.db_table, ValueChange._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    values = frame["value"].to_numpy(float)
    rows = list(
        zip(
            frame["place_id"].astype("int64").tolist(),
            frame["indicator_id"].astype("int64").tolist(),
            np.where(np.isnan(values), None, values).tolist(),
            frame["note"].tolist(),
            strict=True,
        )
    )
    source = Source.ADOPTED.value
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS exchange_stage")
        cursor.execute("DROP TABLE IF EXISTS exchange_prior")
        cursor.execute(
            "CREATE TEMP TABLE exchange_stage (place_id bigint, indicator_id bigint,"
            " value double precision, note text, PRIMARY KEY (place_id, indicator_id))"
        )
        cursor.executemany("INSERT INTO exchange_stage VALUES (%s, %s, %s, %s)", rows)
        # Keys on both staging tables: without them SQLite may loop over the stage for
        # every stored value (quadratic).
        cursor.execute(
            "CREATE TEMP TABLE exchange_prior (id bigint PRIMARY KEY, value double precision,"
            " note text)"
        )
        cursor.execute(
            "INSERT INTO exchange_prior SELECT v.id, v.value, v.note"
            f" FROM {value_table} v JOIN exchange_stage s"
            " ON v.place_id = s.place_id AND v.indicator_id = s.indicator_id"
            " WHERE v.round_id = %s AND v.source = %s",
            [round_.pk, source],
        )
        cursor.execute(
            f"INSERT INTO {value_table} (round_id, place_id, indicator_id, source, value, note,"
            " version, updated_by_id, created, last_updated)"
            " SELECT %s, place_id, indicator_id, %s, value, note, 1, NULL, %s, %s"
            " FROM exchange_stage WHERE true"
            " ON CONFLICT (round_id, place_id, indicator_id, source) DO UPDATE SET"
            f" value = excluded.value, note = excluded.note, version = {value_table}.version + 1,"
            " updated_by_id = NULL, last_updated = excluded.last_updated"
            f" WHERE {value_table}.value IS DISTINCT FROM excluded.value"
            f" OR {value_table}.note IS DISTINCT FROM excluded.note",
            [round_.pk, source, now, now],
        )
        cursor.execute(
            f"INSERT INTO {change_table} (value_id, old_value, new_value, old_note, new_note,"
            " version, user_id, time, channel, reason)"
            " SELECT v.id, p.value, s.value, coalesce(p.note, ''), s.note, v.version, NULL,"
            " %s, %s, %s"
            f" FROM exchange_stage s JOIN {value_table} v ON v.round_id = %s AND v.source = %s"
            " AND v.place_id = s.place_id AND v.indicator_id = s.indicator_id"
            " LEFT JOIN exchange_prior p ON p.id = v.id"
            " WHERE p.id IS NULL OR p.value IS DISTINCT FROM s.value OR p.note IS DISTINCT FROM s.note",
            [now, ChangeChannel.EXCHANGE.value, reason, round_.pk, source],
        )
        cursor.execute("DROP TABLE exchange_stage")
        cursor.execute("DROP TABLE exchange_prior")
    return len(rows)


def received_parts(peer: Peer, round_: Round) -> dict[str, tuple[ReceivedPackage, list]]:
    """What a lower peer reported for the round beyond values: for each optional part, the
    latest package that brought it accepted and its records (a later package's part
    replaces an earlier one's)."""
    latest: dict[str, ReceivedPackage] = {}
    for item in ReceivedPackage.objects.filter(peer=peer, round=round_).order_by(
        "received_at", "pk"
    ):
        for part in item.parts:
            if part.get("state") == package.ACCEPTED:
                latest[part["name"]] = item
    return {
        name: (item, list(item.records.filter(part=name).select_related("place")))
        for name, item in sorted(latest.items())
    }


def describe_instance() -> dict:
    """What a peer needs to record this instance: code, mode, public key, formats."""
    public = keys.public_key()
    return {
        "code": conf.instance_code(),
        "mode": conf.instance_mode(),
        "public_key": public,
        "key_id": package.key_id(public),
        "formats": sorted(f"{package.FORMAT}/{v}" for v in package.SUPPORTED_VERSIONS),
    }


def indicator_by_code(round_: Round) -> dict[str, Indicator]:
    return {i.code: i for i in indicators_owed(round_)}
