"""Reading and checking questionnaire files (``data/survey/*.yaml``).

A questionnaire is data, versioned like an indicator system (``code`` + ``version``):
scales, then items with their Chinese and English text, type, the dimension of the 2021
system and the level of the 2023 four-level system each item belongs to, and, where an
item measures an indicator, that indicator. Nothing here writes to the database:
:func:`read_questionnaire` returns a :class:`QuestionnaireSpec` and a list of
:class:`~citycheck.indicators.yaml_files.Issue` objects, each naming the file, line and
field; ``services.import_questionnaire`` loads a file only when the list is empty.
The format is documented in ``docs/survey.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from citycheck.indicators.yaml_files import (
    FieldChecker,
    FieldSpec,
    Issue,
    checked_items,
    file_digest,
    load_yaml,
)

ITEM_TYPES = ("likert", "single", "multiple", "number", "text", "place")
ROLES = ("sex", "age_band", "residence_years", "tenure", "place")
MEASURES = ("score", "share")


def _text(required=False):
    return FieldSpec("text", required)


HEAD_FIELDS = {
    "code": FieldSpec("slug", True),
    "version": FieldSpec("int", True),
    "name_zh": _text(True),
    "name_en": _text(),
    "dimensions_from": _text(True),
    "levels_from": _text(),
    "minutes": FieldSpec("int"),
    "speeder_seconds": FieldSpec("int"),
    "scales": FieldSpec("list"),
    "items": FieldSpec("list", True),
}
SCALE_FIELDS = {
    "code": FieldSpec("slug", True),
    "points": FieldSpec("int", True),
    "labels_zh": FieldSpec("list", True),
    "labels_en": FieldSpec("list"),
}
ITEM_FIELDS = {
    "code": FieldSpec("slug", True),
    "type": FieldSpec("choice", True, ITEM_TYPES),
    "role": FieldSpec("choice", False, ("", *ROLES)),
    "text_zh": _text(True),
    "text_en": _text(),
    "scale": FieldSpec("slug"),
    "options": FieldSpec("list"),
    "dimension": FieldSpec("slug"),
    "level": FieldSpec("slug"),
    "indicator": FieldSpec("mapping"),
    "required": FieldSpec("bool"),
    "max_choices": FieldSpec("int"),
    "min": FieldSpec("number"),
    "max": FieldSpec("number"),
    "max_length": FieldSpec("int"),
}
OPTION_FIELDS = {"code": _text(True), "text_zh": _text(True), "text_en": _text()}
INDICATOR_FIELDS = {
    "code": FieldSpec("slug", True),
    "measure": FieldSpec("choice", True, MEASURES),
    "options": FieldSpec("list"),
}


@dataclass
class QuestionnaireSpec:
    """A checked questionnaire: head fields, scales by code and items in order."""

    path: Path
    code: str
    version: int
    name_zh: str
    name_en: str = ""
    minutes: int = 5
    speeder_seconds: int = 60
    scales: dict[str, dict] = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)
    digest: str = ""

    def as_json(self) -> dict:
        """What the database keeps of the file (``Questionnaire.spec``)."""
        return {
            "minutes": self.minutes,
            "speeder_seconds": self.speeder_seconds,
            "scales": self.scales,
            "items": self.items,
        }


def _system_codes(checker: FieldChecker, data: dict, key: str, path: Path) -> set[str] | None:
    """Dimension and indicator codes of the system file ``data[key]`` names (relative to
    the questionnaire), or None when the key is absent."""
    reference = data.get(key)
    if not reference:
        return None
    system_path = (path.parent / str(reference)).resolve()
    system, issues = load_yaml(system_path)
    if issues or not isinstance(system, dict):
        checker.add(
            data.line_of(key),
            key,
            _("找不到或无法读取指标体系文件：%(path)s") % {"path": reference},
        )
        return set()
    return {
        "dimensions": {
            d.get("code") for d in system.get("dimensions") or [] if isinstance(d, dict)
        },
        "indicators": {
            i.get("code") for i in system.get("indicators") or [] if isinstance(i, dict)
        },
    }


def read_questionnaire(path) -> tuple[QuestionnaireSpec | None, list[Issue]]:
    """Read and check a questionnaire file; the spec is None when it could not be read.

    Refused (each an issue with file, line and field): an unknown field, an unknown
    dimension or level (not in the system files the head names), an unknown indicator,
    a duplicate item or option code, a Likert item without its scale (or naming an
    undefined one), a choice item without options, a scale whose labels do not match its
    points, a demographic role given twice or missing.
    """
    path = Path(path)
    data, issues = load_yaml(path)
    if issues:
        return None, issues
    checker = FieldChecker(path)
    head = checker.mapping(data, "", HEAD_FIELDS, line=1)
    if head is None:
        return None, checker.issues
    dimensions = _system_codes(checker, data, "dimensions_from", path) or {}
    levels = _system_codes(checker, data, "levels_from", path) or {}
    known_indicators = set(dimensions.get("indicators", set())) | set(
        levels.get("indicators", set())
    )
    scales = _read_scales(checker, data)
    items = _read_items(
        checker,
        data,
        scales,
        dimensions.get("dimensions"),
        levels.get("dimensions"),
        known_indicators,
    )
    if checker.issues:
        return None, checker.issues
    spec = QuestionnaireSpec(
        path=path,
        code=head["code"],
        version=head["version"],
        name_zh=head["name_zh"],
        name_en=head.get("name_en") or "",
        minutes=head.get("minutes") or 5,
        speeder_seconds=head.get("speeder_seconds") or 60,
        scales=scales,
        items=items,
        digest=file_digest(path),
    )
    return spec, []


def _read_scales(checker: FieldChecker, data: dict) -> dict[str, dict]:
    scales: dict[str, dict] = {}
    for index, item in enumerate(checked_items(checker, data, "scales")):
        where = f"scales[{index}]"
        row = checker.mapping(item, where, SCALE_FIELDS, line=data.line_of("scales"))
        if row is None or row.get("code") is None:
            continue
        line = item.line_of("code")
        if row["code"] in scales:
            checker.add(line, f"{where}.code", _("代码重复：%(code)s") % {"code": row["code"]})
        points = row.get("points")
        if points is not None and not 2 <= points <= 11:
            checker.add(item.line_of("points"), f"{where}.points", _("量表点数须在 2 到 11 之间"))
        for key in ("labels_zh", "labels_en"):
            labels = row.get(key)
            if labels is not None and points is not None and len(labels) != points:
                checker.add(
                    item.line_of(key),
                    f"{where}.{key}",
                    _("标签数（%(labels)d）与量表点数（%(points)d）不符")
                    % {"labels": len(labels), "points": points},
                )
        scales[row["code"]] = {
            "points": points,
            "labels_zh": [str(label) for label in row.get("labels_zh") or []],
            "labels_en": [str(label) for label in row.get("labels_en") or []],
        }
    return scales


def _read_items(checker, data, scales, dimensions, levels, known_indicators) -> list[dict]:
    items, seen, roles = [], set(), {}
    for index, item in enumerate(checked_items(checker, data, "items")):
        where = f"items[{index}]"
        row = checker.mapping(item, where, ITEM_FIELDS, line=data.line_of("items"))
        if row is None:
            continue
        code, kind = row.get("code"), row.get("type")
        if code is not None:
            if code in seen:
                checker.add(
                    item.line_of("code"),
                    f"{where}.code",
                    _("题目代码重复：%(code)s") % {"code": code},
                )
            seen.add(code)
        if kind == "likert":
            if not row.get("scale"):
                checker.add(item.line, f"{where}.scale", _("李克特量表题须指定量表（scale）"))
            elif row["scale"] not in scales:
                checker.add(
                    item.line_of("scale"),
                    f"{where}.scale",
                    _("未定义的量表：%(scale)s") % {"scale": row["scale"]},
                )
        options = _read_options(checker, item, where, row)
        if kind in ("single", "multiple") and not options:
            checker.add(item.line, f"{where}.options", _("选择题须列出选项（options）"))
        dimension = row.get("dimension")
        if dimension and dimensions is not None and dimension not in dimensions:
            checker.add(
                item.line_of("dimension"),
                f"{where}.dimension",
                _("未知维度：%(code)s（不在 dimensions_from 所指的指标体系中）")
                % {"code": dimension},
            )
        level = row.get("level")
        if level and levels is not None and level not in levels:
            checker.add(
                item.line_of("level"),
                f"{where}.level",
                _("未知层级：%(code)s（不在 levels_from 所指的指标体系中）") % {"code": level},
            )
        role = row.get("role") or ""
        if role:
            if role in roles:
                checker.add(
                    item.line_of("role"),
                    f"{where}.role",
                    _("基本情况题重复：%(role)s") % {"role": role},
                )
            roles[role] = code
        indicator = _read_indicator(checker, item, where, row, options, known_indicators)
        items.append(
            {
                "code": code,
                "type": kind,
                "role": role,
                "text_zh": row.get("text_zh") or "",
                "text_en": row.get("text_en") or "",
                "scale": row.get("scale") or "",
                "options": options,
                "dimension": dimension or "",
                "level": level or "",
                "indicator": indicator,
                "required": row.get("required", True),
                "max_choices": row.get("max_choices"),
                "min": row.get("min"),
                "max": row.get("max"),
                "max_length": row.get("max_length") or 500,
            }
        )
    for role in ("place", "sex", "age_band"):
        if role not in roles:
            checker.add(
                data.line_of("items"), "items", _("缺少基本情况题：role: %(role)s") % {"role": role}
            )
    return items


def _read_options(checker, item, where, row) -> list[dict]:
    options, seen = [], set()
    for index, option in enumerate(row.get("options") or []):
        option_where = f"{where}.options[{index}]"
        clean = checker.mapping(option, option_where, OPTION_FIELDS, line=item.line_of("options"))
        if clean is None or clean.get("code") is None:
            continue
        if clean["code"] in seen:
            checker.add(
                getattr(option, "line", item.line),
                f"{option_where}.code",
                _("选项代码重复：%(code)s") % {"code": clean["code"]},
            )
        seen.add(clean["code"])
        options.append(
            {
                "code": clean["code"],
                "text_zh": clean["text_zh"],
                "text_en": clean.get("text_en") or "",
            }
        )
    return options


def _read_indicator(checker, item, where, row, options, known_indicators) -> dict | None:
    given = row.get("indicator")
    if given is None:
        return None
    line = item.line_of("indicator")
    clean = checker.mapping(given, f"{where}.indicator", INDICATOR_FIELDS, line=line)
    if clean is None or clean.get("code") is None:
        return None
    if known_indicators and clean["code"] not in known_indicators:
        checker.add(
            line, f"{where}.indicator.code", _("未知指标：%(code)s") % {"code": clean["code"]}
        )
    measure = clean.get("measure")
    if measure == "score" and row.get("type") != "likert":
        checker.add(line, f"{where}.indicator.measure", _("score 只用于李克特量表题"))
    if measure == "share":
        chosen = [str(code) for code in clean.get("options") or []]
        codes = {o["code"] for o in options}
        if not chosen or any(code not in codes for code in chosen):
            checker.add(line, f"{where}.indicator.options", _("share 须列出本题已有的选项代码"))
        return {"code": clean["code"], "measure": measure, "options": chosen}
    return {"code": clean["code"], "measure": measure, "options": []}
