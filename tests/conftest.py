import os
from pathlib import Path

import pytest

pytest_plugins = ["citycheck.testing"]

# The reference data sits beside the clone (../shared/data); CITYCHECK_SHARED_DATA points
# elsewhere, and /work/shared/data is where these machines keep it for clones made elsewhere.
_CANDIDATES = [
    os.environ.get("CITYCHECK_SHARED_DATA", ""),
    Path(__file__).resolve().parents[2] / "shared" / "data",
    "/work/shared/data",
]
SHARED_DATA = next((Path(c) for c in _CANDIDATES if c and Path(c).is_dir()), Path(_CANDIDATES[1]))
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in tests


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The reference data in ../shared/data (read-only; never copied into the project)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
