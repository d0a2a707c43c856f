"""This instance's Ed25519 key pair, kept in one file under ``var/`` like the secret key."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import conf, package


def private_key(path=None) -> bytes:
    """The raw private key at ``path`` (default :func:`conf.key_file`), made and stored
    first if there is none (safe when two processes start at once: the first file linked
    into place wins)."""
    path = Path(path) if path is not None else conf.key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".exchange_key-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(package.new_private_key().hex().encode("ascii"))
            os.chmod(draft, 0o600)
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def public_key() -> str:
    """This instance's public key, base64 (what its peers record)."""
    return package.public_key_of(private_key())
