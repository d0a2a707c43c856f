"""The demo's exchange part: the national peer that ``citycheck exchange demo-peer``
serves, recorded as this province's upper platform, so a new user can submit a round from
the ledger page (/exchange/) once that peer runs. The peer's key is made here, in the
directory demo-peer uses, so both ends agree without copying keys."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from citycheck.accounts.models import User

from . import keys, package
from .models import PeerRelation
from .services import save_peer

DEMO_PEER_DIR = "demo-peer"
DEMO_PEER_URL = "http://127.0.0.1:8001"


def demo_peer_directory() -> Path:
    return Path(settings.VAR_DIR) / DEMO_PEER_DIR


def load_national_peer(progress) -> dict:
    progress("national peer (citycheck exchange demo-peer) …")
    public = package.public_key_of(keys.private_key(demo_peer_directory() / "exchange_key"))
    admin = User.objects.filter(username="province_admin").first()
    save_peer(
        code="national",
        name="国家城市体检平台（演示）",
        relation=PeerRelation.UPPER,
        public_key=public,
        url=DEMO_PEER_URL,
        acting_user=admin,
    )
    return {"exchange peers": 1}


DEMO_STAGES = [("exchange-peer", load_national_peer)]
