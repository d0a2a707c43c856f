"""A national instance to submit to: its environment and its set-up (``citycheck exchange
demo-peer``, and the two-instance tests). Driven through the same services a national
administrator's actions call; its data is labelled synthetic."""

from __future__ import annotations

import os
from pathlib import Path

NATIONAL_SYSTEM = "national-2021.yaml"
NATIONAL_ADMIN = "national_admin"


def environment(directory: Path, *, base=None) -> dict:
    """The environment of a national instance whose database, key and files are under
    ``directory``."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "citycheck.settings.dev",
            "CITYCHECK_VAR_DIR": str(directory),
            "DATABASE_URL": f"sqlite:///{directory / 'national.sqlite3'}",
            "CITYCHECK_INSTANCE_CODE": "national",
            "CITYCHECK_INSTANCE_MODE": "national",
            "CITYCHECK_EXCHANGE_KEY_FILE": str(directory / "exchange_key"),
        }
    )
    return env


def set_up(lower_code: str, lower_key: str, years, extra_systems=()) -> dict:
    """Divisions, the national system (and ``extra_systems``, files to publish too), an
    open round per year over every city and county, a national administrator and the
    province as a lower peer (idempotent)."""
    from django.conf import settings

    from citycheck.accounts.models import User
    from citycheck.collection.models import Round
    from citycheck.collection.services import open_round
    from citycheck.core.choices import Role
    from citycheck.core.context import acting
    from citycheck.indicators.services import import_system_file
    from citycheck.places.models import Place, PlaceLevel
    from citycheck.places.services import load_divisions

    from .models import PeerRelation
    from .services import save_peer

    admin = User.objects.filter(username=NATIONAL_ADMIN).first()
    if admin is None:
        admin = User.objects.create_superuser(
            NATIONAL_ADMIN, password="citycheck-demo", role=Role.PROVINCE_ADMIN
        )
    with acting(admin):
        load_divisions(acting_user=admin)
        system = import_system_file(
            Path(settings.DATA_DIR) / "systems" / NATIONAL_SYSTEM, acting_user=admin
        )
        for path in extra_systems:
            import_system_file(path, acting_user=admin)
        places = list(Place.objects.exclude(level=PlaceLevel.PROVINCE))
        scope = Place.objects.governing(places)
        opened = 0
        for year in years:
            if not Round.objects.filter(
                year=year, kind="annual", system=system, scope=scope
            ).exists():
                open_round(
                    year=year, system=system, places=places, is_synthetic=True, acting_user=admin
                )
                opened += 1
        province = Place.objects.filter(level=PlaceLevel.PROVINCE).first()
        save_peer(
            code=lower_code,
            name="江西省城市体检评估信息平台",
            relation=PeerRelation.LOWER,
            public_key=lower_key,
            place=province,
            acting_user=admin,
        )
    return {"places": len(places), "rounds_opened": opened, "system": system.code}
