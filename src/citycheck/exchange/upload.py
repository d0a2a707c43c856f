"""Resumable upload of large packages (docs/exchange.md, "Resumable upload").

The receiver's side: a session is created by ``POST uploads/`` with the body's length
and SHA-256; chunks go by ``PUT uploads/<id>/`` with ``Content-Range: bytes a-b/total``
at the offset the receiver holds; ``HEAD``/``GET`` tells how much arrived; ``POST
uploads/<id>/finish/`` checks length and SHA-256 and receives the package exactly as a
one-shot ``POST packages/`` (same checks, same receipt; a package id received before
answers the earlier receipt). The bytes wait in ``var/exchange/uploads/<id>.part``;
sessions untouched for :data:`STALE_AFTER` are removed (periodic task, and whenever a
session is created).

The sender's side, :func:`send_in_chunks`, remembers the session on the ledger entry,
so a retry (or a later job) asks the receiver how much it has and sends the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid

import httpx
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import conf
from .models import OutgoingPackage, UploadSession

UPLOADS_PATH = "/api/exchange/uploads/"
STALE_AFTER = dt.timedelta(hours=24)
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class UploadRefusal(Exception):
    """An upload request refused: HTTP ``status``, ``code``, ``message`` and the offset
    the receiver holds (for ``offset_mismatch`` and ``incomplete``)."""

    def __init__(self, status: int, code: str, message: str, offset: int | None = None):
        self.status, self.code, self.message, self.offset = status, code, message, offset
        super().__init__(message)

    def answer(self) -> dict:
        answer = {"code": self.code, "message": self.message}
        if self.offset is not None:
            answer["offset"] = self.offset
        return answer


# ── the receiver ─────────────────────────────────────────────────────────────────


def _path(session: UploadSession):
    return conf.upload_dir() / f"{session.token}.part"


def remove_stale(now=None) -> int:
    """Remove sessions (and their files) untouched for :data:`STALE_AFTER`; how many."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = list(UploadSession.objects.filter(last_updated__lt=cutoff))
    for session in stale:
        _path(session).unlink(missing_ok=True)
    UploadSession.objects.filter(pk__in=[s.pk for s in stale]).delete()
    return len(stale)


def create_session(length, sha256, *, gzipped=True) -> UploadSession:
    """A new session for a body of ``length`` bytes whose SHA-256 is ``sha256``."""
    if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
        raise UploadRefusal(400, "malformed", _("length 应为正整数（字节数）。"))
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise UploadRefusal(400, "malformed", _("sha256 应为 64 位十六进制小写文本。"))
    if length > conf.max_bytes():
        raise UploadRefusal(
            413, "too_large", _("数据包超过 %(limit)s 字节的上限。") % {"limit": conf.max_bytes()}
        )
    remove_stale()
    open_sessions = UploadSession.objects.filter(receipt__isnull=True).count()
    if open_sessions >= conf.max_uploads():
        raise UploadRefusal(429, "too_many_uploads", _("进行中的分段上传过多，请稍后再试。"))
    session = UploadSession.objects.create(
        token=uuid.uuid4().hex, length=length, sha256=sha256, gzipped=bool(gzipped)
    )
    conf.upload_dir().mkdir(parents=True, exist_ok=True)
    _path(session).touch()
    return session


def find_session(token: str) -> UploadSession:
    session = UploadSession.objects.filter(token=token).first()
    if session is None:
        raise UploadRefusal(
            404, "unknown_upload", _("没有这个分段上传（已完成后清理，或已过期）。")
        )
    return session


def write_chunk(token: str, content_range: str, data: bytes) -> UploadSession:
    """Write a chunk at the offset the session holds. ``content_range`` is ``bytes
    a-b/total``; a chunk starting elsewhere is refused (``offset_mismatch``, with the
    offset to continue from), as is one past the declared length."""
    match = CONTENT_RANGE.fullmatch(content_range.strip())
    if match is None:
        raise UploadRefusal(400, "malformed", _("Content-Range 应为 bytes 起-止/总长。"))
    start, end, total = (int(g) for g in match.groups())
    with transaction.atomic():
        session = UploadSession.objects.select_for_update().filter(token=token).first()
        if session is None:
            raise UploadRefusal(404, "unknown_upload", _("没有这个分段上传。"))
        if session.receipt is not None:
            raise UploadRefusal(409, "finished", _("该上传已完成。"), session.received)
        if total != session.length or end < start or end >= session.length:
            raise UploadRefusal(
                400, "malformed", _("Content-Range 超出声明的长度 %(n)s。") % {"n": session.length}
            )
        if end - start + 1 != len(data):
            raise UploadRefusal(400, "malformed", _("分段长度与 Content-Range 不符。"))
        if start != session.received:
            raise UploadRefusal(
                409,
                "offset_mismatch",
                _("应从第 %(offset)s 字节续传。") % {"offset": session.received},
                session.received,
            )
        with open(_path(session), "r+b") as file:
            file.seek(start)
            file.write(data)
        session.received = end + 1
        session.save(update_fields=["received", "last_updated"])
    return session


def finish(token: str, receive) -> tuple[dict, UploadSession]:
    """Check the complete body against the declared SHA-256 and hand its bytes to
    ``receive(raw, gzipped) → receipt``; the receipt is kept on the session, so a repeated
    finish answers it again. A body whose digest differs is dropped (send it again)."""
    session = find_session(token)
    if session.receipt is not None:
        return session.receipt, session
    if session.received != session.length:
        raise UploadRefusal(
            409,
            "incomplete",
            _("尚未收全：已收 %(received)s / %(length)s 字节。")
            % {"received": session.received, "length": session.length},
            session.received,
        )
    raw = _path(session).read_bytes()[: session.length]
    if hashlib.sha256(raw).hexdigest() != session.sha256:
        _path(session).unlink(missing_ok=True)
        session.delete()
        raise UploadRefusal(
            400, "digest_mismatch", _("上传内容的 SHA-256 与声明的不符，请重新上传。")
        )
    receipt = receive(raw, session.gzipped)
    session.receipt = receipt
    session.save(update_fields=["receipt", "last_updated"])
    _path(session).unlink(missing_ok=True)
    return receipt, session


# ── the sender ───────────────────────────────────────────────────────────────────


def send_in_chunks(
    outgoing: OutgoingPackage, body: bytes, *, client: httpx.Client, base_url: str, report
) -> httpx.Response:
    """Upload ``body`` to the receiver at ``base_url`` (its ``uploads/``) in chunks of
    ``CITYCHECK_EXCHANGE_CHUNK_BYTES`` and finish; returns the finishing answer, or the
    first answer that is not a success (the caller retries 5xx and 429 and judges the
    rest as for a one-shot post). A session recorded on ``outgoing`` is resumed from the
    offset the receiver reports; connection errors propagate (the caller retries)."""
    size = conf.chunk_bytes()
    offset = None
    if outgoing.upload_url:
        answer = client.get(outgoing.upload_url)
        if answer.status_code == 200 and _json(answer).get("length") == len(body):
            offset = int(_json(answer)["offset"])
        elif answer.status_code >= 500:
            return answer
    if offset is None:
        created = client.post(
            base_url,
            json={"length": len(body), "sha256": hashlib.sha256(body).hexdigest(), "gzip": True},
        )
        if created.status_code != 201 or "id" not in _json(created):
            return created
        outgoing.upload_url = base_url.rstrip("/") + "/" + _json(created)["id"] + "/"
        outgoing.save(update_fields=["upload_url", "last_updated"])
        offset = 0
    while offset < len(body):
        chunk = body[offset : offset + size]
        answer = client.put(
            outgoing.upload_url,
            content=chunk,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/{len(body)}",
            },
        )
        if answer.status_code == 409 and "offset" in _json(answer):
            offset = int(_json(answer)["offset"])
            continue
        if answer.status_code != 200 or "offset" not in _json(answer):
            return answer
        offset = int(_json(answer)["offset"])
        report(
            40 + 45 * offset / len(body),
            _("已上传 %(sent)s / %(total)s 字节") % {"sent": offset, "total": len(body)},
        )
    return client.post(outgoing.upload_url + "finish/")


def _json(answer: httpx.Response) -> dict:
    """The answer's JSON object, or an empty one (a proxy's error page, say)."""
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
