"""Reading and checking indicator-system and crosswalk files.

Nothing here writes to the database: :func:`read_system_file` turns a YAML file into a
:class:`SystemSpec` (plain dictionaries keyed by model field names) and a list of
:class:`Issue` objects, each naming the file, line and field. ``services`` loads a spec
only when the list is empty. Line-numbered YAML, field checking and the base-figure and
department registries are in ``yaml_files``. The format is documented in
``docs/indicator-systems.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from citycheck.engine import formulas, units

from .models import Comparison, Rollup
from .yaml_files import (
    BASE_FIGURE_FIELDS,
    COMPARISON_FOR_DIRECTION,
    CROSSWALK_FIELDS,
    CROSSWALK_HEAD_FIELDS,
    DEPARTMENT_FIELDS,
    DIMENSION_FIELDS,
    INDICATOR_FIELDS,
    MAX_DECIMALS,
    PAIR_FIELDS,
    STANDARD_FIELDS,
    SYSTEM_FIELDS,
    SYSTEM_REFERENCE_FIELDS,
    FieldChecker,
    Issue,
    checked_items,
    file_digest,
    item_line,
    load_yaml,
    registry_in_system,
)

# ── Indicator systems ─────────────────────────────────────────────────────────────


@dataclass
class Inherited:
    """What a system inherits from the systems it extends: codes, units and formulas."""

    dimensions: set[str] = field(default_factory=set)
    indicator_units: dict[str, str] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    indicator_count: int = 0


@dataclass
class SystemSpec:
    """A checked system file, as dictionaries keyed by model field names."""

    path: Path
    code: str
    version: int
    name_zh: str
    name_en: str = ""
    description: str = ""
    extends: tuple[str, int] | None = None
    base_figures: list[dict] | None = None
    departments: list[dict] | None = None
    dimensions: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    digest: str = ""

    def summary(self) -> dict:
        """Indicator count per dimension and how many definitions are cited."""
        per_dimension: dict[str, int] = {}
        for indicator in self.indicators:
            per_dimension[indicator["dimension"]] = per_dimension.get(indicator["dimension"], 0) + 1
        cited = sum(1 for indicator in self.indicators if indicator["citation"])
        return {"indicators": len(self.indicators), "per_dimension": per_dimension, "cited": cited}


# Resolves (code, version) of an extended system, or None when it is unknown.
InheritedLookup = Callable[[str, int], "Inherited | None"]


def read_system_file(
    path: Path,
    *,
    inherited_lookup: InheritedLookup,
    known_figures: dict[str, str],
    known_departments: set[str],
) -> tuple[SystemSpec | None, list[Issue]]:
    """Read and check a system file.

    Parameters
    ----------
    path : Path
    inherited_lookup : callable
        ``(code, version) -> Inherited or None`` for the ``extends`` reference.
    known_figures : dict
        Base-figure code -> unit, used when the file does not name a base-figure file.
    known_departments : set
        Department codes, used when the file does not name a department file.

    Returns
    -------
    (SystemSpec or None, list of Issue)
        The spec is None when the file could not be read at all.
    """
    path = Path(path)
    data, issues = load_yaml(path)
    if issues:
        return None, issues
    checker = FieldChecker(path)
    head = checker.mapping(data, "", SYSTEM_FIELDS, line=1)
    if head is None:
        return None, checker.issues
    head = {k: v for k, v in head.items() if k not in ("dimensions", "indicators", "defaults")}
    referenced_files = [path]

    figures, figure_paths = registry_in_system(
        checker, data, "base_figures", BASE_FIGURE_FIELDS, path
    )
    departments, department_paths = registry_in_system(
        checker, data, "departments", DEPARTMENT_FIELDS, path
    )
    referenced_files += figure_paths + department_paths
    figure_units = {
        row["code"]: row["unit"] for row in figures or [] if row.get("code") and row.get("unit")
    }
    figure_units = figure_units if figures is not None else dict(known_figures)
    department_codes = (
        {row["code"] for row in departments} if departments is not None else set(known_departments)
    )

    inherited = Inherited()
    extends = None
    if "extends" in data:
        reference = checker.mapping(
            data["extends"], "extends", SYSTEM_REFERENCE_FIELDS, line=data.line_of("extends")
        )
        if reference and reference.get("code") and reference.get("version"):
            extends = (reference["code"], reference["version"])
            found = inherited_lookup(*extends)
            if found is None:
                checker.add(
                    data.line_of("extends"),
                    "extends",
                    _("被扩展的指标体系 %(code)s（%(version)s）未导入，同目录下也没有它的文件")
                    % {"code": extends[0], "version": extends[1]},
                )
            else:
                inherited = found

    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        defaults = {}
    for key in defaults:
        if key not in INDICATOR_FIELDS or key in ("code", "standards"):
            checker.add(defaults.line_of(key), f"defaults.{key}", _("该字段不能设默认值"))

    dimensions = _read_dimensions(checker, data, inherited)
    dimension_codes = inherited.dimensions | {d["code"] for d in dimensions}
    indicators, indicator_items = _read_indicators(
        checker, data, defaults, dimension_codes, department_codes, inherited
    )
    _check_formulas(checker, indicators, indicator_items, figure_units, inherited)

    if checker.issues or head.get("code") is None or head.get("version") is None:
        return None, checker.issues
    spec = SystemSpec(
        path=path,
        code=head["code"],
        version=head["version"],
        name_zh=head["name_zh"],
        name_en=head.get("name_en", ""),
        description=head.get("description", ""),
        extends=extends,
        base_figures=figures,
        departments=departments,
        dimensions=dimensions,
        indicators=indicators,
        digest=file_digest(*referenced_files),
    )
    return spec, []


def _read_dimensions(checker: FieldChecker, data: dict, inherited: Inherited) -> list[dict]:
    dimensions, seen = [], set()
    for index, item in enumerate(checked_items(checker, data, "dimensions")):
        where = f"dimensions[{index}]"
        row = checker.mapping(item, where, DIMENSION_FIELDS, line=data.line_of("dimensions"))
        if row is None or row.get("code") is None:
            continue
        if row["code"] in seen or row["code"] in inherited.dimensions:
            checker.add(
                item.line_of("code"),
                f"{where}.code",
                _("维度代码重复：%(code)s") % {"code": row["code"]},
            )
        seen.add(row["code"])
        row.setdefault("name_en", "")
        dimensions.append(row)
    return dimensions


def _read_indicators(checker, data, defaults, dimension_codes, department_codes, inherited):
    indicators, items, seen = [], [], set()
    for index, item in enumerate(checked_items(checker, data, "indicators")):
        where = f"indicators[{index}]"
        row = checker.mapping(
            item, where, INDICATOR_FIELDS, line=data.line_of("indicators"), defaults=defaults
        )
        if row is None:
            continue
        code = row.get("code")
        if code is not None:
            if code in seen or code in inherited.indicator_units:
                checker.add(
                    item.line_of("code"),
                    f"{where}.code",
                    _("指标代码重复：%(code)s") % {"code": code},
                )
            seen.add(code)
        if row.get("dimension") and row["dimension"] not in dimension_codes:
            checker.add(
                item.line_of("dimension"),
                f"{where}.dimension",
                _("未知维度：%(code)s") % {"code": row["dimension"]},
            )
        if row.get("department") and row["department"] not in department_codes:
            checker.add(
                item.line_of("department"),
                f"{where}.department",
                _("未知责任单位：%(code)s") % {"code": row["department"]},
            )
        if row.get("unit"):
            try:
                units.parse_unit(row["unit"])
            except units.UnitError as exc:
                checker.add(
                    item.line_of("unit"),
                    f"{where}.unit",
                    _("单位无法识别：%(error)s") % {"error": exc},
                )
                row["unit"] = None
        decimals = row.get("decimals")
        if decimals is not None and not 0 <= decimals <= MAX_DECIMALS:
            checker.add(
                item.line_of("decimals"),
                f"{where}.decimals",
                _("小数位数应在 0 到 %(max)s 之间") % {"max": MAX_DECIMALS},
            )
        has_citation = bool(row.get("citation"))
        if has_citation == bool(row.get("definition_origin")):
            checker.add(
                item.line,
                f"{where}.citation",
                _("须给出定义出处 citation，或注明 definition_origin: own（二者选一）"),
            )
        if row.get("rollup") == Rollup.RATIO_OF_SUMS and not row.get("formula"):
            checker.add(
                item.line_of("rollup"), f"{where}.rollup", _("“分子分母分别求和后相除”需要计算公式")
            )
        low, high = row.get("range_low"), row.get("range_high")
        if low is not None and high is not None and low > high:
            checker.add(
                item.line_of("range_high"), f"{where}.range_high", _("合理范围上限小于下限")
            )
        row["standards"] = _read_standards(checker, item, where, row.get("direction"))
        indicators.append(_indicator_values(row))
        items.append(item)
    return indicators, items


def _indicator_values(row: dict) -> dict:
    """Fill optional fields with their stored defaults; drop definition_origin."""
    values = {key: row.get(key) for key in INDICATOR_FIELDS if key != "definition_origin"}
    for key in (
        "number",
        "group",
        "name_en",
        "definition",
        "formula",
        "spatial_scope",
        "time_point",
        "citation",
    ):
        values[key] = values[key] or ""
    values["decimals"] = 2 if values["decimals"] is None else values["decimals"]
    return values


def _read_standards(checker: FieldChecker, item, where: str, direction) -> list[dict]:
    standards, classes = [], set()
    if not isinstance(item, dict):
        return standards
    for index, entry in enumerate(checked_items(checker, item, "standards")):
        path = f"{where}.standards[{index}]"
        row = checker.mapping(entry, path, STANDARD_FIELDS, line=item.line_of("standards"))
        if row is None:
            continue
        line = item_line(entry, item.line)
        city_class = row.get("city_class") or ""
        if city_class in classes:
            label = city_class or _("（全部城市）")
            checker.add(
                line,
                f"{path}.city_class",
                _("同一城市规模等级有两个标准值：%(cls)s") % {"cls": label},
            )
        classes.add(city_class)
        comparison = row.get("comparison")
        if comparison == Comparison.BETWEEN:
            if row.get("value_high") is None:
                checker.add(line, f"{path}.value_high", _("“介于”须给出上限 value_high"))
            elif row.get("value") is not None and row["value_high"] < row["value"]:
                checker.add(entry.line_of("value_high"), f"{path}.value_high", _("上限小于下限"))
        elif comparison and row.get("value_high") is not None:
            checker.add(
                entry.line_of("value_high"),
                f"{path}.value_high",
                _("只有“介于”才有上限 value_high"),
            )
        expected = COMPARISON_FOR_DIRECTION.get(direction)
        if comparison and expected and comparison != expected:
            checker.add(
                entry.line_of("comparison"),
                f"{path}.comparison",
                _("比较方式 %(comparison)s 与指标方向 %(direction)s 不符（应为 %(expected)s）")
                % {"comparison": comparison, "direction": direction, "expected": expected.value},
            )
        if (row.get("warning_band") or 0) < 0:
            checker.add(
                entry.line_of("warning_band"), f"{path}.warning_band", _("预警带宽不能为负")
            )
        standards.append(
            {
                "city_class": city_class,
                "comparison": comparison,
                "value": row.get("value"),
                "value_high": row.get("value_high"),
                "warning_band": row.get("warning_band") or 0.0,
                "is_target": bool(row.get("is_target")),
                "citation": row.get("citation") or "",
            }
        )
    return standards


def _check_formulas(checker, indicators, items, figure_units, inherited: Inherited):
    """Parse every formula, refuse unknown names, unit mismatches and circular references."""
    indicator_units = dict(inherited.indicator_units)
    indicator_units.update(
        {row["code"]: row["unit"] for row in indicators if row.get("code") and row.get("unit")}
    )
    name_units = {**figure_units, **indicator_units}
    parsed = {code: formulas.parse(text) for code, text in inherited.formulas.items()}
    where_of = {}
    for index, (row, item) in enumerate(zip(indicators, items, strict=True)):
        text, code = row.get("formula"), row.get("code")
        if not text or not code:
            continue
        where, line = f"indicators[{index}].formula", item.line_of("formula")
        try:
            formula = formulas.parse(text, known_names=name_units)
        except formulas.ParseError as exc:
            checker.add(
                line,
                where,
                _("公式错误（第 %(pos)s 个字符）：%(detail)s")
                % {"pos": exc.position + 1, "detail": exc.detail},
            )
            continue
        parsed[code] = formula
        where_of[code] = (line, where)
        if code in formula.names:
            continue  # reported as a circular reference below
        if not row.get("unit"):
            continue
        try:
            result = units.formula_unit(formula, name_units)
            units.conversion_factor(result, row["unit"])
        except units.UnitError as exc:
            checker.add(line, where, _("单位不一致：%(error)s") % {"error": exc})
    try:
        formulas.dependency_order(parsed)
    except formulas.CycleError as exc:
        line, where = next((where_of[c] for c in exc.cycle if c in where_of), (None, "indicators"))
        checker.add(line, where, _("循环引用：%(cycle)s") % {"cycle": " → ".join(exc.cycle)})


def unit_factor(formula_text: str, declared_unit: str, name_units: dict[str, str]) -> float:
    """The factor turning the raw result of a checked formula into the declared unit."""
    result = units.formula_unit(formula_text, name_units)
    return units.conversion_factor(result, declared_unit)


def inherited_from_spec(spec: SystemSpec, parent: Inherited) -> Inherited:
    """What a system read from a file passes on to the systems that extend it."""
    return Inherited(
        dimensions=parent.dimensions | {d["code"] for d in spec.dimensions},
        indicator_units={
            **parent.indicator_units,
            **{i["code"]: i["unit"] for i in spec.indicators},
        },
        formulas={
            **parent.formulas,
            **{i["code"]: i["formula"] for i in spec.indicators if i["formula"]},
        },
        indicator_count=parent.indicator_count + len(spec.indicators),
    )


# ── Crosswalks ────────────────────────────────────────────────────────────────────


@dataclass
class CrosswalkSpec:
    path: Path
    source: tuple[str, int]
    target: tuple[str, int]
    pairs: list[dict]


def read_crosswalk_file(
    path: Path, *, indicator_codes: Callable[[str, int], set[str] | None]
) -> tuple[CrosswalkSpec | None, list[Issue]]:
    """Read and check a crosswalk file against the indicators of its two systems."""
    path = Path(path)
    data, issues = load_yaml(path)
    if issues:
        return None, issues
    checker = FieldChecker(path)
    top = checker.mapping(data, "", CROSSWALK_FIELDS, line=1)
    if not top or not top.get("crosswalk"):
        return None, checker.issues
    body = data["crosswalk"]
    head = checker.mapping(body, "crosswalk", CROSSWALK_HEAD_FIELDS, line=data.line_of("crosswalk"))
    if head is None:
        return None, checker.issues
    systems, codes = {}, {}
    for side in ("source", "target"):
        if side not in body:
            continue
        reference = checker.mapping(
            body[side], f"crosswalk.{side}", SYSTEM_REFERENCE_FIELDS, line=body.line_of(side)
        )
        if not reference or reference.get("code") is None or reference.get("version") is None:
            continue
        systems[side] = (reference["code"], reference["version"])
        codes[side] = indicator_codes(*systems[side])
        if codes[side] is None:
            checker.add(
                body.line_of(side),
                f"crosswalk.{side}",
                _("指标体系 %(code)s（%(version)s）未导入")
                % {"code": reference["code"], "version": reference["version"]},
            )
    pairs, seen = [], set()
    for index, item in enumerate(checked_items(checker, body, "pairs")):
        where = f"crosswalk.pairs[{index}]"
        row = checker.mapping(item, where, PAIR_FIELDS, line=body.line_of("pairs"))
        if row is None:
            continue
        for side in ("source", "target"):
            known = codes.get(side)
            if known is not None and row.get(side) and row[side] not in known:
                checker.add(
                    item.line_of(side),
                    f"{where}.{side}",
                    _("指标体系 %(system)s 中没有指标 %(code)s")
                    % {"system": systems[side][0], "code": row[side]},
                )
        key = (row.get("source"), row.get("target"))
        if key in seen:
            checker.add(
                item.line,
                where,
                _("对照关系重复：%(source)s → %(target)s") % {"source": key[0], "target": key[1]},
            )
        seen.add(key)
        row.setdefault("note", "")
        pairs.append(row)
    if checker.issues:
        return None, checker.issues
    return CrosswalkSpec(path, systems["source"], systems["target"], pairs), []
