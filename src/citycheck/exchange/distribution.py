"""Distributing reference data downward: the level above publishes every indicator
system it holds (standards inside the system file), its method files and its division
codes, each as a signed package (kinds ``system``, ``method``, ``divisions``); the level
below pulls one, sees what changed against what it has, and adopts it. Its own data is
kept: its systems that extend an older version stay as they are (listed), its own method
files are never overwritten, and places it has that the level above does not list stay.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import httpx
import pandas as pd
import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citycheck.assessment.methods import MethodError, load_method, method_files, methods_dir
from citycheck.assessment.methods import parse_method as parse_method_text
from citycheck.assessment.services import _flatten as flatten_method
from citycheck.core.models import record_event
from citycheck.indicators.models import IndicatorSystem
from citycheck.indicators.services import export_system, import_system_file, validate_system_file
from citycheck.places.models import Place, PlaceLevel
from citycheck.places.services import (
    DIVISION_COLUMNS,
    LoadCounts,
    PlacesDataError,
    load_divisions,
)

from . import conf, keys, package
from .models import Peer
from .services import ExchangeError, _check_manager

SYSTEMS_PATH = "/api/exchange/systems/"
METHODS_PATH = "/api/exchange/methods/"
DIVISIONS_PATH = "/api/exchange/divisions/"
COMPARED = ("name_zh", "unit", "direction", "type", "tier", "formula", "dimension", "standards")


def published_systems() -> list[dict]:
    return [
        {"code": s.code, "version": s.version, "name_zh": s.name_zh, "name_en": s.name_en}
        for s in IndicatorSystem.objects.order_by("code", "version")
    ]


def _created() -> str:
    return timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds")


def system_package(system: IndicatorSystem) -> dict:
    return package.make_system_package(
        export_system(system),
        package_id=f"{conf.instance_code()}-system-{system.code}-{system.version}",
        sender=conf.instance_code(),
        system={"code": system.code, "version": system.version},
        created=_created(),
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


def available(peer: Peer, *, client=None, path: str = SYSTEMS_PATH) -> list[dict]:
    """The systems (or, with ``path``, the method files) the upper peer publishes."""
    try:
        response = _client(client).get(peer.url.rstrip("/") + path)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ExchangeError(_("无法读取上级平台发布的列表：%(error)s") % {"error": exc}) from exc


def _fetch(peer: Peer, path: str, kind: str, expected: dict, *, client=None):
    """A signed reference package from the upper peer, verified with its key and checked
    to be what was asked for (``expected``: manifest fields); (verified, part text)."""
    try:
        response = _client(client).get(peer.url.rstrip("/") + path)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ExchangeError(_("无法获取上级平台发布的数据：%(error)s") % {"error": exc}) from exc
    try:
        verified = package.verify_package(document, {peer.code: peer.public_key})
    except package.PackageError as exc:
        raise ExchangeError(exc.message) from exc
    manifest = verified.manifest
    if manifest.get("kind") != kind or any(manifest.get(k) != v for k, v in expected.items()):
        raise ExchangeError(_("上级平台返回的不是所请求的数据。"))
    return verified, verified.parts[package.REFERENCE_PARTS[kind]]


def pull_system(peer: Peer, code: str, version: int, *, acting_user, client=None, adopt=False):
    """Fetch a system from the upper peer, verify its signature, compare it with ours
    and (``adopt``) import it. Returns ``(changes, system or None, extensions)`` where
    ``extensions`` are our systems that extend an older version of it."""
    _check_manager(acting_user)
    verified, text = _fetch(
        peer,
        f"{SYSTEMS_PATH}{code}/{version}/",
        "system",
        {"system": {"code": code, "version": version}},
        client=client,
    )
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


# ── methods ──────────────────────────────────────────────────────────────────────


def published_methods() -> list[dict]:
    """The method files this instance offers (those that pass their checks)."""
    listed = []
    for name in method_files():
        try:
            spec = load_method(methods_dir() / name)
        except MethodError:
            continue
        listed.append(
            {
                "name": name,
                "code": spec.code,
                "version": spec.version,
                "name_zh": spec.content.get("name_zh", ""),
                "digest": spec.digest(),
            }
        )
    return listed


def method_package(name: str) -> dict | None:
    """One method file as a signed ``method`` package; None for a name not offered."""
    if name not in method_files():
        return None
    spec = load_method(methods_dir() / name)
    return package.make_reference_package(
        "method",
        spec.text,
        package_id=f"{conf.instance_code()}-method-{name.removesuffix('.yaml')}"[:64],
        sender=conf.instance_code(),
        about={"method": {"name": name, "code": spec.code, "version": spec.version}},
        created=_created(),
        private_key=keys.private_key(),
    )


def method_changes(new_text: str, old_text: str | None) -> pd.DataFrame:
    """What a method file changes against ours: one row per field (``steps.normalise.
    method``) added, removed or changed, with old and new values."""
    new = flatten_method(parse_method_text(new_text).content)
    old = flatten_method(parse_method_text(old_text).content) if old_text else {}
    rows = [
        (field, str(old.get(field, "")), str(new.get(field, "")))
        for field in sorted(set(new) | set(old))
        if old.get(field) != new.get(field)
    ]
    return pd.DataFrame(rows, columns=["field", "old", "new"])


def pull_method(peer: Peer, name: str, *, acting_user, client=None, adopt=False):
    """Fetch a method file from the upper peer, verify it, compare it with ours (the file
    of that name, else our newest of the same code) and (``adopt``) offer it to our users
    under its name. Returns ``(changes, adopted path or None)``. Our own method files are
    never overwritten: a file of that name with other content refuses the adoption."""
    _check_manager(acting_user)
    verified, text = _fetch(peer, f"{METHODS_PATH}{name}/", "method", {}, client=client)
    about = verified.manifest.get("method") or {}
    if about.get("name") != name:
        raise ExchangeError(_("上级平台返回的不是所请求的数据。"))
    try:
        spec = parse_method_text(text, source=name)
    except MethodError as exc:
        raise ExchangeError(str(exc)) from exc
    ours = _our_method(name, spec.code)
    changes = method_changes(text, ours.text if ours else None)
    if not adopt:
        return changes, None
    path = methods_dir() / name
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            return changes, path
        raise ExchangeError(
            _("本平台已有同名的评价方法文件 %(name)s，内容不同：本平台的文件不会被覆盖。")
            % {"name": name}
        )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ExchangeError(_("无法写入评价方法目录：%(error)s") % {"error": exc.strerror}) from exc
    record_event(
        peer,
        "method_adopted",
        acting_user=acting_user,
        data={"name": name, "digest": verified.digest, "changes": len(changes)},
    )
    return changes, path


def _our_method(name: str, code: str):
    """Our method file of that name, else our newest of the same code; None."""
    if name in method_files():
        return load_method(methods_dir() / name)
    same_code = []
    for other in method_files():
        try:
            spec = load_method(methods_dir() / other)
        except MethodError:
            continue
        if spec.code == code:
            same_code.append(spec)
    return max(same_code, key=lambda s: s.version, default=None)


# ── division codes ───────────────────────────────────────────────────────────────


def divisions_text() -> str:
    """This instance's current division codes in the division file's columns
    (``citycheck places load``), parents before children."""
    places = Place.objects.filter(active=True).select_related("parent").order_by("path")
    frame = pd.DataFrame(
        [
            (p.code, p.name_zh, p.name_en, p.level, p.parent.code if p.parent else "", p.unit_type)
            for p in places
        ],
        columns=list(DIVISION_COLUMNS),
    )
    return frame.to_csv(index=False, lineterminator="\n")


def divisions_package() -> dict:
    text = divisions_text()
    return package.make_reference_package(
        "divisions",
        text,
        package_id=f"{conf.instance_code()}-divisions-{package.sha256_hex(text.encode())[:16]}",
        sender=conf.instance_code(),
        about={"divisions": {"places": text.count("\n") - 1}},
        created=_created(),
        private_key=keys.private_key(),
    )


def _read_divisions(text: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ExchangeError(_("区划代码表无法读取：%(error)s") % {"error": exc}) from exc
    if list(frame.columns) != list(DIVISION_COLUMNS):
        raise ExchangeError(_("区划代码表的列不符合规定。"))
    return frame


def _ours_in_scope(theirs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The upper peer's rows that concern us (our provinces' codes, GB/T 2260 beginning
    with the province's two digits, and their ancestors) and our places there."""
    provinces = {
        code[:2]
        for code in Place.objects.filter(level=PlaceLevel.PROVINCE).values_list("code", flat=True)
    }
    inside = theirs["code"].str[:2].isin(provinces) if provinces else theirs["code"].ne("")
    wanted = set(theirs.loc[inside, "code"])
    parents = dict(zip(theirs["code"], theirs["parent_code"], strict=True))
    for code in list(wanted):
        while parents.get(code):
            code = parents[code]
            wanted.add(code)
    theirs = theirs[theirs["code"].isin(wanted)]
    ours = pd.DataFrame(
        [
            (p.code, p.name_zh, p.name_en, p.level, p.parent.code if p.parent else "", p.unit_type)
            for p in Place.objects.filter(active=True).select_related("parent")
            if not provinces or p.code[:2] in provinces
        ],
        columns=list(DIVISION_COLUMNS),
    )
    return theirs.reset_index(drop=True), ours


def division_changes(theirs: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """Codes the upper peer's table adds, changes (per field) or no longer lists,
    against ours: columns code, change (added / changed / not_listed), field, old, new."""
    merged = theirs.merge(ours, on="code", how="outer", suffixes=("", "_ours"), indicator="side")
    rows = []
    for record in merged.to_dict("records"):
        code = record["code"]
        if record["side"] == "left_only":
            rows.append((code, "added", "", "", record["name_zh"]))
        elif record["side"] == "right_only":
            rows.append((code, "not_listed", "", record["name_zh_ours"], ""))
        else:
            for field in DIVISION_COLUMNS[1:]:
                if record[field] != record[f"{field}_ours"]:
                    rows.append((code, "changed", field, record[f"{field}_ours"], record[field]))
    return pd.DataFrame(rows, columns=["code", "change", "field", "old", "new"]).sort_values(
        ["code", "field"], kind="stable", ignore_index=True
    )


def pull_divisions(peer: Peer, *, acting_user, client=None, adopt=False):
    """Fetch the upper peer's division codes, verify them, compare them with ours (our
    provinces only) and (``adopt``) load them: codes added or changed are written as
    ``citycheck places load`` would; places it no longer lists stay as they are (a
    division change is recorded with ``citycheck places changes``). Returns ``(changes,
    load counts or None)``."""
    _check_manager(acting_user)
    verified, text = _fetch(peer, DIVISIONS_PATH, "divisions", {}, client=client)
    theirs, ours = _ours_in_scope(_read_divisions(text))
    changes = division_changes(theirs, ours)
    if not adopt:
        return changes, None
    folder = Path(settings.VAR_DIR) / "exchange" / "divisions"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{peer.code}-{verified.digest[:16]}.csv"
    theirs.to_csv(path, index=False, lineterminator="\n")
    try:
        with transaction.atomic():  # all the codes or none
            counts: LoadCounts = load_divisions(path, acting_user=acting_user)
    except PlacesDataError as exc:  # names the file, line and field
        raise ExchangeError(str(exc)) from exc
    record_event(
        peer,
        "divisions_adopted",
        acting_user=acting_user,
        data={"digest": verified.digest, "changes": len(changes)},
    )
    return changes, counts
