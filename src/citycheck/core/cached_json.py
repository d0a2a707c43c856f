"""JSON that is the same for every reader (a published release's map), encoded and
compressed once per process and answered with an ETag.

Pages that drew a map used to inline its GeoJSON (over a megabyte of boundaries decoded
from the database and encoded again on every request); they now fetch it from an endpoint
that answers from this cache: gzip when the browser accepts it (every browser does), and
304 Not Modified when the browser already holds the same body.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.translation import get_language

# Seconds a cached body is kept: boundaries edited in the admin show after this at the latest.
TIMEOUT = 600


def json_response(
    request, key: str | None, build: Callable[[], object], *, max_age: int = 0
) -> HttpResponse:
    """``build()`` as JSON; cached under ``key`` and the active language (``key`` None: not
    cached, for drafts), gzip-compressed when accepted, 304 for a matching If-None-Match.
    ``max_age`` lets the browser reuse the body that long without asking."""
    full_key = f"cached-json:{key}:{get_language()}" if key else None
    entry = cache.get(full_key) if full_key else None
    if entry is None:
        body = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
        entry = (hashlib.sha256(body).hexdigest()[:32], gzip.compress(body, 6))
        if full_key:
            cache.set(full_key, entry, TIMEOUT)
    digest, compressed = entry
    etag = f'"{digest}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(compressed, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(compressed), content_type="application/json")
    response["ETag"] = etag
    response["Vary"] = "Accept-Encoding, Accept-Language, Cookie"
    response["Cache-Control"] = f"private, max-age={max_age}"
    return response
