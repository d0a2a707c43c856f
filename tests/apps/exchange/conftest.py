import pytest

from citycheck.exchange import package
from citycheck.exchange.models import PeerRelation
from citycheck.exchange.services import save_peer


@pytest.fixture
def instance(settings, tmp_path):
    """This instance as the province ``jiangxi`` with its key under tmp_path."""
    settings.CITYCHECK_INSTANCE_CODE = "jiangxi"
    settings.CITYCHECK_INSTANCE_MODE = "provincial"
    settings.CITYCHECK_EXCHANGE_KEY_FILE = tmp_path / "exchange_key"
    settings.CITYCHECK_EXCHANGE_MAPPINGS_DIR = tmp_path / "mappings"
    settings.CITYCHECK_EXCHANGE_UPLOAD_DIR = tmp_path / "uploads"
    (tmp_path / "mappings").mkdir()
    return settings


@pytest.fixture
def peer_key():
    """A peer's private key (raw bytes)."""
    return package.new_private_key()


@pytest.fixture
def nanchang(small_province, instance, peer_key):
    """Nanchang running its own citycheck: a lower peer reporting for 南昌市."""
    return save_peer(
        code="nanchang",
        name="南昌市城市体检平台",
        relation=PeerRelation.LOWER,
        public_key=package.public_key_of(peer_key),
        url="",
        place=small_province.places["city"],
    )


@pytest.fixture
def system_code(small_province):
    return small_province.system.code
