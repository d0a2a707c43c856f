"""Loading ``data/monitoring/`` (feeds, indicators, rules) with every error naming the file,
the line and the field; nothing is loaded when any entry is wrong."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction

from citycheck.accounts.models import Department
from citycheck.core.context import acting
from citycheck.engine.monitoring import KINDS
from citycheck.places.models import CityClass, PlaceLevel

from .models import Feed, Frequency, Level, MonitoringIndicator, Rule


class MonitoringFileError(ValueError):
    """A data file entry is wrong: ``path``, ``line`` and ``field`` say where."""

    def __init__(self, path, line: int, field: str, message: str):
        self.path, self.line, self.field = str(path), line, field
        super().__init__(f"{path}:{line}: {field}: {message}")


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping (``__line__``, 1-based)."""


def _mapping_with_line(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def read_entries(path: Path, key: str) -> list[dict]:
    """The list under ``key`` in the YAML file, each entry with its line."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as bad:
        mark = getattr(bad, "problem_mark", None)
        raise MonitoringFileError(path, (mark.line + 1) if mark else 1, "-", str(bad)) from None
    if not isinstance(document, dict) or not isinstance(document.get(key), list):
        raise MonitoringFileError(path, 1, key, f"expected a list under '{key}'")
    entries = document[key]
    for entry in entries:
        if not isinstance(entry, dict):
            raise MonitoringFileError(path, 1, key, "every entry must be a mapping")
    return entries


def _need(path, entry, field, *, choices=None, number=False, required=True):
    line = entry.get("__line__", 1)
    if field not in entry or entry[field] in (None, ""):
        if required:
            raise MonitoringFileError(path, line, field, "required")
        return None
    value = entry[field]
    if number:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MonitoringFileError(path, line, field, f"must be a number, got {value!r}")
        return float(value)
    if choices is not None and value not in choices:
        raise MonitoringFileError(
            path, line, field, f"must be one of {', '.join(map(str, choices))}; got {value!r}"
        )
    return value


def _unknown_fields(path, entry, allowed):
    for field in entry:
        if field != "__line__" and field not in allowed:
            raise MonitoringFileError(path, entry["__line__"], field, "unknown field")


FEED_FIELDS = {"code", "name_zh", "name_en", "kind", "connector", "url", "every_minutes"}
INDICATOR_FIELDS = {
    "code",
    "name_zh",
    "name_en",
    "unit",
    "frequency",
    "levels",
    "feed",
    "department",
    "yearly_indicator",
    "decimals",
}
RULE_FIELDS = {
    "code",
    "name_zh",
    "name_en",
    "kind",
    "indicator",
    "comparison",
    "threshold",
    "low",
    "high",
    "window",
    "horizon",
    "method",
    "coverage",
    "smoothing_level",
    "smoothing_trend",
    "components",
    "level",
    "department",
    "deadline_days",
    "by_class",
}


def parse_feeds(path: Path) -> list[dict]:
    rows = []
    for entry in read_entries(path, "feeds"):
        _unknown_fields(path, entry, FEED_FIELDS)
        rows.append(
            {
                "code": _need(path, entry, "code"),
                "name_zh": _need(path, entry, "name_zh"),
                "name_en": entry.get("name_en", ""),
                "kind": _need(path, entry, "kind", choices=Feed.Kind.values),
                "connector": entry.get("connector", ""),
                "url": entry.get("url", ""),
                "every_minutes": int(entry.get("every_minutes", 60)),
            }
        )
    return rows


def parse_indicators(path: Path, feeds: set[str], departments: set[str]) -> list[dict]:
    rows = []
    for entry in read_entries(path, "indicators"):
        _unknown_fields(path, entry, INDICATOR_FIELDS)
        levels = entry.get("levels") or []
        allowed_levels = [PlaceLevel.CITY, PlaceLevel.COUNTY]
        if not isinstance(levels, list) or not levels or set(levels) - set(allowed_levels):
            raise MonitoringFileError(
                path, entry["__line__"], "levels", f"a list of {allowed_levels}; got {levels!r}"
            )
        rows.append(
            {
                "code": _need(path, entry, "code"),
                "name_zh": _need(path, entry, "name_zh"),
                "name_en": entry.get("name_en", ""),
                "unit": str(_need(path, entry, "unit")),
                "frequency": _need(path, entry, "frequency", choices=Frequency.values),
                "levels": levels,
                "feed": _need(path, entry, "feed", choices=sorted(feeds)),
                "department": _need(path, entry, "department", choices=sorted(departments)),
                "yearly_indicator": entry.get("yearly_indicator", ""),
                "decimals": int(entry.get("decimals", 1)),
            }
        )
    return rows


def parse_rules(path: Path, indicators: set[str], departments: set[str]) -> list[dict]:
    """Rule rows as the model stores them: one per rule and city class."""
    rows: list[dict] = []
    codes: set[str] = set()
    entries = read_entries(path, "rules")
    for entry in entries:
        _unknown_fields(path, entry, RULE_FIELDS)
        line = entry["__line__"]
        code = _need(path, entry, "code")
        if code in codes:
            raise MonitoringFileError(path, line, "code", f"{code!r} appears twice")
        codes.add(code)
        kind = _need(path, entry, "kind", choices=KINDS)
        row = {
            "code": code,
            "name_zh": _need(path, entry, "name_zh"),
            "name_en": entry.get("name_en", ""),
            "kind": kind,
            "level": _need(path, entry, "level", choices=Level.values),
            "department": _need(path, entry, "department", choices=sorted(departments)),
            "deadline_days": int(entry.get("deadline_days", 15)),
            "indicator": None,
            "comparison": _need(
                path, entry, "comparison", choices=["above", "below"], required=False
            )
            or "above",
            "threshold": _need(
                path,
                entry,
                "threshold",
                number=True,
                required=kind in ("threshold", "yoy", "forecast"),
            ),
            "low": _need(path, entry, "low", number=True, required=kind == "band"),
            "high": _need(path, entry, "high", number=True, required=kind == "band"),
            "window": int(entry.get("window", 24)),
            "horizon": int(entry.get("horizon", 6)),
            "method": _need(path, entry, "method", choices=["theil_sen", "holt"], required=False)
            or "theil_sen",
            "coverage": _need(path, entry, "coverage", number=True, required=False) or 0.9,
            "components": [],
            "city_class": "",
        }
        if kind == "all_of":
            components = entry.get("components")
            if not isinstance(components, list) or not components:
                raise MonitoringFileError(path, line, "components", "a list of rule codes")
            row["components"] = components
        else:
            row["indicator"] = _need(path, entry, "indicator", choices=sorted(indicators))
        if row["window"] < 3 and kind == "forecast":
            raise MonitoringFileError(path, line, "window", "at least 3 periods")
        for name in ("smoothing_level", "smoothing_trend"):
            value = _need(path, entry, name, number=True, required=False)
            if value is not None and not 0 <= value <= 1:
                raise MonitoringFileError(path, line, name, f"between 0 and 1; got {value}")
        rows.append(row)
        by_class = entry.get("by_class") or {}
        if not isinstance(by_class, dict):
            raise MonitoringFileError(path, line, "by_class", "a mapping city class → limits")
        for city_class, limits in by_class.items():
            if city_class == "__line__":
                continue
            if city_class not in CityClass.values:
                raise MonitoringFileError(
                    path, line, "by_class", f"unknown city class {city_class!r}"
                )
            if not isinstance(limits, dict):
                raise MonitoringFileError(path, line, f"by_class.{city_class}", "a mapping")
            special = dict(row, city_class=city_class)
            for name in ("threshold", "low", "high"):
                if name in limits:
                    special[name] = _need(path, limits, name, number=True)
            rows.append(special)
    for entry in entries:
        for component in entry.get("components") or []:
            if component not in codes:
                raise MonitoringFileError(
                    path, entry["__line__"], "components", f"unknown rule {component!r}"
                )
    return rows


@transaction.atomic
def load_monitoring(folder: Path | None = None, *, acting_user=None) -> dict:
    """Load (or update) feeds, indicators and rules from ``folder`` (default
    ``data/monitoring``); idempotent; raises :class:`MonitoringFileError`."""
    folder = Path(folder or settings.DATA_DIR / "monitoring")
    departments = dict(Department.objects.values_list("code", "pk"))
    feeds = parse_feeds(folder / "feeds.yaml")
    indicators = parse_indicators(
        folder / "indicators.yaml", {f["code"] for f in feeds}, set(departments)
    )
    rules = parse_rules(folder / "rules.yaml", {i["code"] for i in indicators}, set(departments))
    with acting(acting_user):
        feed_objects = {}
        for row in feeds:
            feed_objects[row["code"]] = _save(Feed, {"code": row["code"]}, row)
        indicator_objects = {}
        for row in indicators:
            row = dict(
                row,
                feed=feed_objects[row["feed"]],
                department_id=departments[row.pop("department")],
            )
            indicator_objects[row["code"]] = _save(MonitoringIndicator, {"code": row["code"]}, row)
        for row in rules:
            row = dict(row)
            row["indicator"] = indicator_objects.get(row["indicator"])
            row["department_id"] = departments[row.pop("department")]
            _save(Rule, {"code": row["code"], "city_class": row["city_class"]}, row)
    return {"feeds": len(feeds), "indicators": len(indicators), "rules": len(rules)}


def _save(model, key: dict, fields: dict):
    obj = model.objects.filter(**key).first() or model(**key)
    obj.snapshot()
    changed = obj.pk is None
    for name, value in fields.items():
        attribute = name
        if getattr(obj, attribute, None) != value:
            setattr(obj, attribute, value)
            changed = True
    if changed:
        obj.save()
    return obj
