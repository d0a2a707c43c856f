"""A fake 12345 hotline platform (synthetic numbers) answering the API the
:class:`~citycheck.monitoring.connectors.Hotline12345Connector` reads: served on loopback
by the tests (:func:`serve`), and used in process by the demo (:func:`transport`); it also
exports a month as a file into a drop folder (:func:`export`, the demo's last month)."""

from __future__ import annotations

import csv
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from .connectors import appeal_rows

CATEGORIES = ("住房", "生态环境", "交通", "其他")


def appeals(
    month: str,
    regions: list[str],
    *,
    rising: tuple[str, ...] = (),
    surge: tuple[str, ...] = (),
) -> dict:
    """Synthetic monthly appeal counts by region and category; the ``rising`` regions'
    housing appeals grow 60 % a year (from 2024); the ``surge`` regions' environment
    appeals are twice the usual."""
    year, number = (int(part) for part in month.split("-"))
    items = []
    for region in regions:
        for category in CATEGORIES:
            base = 20 + zlib.crc32(f"{region}{category}".encode()) % 40
            season = 1 + 0.15 * ((number % 12) in (6, 7, 8))
            growth = (
                1.6 ** (year - 2024 + (number - 1) / 12)
                if (region in rising and category == "住房" and year >= 2024)
                else 1.0
            )
            if region in surge and category == "生态环境":
                growth = 2.0
            noise = (zlib.crc32(f"{region}{category}{month}".encode()) % 7) - 3
            items.append(
                {
                    "region": region,
                    "category": category,
                    "count": max(0, round(base * season * growth) + noise),
                }
            )
    return {"month": month, "items": items}


def _answer(path: str, query: dict, regions, rising) -> tuple[int, dict]:
    if path != "/api/v1/appeals/monthly" or "month" not in query:
        return 404, {"error": "not found"}
    return 200, appeals(query["month"][0], regions, rising=rising)


def transport(regions: list[str], *, rising: tuple[str, ...] = ()) -> httpx.MockTransport:
    """The platform in process, for ``httpx``."""

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = _answer(
            request.url.path, parse_qs(request.url.query.decode()), regions, rising
        )
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handler)


def serve(regions: list[str], *, rising: tuple[str, ...] = ()):
    """Start the platform on 127.0.0.1 (a free port) in a thread; returns the server
    (``server.url``; stop it with ``server.shutdown()``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlparse(self.path)
            status, body = _answer(url.path, parse_qs(url.query), regions, rising)
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def export(folder: Path, month: str, regions: list[str], **options) -> Path:
    """Drop the month's appeal counts as an observation file into ``folder`` (written as
    ``.part``, then renamed, as a platform should); ``options`` as for :func:`appeals`."""
    rows = appeal_rows(appeals(month, regions, **options)["items"], month)
    target = Path(folder) / f"12345-{month}.csv"
    part = target.with_name(target.name + ".part")
    with part.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["place", "indicator", "period", "value"])
        writer.writeheader()
        writer.writerows(rows)
    return part.rename(target)
