"""The machinery under every indicator-system file: YAML read with line numbers, the
fields each kind of entry may hold and their checking, and the registries systems share
(base figures, departments). Every problem becomes an :class:`Issue` naming the file,
line and field; nothing here writes to the database.

The files themselves are read in ``system_file`` (systems and crosswalks); the format is
documented in ``docs/indicator-systems.md``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.utils.translation import gettext as _

from citycheck.engine import units
from citycheck.places.models import CityClass

from .models import Comparison, Crosswalk, Direction, IndicatorType, Rollup, SourceKind, Tier

SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")
ORIGIN_OWN = "own"
MAX_DECIMALS = 6
# Which comparison fits which direction: higher-better indicators have a floor, and so on.
COMPARISON_FOR_DIRECTION = {
    Direction.HIGHER: Comparison.AT_LEAST,
    Direction.LOWER: Comparison.AT_MOST,
    Direction.RANGE: Comparison.BETWEEN,
}


@dataclass(frozen=True)
class Issue:
    """One problem in a file: where it is and what is wrong."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class SystemFileError(Exception):
    """A file that was refused; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(map(str, issues)))


# ── YAML with line numbers ───────────────────────────────────────────────────────


class LocatedDict(dict):
    """A mapping read from YAML that remembers its own line and the line of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


# The C parser when PyYAML has it (ten times faster); both keep node marks for line numbers.
class _LocatingLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


def _construct_located_mapping(loader, node):
    mapping = LocatedDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    yield mapping
    loader.flatten_mapping(node)
    duplicates = []
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping.key_lines:
            duplicates.append((key, key_node.start_mark.line + 1))
        mapping.key_lines[key] = key_node.start_mark.line + 1
    mapping.update(loader.construct_mapping(node, deep=True))
    mapping.duplicate_keys = duplicates


_LocatingLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_located_mapping
)


def load_yaml(path: Path) -> tuple[object, list[Issue]]:
    """Read a YAML file keeping line numbers; syntax errors become issues."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Issue(str(path), None, "", _("无法读取文件：%(error)s") % {"error": exc})]
    try:
        return yaml.load(text, Loader=_LocatingLoader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        return None, [Issue(str(path), line, "", _("YAML 语法错误：%(error)s") % {"error": exc})]


def file_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def file_kind(path: Path) -> str | None:
    """``"crosswalk"``, ``"system"`` or None, recognised by the file's top-level keys."""
    data, issues = load_yaml(path)
    if issues or not isinstance(data, dict):
        return None
    if "crosswalk" in data:
        return "crosswalk"
    if "indicators" in data or "dimensions" in data:
        return "system"
    return None


# ── Field checking ───────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # "text", "slug", "int", "number", "bool", "choice", "list", "mapping"
    required: bool = False
    choices: tuple = ()


def _text(required=False):
    return FieldSpec("text", required)


def _choice(choices, required=True):
    return FieldSpec("choice", required, tuple(choices))


DIMENSION_FIELDS = {
    "code": FieldSpec("slug", True),
    "name_zh": _text(True),
    "name_en": _text(),
}
INDICATOR_FIELDS = {
    "code": FieldSpec("slug", True),
    "number": _text(),
    "dimension": FieldSpec("slug", True),
    "group": _text(),
    "name_zh": _text(True),
    "name_en": _text(),
    "definition": _text(),
    "unit": _text(True),
    "direction": _choice(Direction.values),
    "type": _choice(IndicatorType.values),
    "tier": _choice(Tier.values),
    "formula": _text(),
    "department": FieldSpec("slug"),
    "source_kind": _choice(SourceKind.values),
    "spatial_scope": _text(),
    "time_point": _text(),
    "decimals": FieldSpec("int"),
    "rollup": _choice(Rollup.values),
    "citation": _text(),
    "definition_origin": _choice([ORIGIN_OWN], required=False),
    "range_low": FieldSpec("number"),
    "range_high": FieldSpec("number"),
    "standards": FieldSpec("list"),
}
STANDARD_FIELDS = {
    "city_class": _choice(["", *CityClass.values], required=False),
    "comparison": _choice(Comparison.values),
    "value": FieldSpec("number", True),
    "value_high": FieldSpec("number"),
    "warning_band": FieldSpec("number"),
    "is_target": FieldSpec("bool"),
    "citation": _text(),
}
BASE_FIGURE_FIELDS = {
    "code": FieldSpec("slug", True),
    "name_zh": _text(True),
    "name_en": _text(),
    "unit": _text(True),
    "definition": _text(),
    "time_point": _text(),
    "spatial_scope": _text(),
    "range_low": FieldSpec("number"),
    "range_high": FieldSpec("number"),
}
DEPARTMENT_FIELDS = {
    "code": FieldSpec("slug", True),
    "name_zh": _text(True),
    "name_en": _text(),
}
SYSTEM_FIELDS = {
    "code": FieldSpec("slug", True),
    "version": FieldSpec("int", True),
    "name_zh": _text(True),
    "name_en": _text(),
    "description": _text(),
    "extends": FieldSpec("mapping"),
    "base_figures": FieldSpec("any"),
    "departments": FieldSpec("any"),
    "sources": FieldSpec("list"),
    "defaults": FieldSpec("mapping"),
    "dimensions": FieldSpec("list"),
    "indicators": FieldSpec("list", True),
}
CROSSWALK_FIELDS = {
    "crosswalk": FieldSpec("mapping", True),
}
CROSSWALK_HEAD_FIELDS = {
    "source": FieldSpec("mapping", True),
    "target": FieldSpec("mapping", True),
    "pairs": FieldSpec("list", True),
}
PAIR_FIELDS = {
    "source": FieldSpec("slug", True),
    "target": FieldSpec("slug", True),
    "relation": _choice(Crosswalk.Relation.values),
    "note": _text(),
}
SYSTEM_REFERENCE_FIELDS = {"code": FieldSpec("slug", True), "version": FieldSpec("int", True)}
EMPTY_TEXT_DEFAULTS = {"text": "", "slug": ""}


class FieldChecker:
    """Collects issues for one file while converting mappings to clean dictionaries."""

    def __init__(self, path: Path):
        self.path = path
        self.issues: list[Issue] = []

    def add(self, line, field_path, message):
        self.issues.append(Issue(str(self.path), line, field_path, message))

    def mapping(
        self, data, where: str, specs: dict, *, line: int | None = None, defaults=None
    ) -> dict | None:
        """Check one mapping against its field specs; return the clean values or None."""
        if not isinstance(data, dict):
            self.add(line, where, _("应为键值映射（mapping）"))
            return None
        for key, key_line in getattr(data, "duplicate_keys", []):
            self.add(key_line, f"{where}.{key}", _("键重复"))
        values = dict(defaults or {})
        values.update(data)
        clean = {}
        for key in data:
            if key not in specs:
                allowed = "、".join(specs)
                self.add(
                    data.line_of(key),
                    f"{where}.{key}",
                    _("未知字段（可用字段：%(allowed)s）") % {"allowed": allowed},
                )
        for key, spec in specs.items():
            key_line = data.line_of(key) if key in data else getattr(data, "line", line)
            path = f"{where}.{key}"
            value = values.get(key)
            if value is None or (spec.kind in ("text", "slug") and value == "" and spec.required):
                if spec.required:
                    self.add(key_line, path, _("缺少必填字段"))
                continue
            clean[key] = self._value(value, spec, key_line, path)
        return clean

    def _value(self, value, spec: FieldSpec, line, path):
        if spec.kind == "text":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                self.add(line, path, _("应为文本"))
                return None
            return str(value)
        if spec.kind == "slug":
            if not isinstance(value, str) or not SLUG.match(value):
                self.add(
                    line,
                    path,
                    _("代码只能由小写字母、数字、下划线和连字符组成，且以字母开头：%(value)r")
                    % {"value": value},
                )
                return None
            return value
        if spec.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                self.add(line, path, _("应为整数：%(value)r") % {"value": value})
                return None
            return value
        if spec.kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                self.add(line, path, _("应为数值：%(value)r") % {"value": value})
                return None
            return float(value)
        if spec.kind == "bool":
            if not isinstance(value, bool):
                self.add(line, path, _("应为 true 或 false：%(value)r") % {"value": value})
                return None
            return value
        if spec.kind == "choice":
            value = "" if value is None else value
            if value not in spec.choices:
                allowed = "、".join(repr(c) for c in spec.choices)
                self.add(
                    line,
                    path,
                    _("取值 %(value)r 无效（可选：%(allowed)s）")
                    % {"value": value, "allowed": allowed},
                )
                return None
            return value
        if spec.kind == "list":
            if not isinstance(value, list):
                self.add(line, path, _("应为列表"))
                return None
            return value
        if spec.kind == "mapping":
            if not isinstance(value, dict):
                self.add(line, path, _("应为键值映射（mapping）"))
                return None
            return value
        return value


def checked_items(checker: FieldChecker, data: dict, key: str) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        checker.add(data.line_of(key), key, _("应为列表"))
        return []
    return value


def item_line(item, default=None):
    return getattr(item, "line", default)


# ── Registries shared by systems: base figures and departments ───────────────────


def _resolve_path(base: Path, reference: str) -> Path:
    return (base.parent / reference).resolve()


def read_registry(path: Path, key: str, specs: dict) -> tuple[list[dict], list[Issue]]:
    """Read a list of rows under ``key`` (base figures, departments) from a file."""
    data, issues = load_yaml(path)
    if issues:
        return [], issues
    checker = FieldChecker(path)
    if not isinstance(data, dict) or key not in data:
        checker.add(1, key, _("文件须有顶层字段 %(key)s") % {"key": key})
        return [], checker.issues
    return _registry_rows(checker, data, key, specs), checker.issues


def _registry_rows(checker: FieldChecker, data: dict, key: str, specs: dict) -> list[dict]:
    rows, seen = [], set()
    for index, item in enumerate(checked_items(checker, data, key)):
        where = f"{key}[{index}]"
        row = checker.mapping(item, where, specs, line=data.line_of(key))
        if row is None:
            continue
        if row.get("code") in seen:
            checker.add(
                item.line_of("code"),
                f"{where}.code",
                _("代码重复：%(code)s") % {"code": row["code"]},
            )
        seen.add(row.get("code"))
        if "unit" in specs and row.get("unit") is not None:
            try:
                units.parse_unit(row["unit"])
            except units.UnitError as exc:
                checker.add(
                    item.line_of("unit"),
                    f"{where}.unit",
                    _("单位无法识别：%(error)s") % {"error": exc},
                )
        rows.append(row)
    return rows


def registry_in_system(checker: FieldChecker, data: dict, key: str, specs: dict, path: Path):
    """A registry given inline (a list) or as a path to a shared file; None if absent."""
    if key not in data:
        return None, []
    reference = data[key]
    if isinstance(reference, list):
        return _registry_rows(checker, data, key, specs), []
    if isinstance(reference, str):
        registry_path = _resolve_path(path, reference)
        if not registry_path.is_file():
            checker.add(data.line_of(key), key, _("找不到文件：%(path)s") % {"path": registry_path})
            return [], []
        rows, issues = read_registry(registry_path, key, specs)
        checker.issues.extend(issues)
        return rows, [registry_path]
    checker.add(data.line_of(key), key, _("应为文件路径或列表"))
    return [], []
