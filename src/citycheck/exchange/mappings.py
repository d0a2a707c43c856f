"""Code mappings between our indicator system and another level's, as data files.

A mapping file (``data/exchange/mappings/*.yaml``, format in ``docs/exchange.md``) says,
for one version of each side's system, which of our indicator codes becomes which of
theirs (with their unit and a conversion factor) and which of ours has no counterpart
(and why). Files are read with line numbers; every problem names file, line and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.utils.translation import gettext as _

from citycheck.indicators.yaml_files import FieldChecker, FieldSpec, Issue, load_yaml

from . import conf

HEAD_FIELDS = {
    "code": FieldSpec("slug", True),
    "version": FieldSpec("text", True),
    "ours": FieldSpec("mapping", True),
    "theirs": FieldSpec("mapping", True),
    "note": FieldSpec("text"),
}
SIDE_FIELDS = {"system": FieldSpec("slug", True), "version": FieldSpec("int", True)}
FILE_FIELDS = {
    "mapping": FieldSpec("mapping", True),
    "pairs": FieldSpec("list", True),
    "unmapped": FieldSpec("list"),
}
PAIR_FIELDS = {
    "ours": FieldSpec("slug", True),
    "theirs": FieldSpec("text", True),
    "unit": FieldSpec("text", True),
    "factor": FieldSpec("number"),
    "note": FieldSpec("text"),
}
UNMAPPED_FIELDS = {"ours": FieldSpec("slug", True), "note": FieldSpec("text", True)}


class MappingError(Exception):
    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(map(str, issues)))


@dataclass(frozen=True)
class Mapping:
    code: str
    version: str
    ours: tuple[str, int]
    theirs: tuple[str, int]
    pairs: pd.DataFrame  # ours, theirs, unit, factor
    unmapped: dict[str, str]  # our code → why it has no counterpart
    path: str

    @property
    def reference(self) -> dict:
        return {"code": self.code, "version": self.version}


def read_mapping(path) -> Mapping:
    """The mapping in ``path``, or :class:`MappingError` listing every problem."""
    path = Path(path)
    data, issues = load_yaml(path)
    if issues:
        raise MappingError(issues)
    checker = FieldChecker(path)
    top = checker.mapping(data, "", FILE_FIELDS, line=1) or {}
    head = checker.mapping(top.get("mapping"), "mapping", HEAD_FIELDS, line=1) or {}
    node = data.get("mapping") if isinstance(data, dict) else None
    sides = {}
    for side in ("ours", "theirs"):
        if side in head:
            sides[side] = checker.mapping(
                node[side], f"mapping.{side}", SIDE_FIELDS, line=node.line_of(side)
            )
    pairs, seen, their_seen = [], {}, {}
    for index, item in enumerate(top.get("pairs") or []):
        where = f"pairs[{index}]"
        line = getattr(item, "line", None)
        clean = checker.mapping(item, where, PAIR_FIELDS, line=line)
        if not clean or "ours" not in clean or "theirs" not in clean:
            continue
        factor = clean.get("factor", 1.0)
        if factor is not None and factor <= 0:
            checker.add(item.line_of("factor"), f"{where}.factor", _("换算系数应为正数"))
        if clean["ours"] in seen:
            checker.add(
                item.line_of("ours"),
                f"{where}.ours",
                _("指标 %(code)s 已在第 %(line)s 行映射")
                % {"code": clean["ours"], "line": seen[clean["ours"]]},
            )
        if clean["theirs"] in their_seen:
            checker.add(
                item.line_of("theirs"),
                f"{where}.theirs",
                _("对方指标 %(code)s 已在第 %(line)s 行被映射（一个对方指标只能对应一个本方指标）")
                % {"code": clean["theirs"], "line": their_seen[clean["theirs"]]},
            )
        seen.setdefault(clean["ours"], item.line)
        their_seen.setdefault(clean["theirs"], item.line)
        pairs.append(
            {
                "ours": clean["ours"],
                "theirs": clean["theirs"],
                "unit": clean.get("unit", ""),
                "factor": 1.0 if factor is None else factor,
            }
        )
    unmapped = {}
    for index, item in enumerate(top.get("unmapped") or []):
        where = f"unmapped[{index}]"
        clean = checker.mapping(item, where, UNMAPPED_FIELDS, line=getattr(item, "line", None))
        if not clean or "ours" not in clean:
            continue
        if clean["ours"] in seen:
            checker.add(
                item.line_of("ours"),
                f"{where}.ours",
                _("指标 %(code)s 已在第 %(line)s 行映射，不能同时列为无对应")
                % {"code": clean["ours"], "line": seen[clean["ours"]]},
            )
        unmapped[clean["ours"]] = clean.get("note", "")
    if checker.issues:
        raise MappingError(checker.issues)
    return Mapping(
        code=head["code"],
        version=head["version"],
        ours=(sides["ours"]["system"], sides["ours"]["version"]),
        theirs=(sides["theirs"]["system"], sides["theirs"]["version"]),
        pairs=pd.DataFrame(pairs, columns=["ours", "theirs", "unit", "factor"]),
        unmapped=unmapped,
        path=str(path),
    )


def mapping_files(directory=None) -> list[Path]:
    return sorted(Path(directory or conf.mappings_dir()).glob("*.yaml"))


def _version_key(version: str) -> tuple:
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"[.\-]", version)
    )


def find_mapping(ours: tuple[str, int], theirs_system: str | None = None, directory=None):
    """The mapping of the highest version from our system (code, version), optionally to
    one system of theirs; None when there is none. Files with problems are skipped here
    (``citycheck exchange mappings`` reports them)."""
    found = []
    for path in mapping_files(directory):
        try:
            mapping = read_mapping(path)
        except MappingError:
            continue
        if mapping.ours == tuple(ours) and theirs_system in (None, mapping.theirs[0]):
            found.append(mapping)
    return max(found, key=lambda m: _version_key(m.version), default=None)


def coverage(mapping: Mapping, our_indicators: dict[str, str], their_units=None) -> pd.DataFrame:
    """Which of our indicators map and which do not.

    ``our_indicators`` maps our codes to our units; ``their_units`` (optional) the other
    system's codes to its units, to check that every target exists. One row per our
    indicator and per mapping entry naming an unknown code: ``ours``, ``theirs``,
    ``status`` (``mapped``, ``unmapped`` with a reason, ``not_covered`` — in neither list —,
    ``unknown_ours``, ``unknown_theirs``), ``note``.
    """
    rows = []
    pairs = mapping.pairs.set_index("ours")
    for code in sorted(our_indicators):
        if code in pairs.index:
            theirs = pairs.at[code, "theirs"]
            if their_units is not None and theirs not in their_units:
                rows.append((code, theirs, "unknown_theirs", _("对方体系中没有该指标")))
            else:
                rows.append((code, theirs, "mapped", ""))
        elif code in mapping.unmapped:
            rows.append((code, "", "unmapped", mapping.unmapped[code]))
        else:
            rows.append((code, "", "not_covered", _("映射文件未说明该指标")))
    for code in sorted(set(pairs.index) - set(our_indicators)):
        rows.append((code, pairs.at[code, "theirs"], "unknown_ours", _("本方体系中没有该指标")))
    return pd.DataFrame(rows, columns=["ours", "theirs", "status", "note"])
