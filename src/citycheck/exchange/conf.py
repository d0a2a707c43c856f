"""The instance's exchange settings, each from Django settings when set there, else from
the environment (so a second instance is configured by environment alone, as
``citycheck exchange demo-peer`` does).

* ``CITYCHECK_INSTANCE_CODE``: this instance's code as its peers know it (``jiangxi``);
* ``CITYCHECK_INSTANCE_MODE``: ``provincial`` (submits upward, receives from cities),
  ``national`` (receives from provinces) or ``city``;
* ``CITYCHECK_EXCHANGE_KEY_FILE``: the Ed25519 private key, made on first use (default
  ``var/exchange_key``, owner-readable only, like ``var/secret_key``);
* ``CITYCHECK_EXCHANGE_MAX_BYTES``: the largest package body accepted (256 MiB);
* ``CITYCHECK_EXCHANGE_MAPPINGS_DIR``: the code mapping files (``data/exchange/mappings``);
* ``CITYCHECK_EXCHANGE_CHUNK_BYTES``, ``CITYCHECK_EXCHANGE_MAX_UPLOADS``,
  ``CITYCHECK_EXCHANGE_UPLOAD_DIR``: resumable uploads (the chunk size above which a
  package goes in chunks; how many may be open at once; where their bytes wait).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

MODES = ("provincial", "national", "city")


def _setting(name: str, default):
    return getattr(settings, name, None) or os.environ.get(name) or default


def instance_code() -> str:
    return str(_setting("CITYCHECK_INSTANCE_CODE", "jiangxi"))


def instance_mode() -> str:
    mode = str(_setting("CITYCHECK_INSTANCE_MODE", "provincial"))
    return mode if mode in MODES else "provincial"


def key_file() -> Path:
    return Path(_setting("CITYCHECK_EXCHANGE_KEY_FILE", Path(settings.VAR_DIR) / "exchange_key"))


def max_bytes() -> int:
    return int(_setting("CITYCHECK_EXCHANGE_MAX_BYTES", 256 * 1024 * 1024))


def mappings_dir() -> Path:
    return Path(
        _setting(
            "CITYCHECK_EXCHANGE_MAPPINGS_DIR", Path(settings.DATA_DIR) / "exchange" / "mappings"
        )
    )


def chunk_bytes() -> int:
    """Bodies larger than this go as a resumable upload, in chunks of this size
    (``CITYCHECK_EXCHANGE_CHUNK_BYTES``, 8 MiB)."""
    return int(_setting("CITYCHECK_EXCHANGE_CHUNK_BYTES", 8 * 1024 * 1024))


def max_uploads() -> int:
    """Resumable uploads open at once (``CITYCHECK_EXCHANGE_MAX_UPLOADS``, 20)."""
    return int(_setting("CITYCHECK_EXCHANGE_MAX_UPLOADS", 20))


def upload_dir() -> Path:
    """Where resumable uploads wait (``CITYCHECK_EXCHANGE_UPLOAD_DIR``,
    ``var/exchange/uploads``)."""
    return Path(
        _setting("CITYCHECK_EXCHANGE_UPLOAD_DIR", Path(settings.VAR_DIR) / "exchange" / "uploads")
    )
