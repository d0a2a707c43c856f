"""Distributing indicator systems downward: the level above publishes every system it
holds as a signed ``system`` package; the level below pulls one, sees what changed
against what it has, and adopts it (imports it as that version; its own systems, the
extensions, stay as they are and are listed if they extend an older version).

Standards travel inside the system file; methods and division codes are not distributed
yet (docs/exchange.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pandas as pd
import yaml
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.core.models import record_event
from citycheck.indicators.models import IndicatorSystem
from citycheck.indicators.services import export_system, import_system_file, validate_system_file

from . import conf, keys, package
from .models import Peer
from .services import ExchangeError, _check_manager

SYSTEMS_PATH = "/api/exchange/systems/"
COMPARED = ("name_zh", "unit", "direction", "type", "tier", "formula", "dimension", "standards")


def published_systems() -> list[dict]:
    return [
        {"code": s.code, "version": s.version, "name_zh": s.name_zh, "name_en": s.name_en}
        for s in IndicatorSystem.objects.order_by("code", "version")
    ]


def system_package(system: IndicatorSystem) -> dict:
    return package.make_system_package(
        export_system(system),
        package_id=f"{conf.instance_code()}-system-{system.code}-{system.version}",
        sender=conf.instance_code(),
        system={"code": system.code, "version": system.version},
        created=timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
        private_key=keys.private_key(),
    )


def _indicators(text: str) -> dict[str, dict]:
    data = yaml.safe_load(text) or {}
    return {i["code"]: i for i in data.get("indicators", []) if isinstance(i, dict) and "code" in i}


def system_changes(new_text: str, old_text: str | None) -> pd.DataFrame:
    """What the pulled system changes against ours: one row per indicator added,
    removed or changed (``field``: which compared field), with old and new values."""
    new, old = _indicators(new_text), _indicators(old_text or "")
    rows = []
    for code in sorted(set(new) | set(old)):
        if code not in old:
            rows.append((code, "added", "", "", new[code].get("name_zh", "")))
        elif code not in new:
            rows.append((code, "removed", "", old[code].get("name_zh", ""), ""))
        else:
            for field in COMPARED:
                if old[code].get(field) != new[code].get(field):
                    rows.append(
                        (
                            code,
                            "changed",
                            field,
                            str(old[code].get(field)),
                            str(new[code].get(field)),
                        )
                    )
    return pd.DataFrame(rows, columns=["indicator", "change", "field", "old", "new"])


def _client(client):
    return client or httpx.Client(timeout=httpx.Timeout(60.0, connect=5.0))


def available(peer: Peer, *, client=None) -> list[dict]:
    """The systems the upper peer publishes."""
    try:
        response = _client(client).get(peer.url.rstrip("/") + SYSTEMS_PATH)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ExchangeError(
            _("无法读取上级平台的指标体系列表：%(error)s") % {"error": exc}
        ) from exc


def pull_system(peer: Peer, code: str, version: int, *, acting_user, client=None, adopt=False):
    """Fetch a system from the upper peer, verify its signature, compare it with ours
    and (``adopt``) import it. Returns ``(changes, system or None, extensions)`` where
    ``extensions`` are our systems that extend an older version of it."""
    _check_manager(acting_user)
    url = f"{peer.url.rstrip('/')}{SYSTEMS_PATH}{code}/{version}/"
    try:
        response = _client(client).get(url)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ExchangeError(_("无法获取上级平台的指标体系：%(error)s") % {"error": exc}) from exc
    try:
        verified = package.verify_package(document, {peer.code: peer.public_key})
    except package.PackageError as exc:
        raise ExchangeError(exc.message) from exc
    if verified.manifest.get("kind") != "system" or verified.manifest.get("system") != {
        "code": code,
        "version": version,
    }:
        raise ExchangeError(_("上级平台返回的不是所请求的指标体系。"))
    text = document["parts"][package.SYSTEM_PART]
    ours = (
        IndicatorSystem.objects.filter(code=code, version__lte=version).order_by("-version").first()
    )
    changes = system_changes(text, export_system(ours) if ours else None)
    extensions = list(
        IndicatorSystem.objects.filter(extends__code=code, extends__version__lt=version)
    )
    if not adopt:
        return changes, None, extensions
    folder = Path(settings.VAR_DIR) / "exchange" / "systems"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}-{version}.yaml"
    path.write_text(text, encoding="utf-8")
    issues = validate_system_file(path)
    if issues:
        raise ExchangeError("\n".join(map(str, issues)))
    system = import_system_file(path, acting_user=acting_user)
    record_event(
        system,
        "system_adopted",
        acting_user=acting_user,
        data={"peer": peer.code, "digest": verified.digest, "changes": len(changes)},
    )
    return changes, system, extensions
