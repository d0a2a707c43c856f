import pytest

from citycheck.exchange import package


@pytest.fixture
def instance(settings, tmp_path):
    """This instance as the province ``jiangxi`` with its key under tmp_path."""
    settings.CITYCHECK_INSTANCE_CODE = "jiangxi"
    settings.CITYCHECK_INSTANCE_MODE = "provincial"
    settings.CITYCHECK_EXCHANGE_KEY_FILE = tmp_path / "exchange_key"
    settings.CITYCHECK_EXCHANGE_MAPPINGS_DIR = tmp_path / "mappings"
    (tmp_path / "mappings").mkdir()
    return settings


@pytest.fixture
def peer_key():
    """A peer's private key (raw bytes)."""
    return package.new_private_key()
