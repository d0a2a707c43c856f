import os
from pathlib import Path

import pytest

pytest_plugins = ["citycheck.core.testing"]

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in tests


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The reference data in ../shared/data (read-only; never copied into the project)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
