"""The embedded demo: SQLite under var/, jobs inline, served by gunicorn (see Makefile).

Without ``SECRET_KEY`` in the environment, a random key is made on the first start and
kept in ``var/secret_key`` (readable by the owner only), so sessions and signed Excel
templates survive a restart and no two installations share a key.
"""

import os
import tempfile

from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import SECRET_KEY, VAR_DIR

DEBUG = False


def kept_secret_key(path):
    """The key stored at ``path``, made and stored first if there is none (safe when two
    processes start at once: the first file linked into place wins)."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(get_random_secret_key())
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = SECRET_KEY or kept_secret_key(VAR_DIR / "secret_key")

# Monitoring's daily digest (and any other mail) is printed, not sent, in the embedded set-up.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
