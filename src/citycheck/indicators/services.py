"""Indicator-system workflows: validate, import and export system files; crosswalks; frames.

The only module of the app that writes. Imports are atomic (all or nothing) and
idempotent (a row is saved only when a field changed, so loading the same file twice
writes nothing, not even an audit record). The engine reads systems through
:func:`system_frame`, :func:`standards_frame` and :func:`base_figures_frame`.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from citycheck.accounts.models import Department
from citycheck.core import access
from citycheck.core.choices import Action
from citycheck.core.context import acting, current_actor
from citycheck.core.models import record_event
from citycheck.engine import formulas
from citycheck.places.models import Place

from . import system_file, yaml_files
from .models import BaseFigure, Crosswalk, Dimension, Indicator, IndicatorSystem, Standard
from .system_file import Inherited, SystemSpec, inherited_from_spec, unit_factor
from .yaml_files import Issue, SystemFileError, file_kind

__all__ = [
    "Issue",
    "SystemFileError",
    "base_figures_frame",
    "evaluable_formula",
    "export_system",
    "formula_name_units",
    "import_file",
    "import_system_file",
    "load_crosswalk",
    "standards_frame",
    "system_frame",
    "system_summary",
    "validate_crosswalk_file",
    "validate_file",
    "validate_system_file",
]


# ── Reading files against what is already loaded ─────────────────────────────────


def _inherited_from_db(system: IndicatorSystem) -> Inherited:
    lineage = system.lineage()
    indicators = Indicator.objects.filter(system__in=lineage)
    return Inherited(
        dimensions=set(Dimension.objects.filter(system__in=lineage).values_list("code", flat=True)),
        indicator_units=dict(indicators.values_list("code", "unit")),
        formulas={code: text for code, text in indicators.values_list("code", "formula") if text},
        indicator_count=indicators.count(),
    )


def _sibling_system_file(directory: Path, code: str, version: int) -> Path | None:
    """A system file in ``directory`` that defines (code, version), if any."""
    code_line = re.compile(rf"^code:\s*['\"]?{re.escape(code)}['\"]?\s*$", re.MULTILINE)
    version_line = re.compile(rf"^version:\s*{version}\s*$", re.MULTILINE)
    for path in sorted(directory.glob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if code_line.search(text) and version_line.search(text):
            return path
    return None


def _read_system(
    path: Path, _visiting: frozenset = frozenset()
) -> tuple[SystemSpec | None, list[Issue], list[Path]]:
    """Read a system file; the systems it extends come from the database or, if not
    loaded yet, from a file beside it. Returns the spec, the issues and the files of
    extended systems that must be imported first (base first)."""
    path = Path(path).resolve()
    to_import: list[Path] = []

    def lookup(code: str, version: int) -> Inherited | None:
        loaded = IndicatorSystem.objects.filter(code=code, version=version).first()
        if loaded is not None:
            return _inherited_from_db(loaded)
        sibling = _sibling_system_file(path.parent, code, version)
        if sibling is None or sibling.resolve() in _visiting or sibling.resolve() == path:
            return None
        spec, issues, before = _read_system(sibling, _visiting | {path})
        if spec is None or issues:
            return None
        to_import.extend([*before, sibling])
        parent = lookup(*spec.extends) if spec.extends else Inherited()
        return inherited_from_spec(spec, parent or Inherited())

    spec, issues = system_file.read_system_file(
        path,
        inherited_lookup=lookup,
        known_figures=dict(BaseFigure.objects.values_list("code", "unit")),
        known_departments=set(Department.objects.values_list("code", flat=True)),
    )
    return spec, issues, list(dict.fromkeys(to_import))


def validate_system_file(path) -> list[Issue]:
    """Every problem in a system file (empty when it can be imported)."""
    _spec, issues, _before = _read_system(Path(path))
    return issues


def validate_crosswalk_file(path) -> list[Issue]:
    """Every problem in a crosswalk file; systems not loaded yet are read from files beside it."""
    path = Path(path).resolve()

    def codes(code: str, version: int) -> set[str] | None:
        loaded = _indicator_codes(code, version)
        if loaded is not None:
            return loaded
        sibling = _sibling_system_file(path.parent, code, version)
        spec = _read_system(sibling)[0] if sibling else None
        if spec is None:
            return None
        inherited = codes(*spec.extends) if spec.extends else set()
        return {indicator["code"] for indicator in spec.indicators} | (inherited or set())

    _spec, issues = system_file.read_crosswalk_file(path, indicator_codes=codes)
    return issues


def validate_file(path) -> list[Issue]:
    """Validate a system or crosswalk file, recognised by its top-level keys."""
    path = Path(path)
    if file_kind(path) == "crosswalk":
        return validate_crosswalk_file(path)
    return validate_system_file(path)


def read_system_spec(path) -> SystemSpec:
    """The checked contents of a system file; raises :class:`SystemFileError`."""
    spec, issues, _before = _read_system(Path(path))
    if issues:
        raise SystemFileError(issues)
    return spec


# ── Import ────────────────────────────────────────────────────────────────────────


class _Rows:
    """The existing rows of one model, read once and keyed by their natural key.

    ``save`` creates a row, or saves it only if a value differs: re-loading an unchanged
    file writes nothing, not even an audit record.
    """

    def __init__(self, queryset, key_fields: tuple[str, ...]):
        self.model = queryset.model
        self.key_fields = key_fields
        self.by_key = {tuple(getattr(row, f) for f in key_fields): row for row in queryset}

    def save(self, values: dict, **lookup):
        row = self.by_key.get(tuple(lookup[f] for f in self.key_fields))
        if row is None:
            row = self.model.objects.create(**lookup, **values)
            self.by_key[tuple(lookup[f] for f in self.key_fields)] = row
            return row
        changed = {key: value for key, value in values.items() if getattr(row, key) != value}
        if changed:
            for key, value in changed.items():
                setattr(row, key, value)
            row.save()
        return row


def _delete_missing(queryset, keep_pks, path: Path, what: str):
    try:
        for row in queryset.exclude(pk__in=keep_pks):
            row.delete()
    except ProtectedError as exc:
        raise SystemFileError(
            [
                Issue(
                    str(path),
                    None,
                    what,
                    _("文件中已删去的%(what)s仍有数据引用，不能删除：%(rows)s")
                    % {
                        "what": what,
                        "rows": ", ".join(str(obj) for obj in list(exc.protected_objects)[:5]),
                    },
                )
            ]
        ) from exc


def _load_registries(spec: SystemSpec):
    departments = _Rows(Department.objects.all(), ("code",))
    for row in spec.departments or []:
        departments.save(
            {"name_zh": row["name_zh"], "name_en": row.get("name_en", "")}, code=row["code"]
        )
    figures = _Rows(BaseFigure.objects.all(), ("code",))
    for row in spec.base_figures or []:
        values = {key: row.get(key) for key in yaml_files.BASE_FIGURE_FIELDS if key != "code"}
        for key in ("name_en", "definition", "time_point", "spatial_scope"):
            values[key] = values[key] or ""
        figures.save(values, code=row["code"])


def may_change_system(user, owner: Place | None) -> bool:
    """Whether ``user`` may change or create a system owned by ``owner`` (None: this
    instance's top level): an administrator whose reach holds the owner. A province's
    administrator in a national instance may not change the national system, only add
    its own extensions."""
    if not access.may(user, Action.MANAGE):
        return False
    if user.is_superuser:
        return True
    if user.place_id is None:
        return False
    if owner is None:
        return user.place.parent_id is None
    return owner.path.startswith(user.place.path)


def _owner_for(spec: SystemSpec, user) -> Place | None:
    """The owner of the system ``spec`` loads as ``user``: the existing system's, or for a
    new one the user's place below the top level (None at the top). Raises
    ``PermissionDenied`` naming the owner when ``user`` may not change the system."""
    existing = (
        IndicatorSystem.objects.filter(code=spec.code, version=spec.version)
        .select_related("owner")
        .first()
    )
    if existing is None:
        if not access.may(user, Action.MANAGE):
            raise PermissionDenied(_("只有管理员可以导入指标体系。"))
        place = None if user.is_superuser else user.place
        return place if place is not None and place.parent_id is not None else None
    if existing.source_digest != spec.digest and not may_change_system(user, existing.owner):
        owner = existing.owner or Place.objects.filter(parent=None).order_by("code").first()
        raise PermissionDenied(
            _(
                "指标体系 %(system)s 属于%(owner)s，您的账号不能修改它；"
                "可以导入扩展它（extends: {code: %(code)s, version: %(version)s}）的本地指标体系。"
            )
            % {"system": existing, "owner": owner, "code": spec.code, "version": spec.version}
        )
    return existing.owner


def _load_system(spec: SystemSpec, owner: Place | None = None) -> IndicatorSystem:
    _load_registries(spec)
    extends = (
        IndicatorSystem.objects.get(code=spec.extends[0], version=spec.extends[1])
        if spec.extends
        else None
    )
    systems = _Rows(
        IndicatorSystem.objects.filter(code=spec.code, version=spec.version), ("code", "version")
    )
    existing = systems.by_key.get((spec.code, spec.version))
    if existing is not None and existing.source_digest == spec.digest:
        return existing
    system = systems.save(
        {
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "description": spec.description,
            "extends_id": extends.pk if extends else None,
            "source_digest": spec.digest,
            "owner_id": owner.pk if owner else None,
        },
        code=spec.code,
        version=spec.version,
    )
    dimension_pk = {
        d.code: d.pk for d in Dimension.objects.filter(system__in=system.lineage()[:-1])
    }
    dimensions = _Rows(Dimension.objects.filter(system=system), ("system_id", "code"))
    for order, row in enumerate(spec.dimensions):
        dimension = dimensions.save(
            {"name_zh": row["name_zh"], "name_en": row["name_en"], "order": order},
            system_id=system.pk,
            code=row["code"],
        )
        dimension_pk[row["code"]] = dimension.pk
    department_pk = dict(Department.objects.values_list("code", "pk"))
    indicators = _Rows(Indicator.objects.filter(system=system), ("system_id", "code"))
    standards = _Rows(
        Standard.objects.filter(indicator__system=system), ("indicator_id", "city_class")
    )
    kept_indicators, kept_standards = [], []
    for order, row in enumerate(spec.indicators):
        values = {
            key: value
            for key, value in row.items()
            if key not in ("code", "dimension", "department", "standards")
        }
        values.update(
            dimension_id=dimension_pk[row["dimension"]],
            department_id=department_pk.get(row["department"]) if row["department"] else None,
            order=order,
        )
        indicator = indicators.save(values, system_id=system.pk, code=row["code"])
        kept_indicators.append(indicator.pk)
        for standard in row["standards"]:
            values = {key: value for key, value in standard.items() if key != "city_class"}
            saved = standards.save(
                values, indicator_id=indicator.pk, city_class=standard["city_class"]
            )
            kept_standards.append(saved.pk)
    _delete_missing(
        Standard.objects.filter(indicator__system=system), kept_standards, spec.path, _("标准值")
    )
    _delete_missing(Indicator.objects.filter(system=system), kept_indicators, spec.path, _("指标"))
    _delete_missing(
        Dimension.objects.filter(system=system), list(dimension_pk.values()), spec.path, _("维度")
    )
    record_event(
        system, "imported", note=str(spec.path.name), data={"digest": spec.digest, **spec.summary()}
    )
    return system


def import_system_file(path, *, acting_user=None) -> IndicatorSystem:
    """Validate and load a system file, all or nothing.

    Systems it extends that are not loaded yet are imported first from files beside it.
    Loading the same file again changes nothing. With ``acting_user`` (a page, the API),
    the system's owner is checked (:func:`may_change_system`) and a new one is owned by
    the user's level; without (the command line, the demo) it belongs to the top level.

    Raises
    ------
    SystemFileError
        With every issue found; nothing is written.
    PermissionDenied
        When ``acting_user`` may not change the system; nothing is written.
    """
    spec, issues, before = _read_system(Path(path))
    if issues:
        raise SystemFileError(issues)
    owner = _owner_for(spec, acting_user) if acting_user is not None else None
    with acting(acting_user or current_actor()), transaction.atomic():
        for base_path in before:
            _load_system(read_system_spec(base_path), owner)
        return _load_system(spec, owner)


def import_uploaded_system(upload, *, acting_user) -> IndicatorSystem:
    """Import a system file sent from the page or the API (a Django ``UploadedFile``) as
    ``acting_user``: the same checks as :func:`import_system_file`, the owner's included.
    The systems it extends must be loaded already (no files lie beside an upload)."""
    if upload.size > settings.CITYCHECK_MAX_UPLOAD_BYTES:
        raise SystemFileError([Issue(upload.name, None, "file", _("文件过大（超过上传上限）。"))])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(upload.name).name or "system.yaml")
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        try:
            return import_system_file(path, acting_user=acting_user)
        except SystemFileError as error:
            # Name the file as the person sent it, not the temporary copy.
            raise SystemFileError(
                [dataclasses.replace(issue, file=upload.name) for issue in error.issues]
            ) from error


def _indicator_codes(code: str, version: int) -> set[str] | None:
    system = IndicatorSystem.objects.filter(code=code, version=version).first()
    if system is None:
        return None
    return set(system.all_indicators().values_list("code", flat=True))


def _lineage_indicator(system: IndicatorSystem, code: str) -> Indicator:
    return system.all_indicators().filter(code=code).order_by("-system__version").first()


def load_crosswalk(path, *, acting_user=None) -> int:
    """Load a crosswalk file (indicator pairs between two systems); returns the pair count.

    Raises
    ------
    SystemFileError
        With every issue found; nothing is written.
    """
    spec, issues = system_file.read_crosswalk_file(Path(path), indicator_codes=_indicator_codes)
    if issues:
        raise SystemFileError(issues)
    with acting(acting_user or current_actor()), transaction.atomic():
        source_system = IndicatorSystem.objects.get(code=spec.source[0], version=spec.source[1])
        target_system = IndicatorSystem.objects.get(code=spec.target[0], version=spec.target[1])
        pairs = _Rows(
            Crosswalk.objects.filter(source__system__in=source_system.lineage()),
            ("source_id", "target_id"),
        )
        kept = []
        for pair in spec.pairs:
            source = _lineage_indicator(source_system, pair["source"])
            target = _lineage_indicator(target_system, pair["target"])
            row = pairs.save(
                {"relation": pair["relation"], "note": pair["note"]},
                source_id=source.pk,
                target_id=target.pk,
            )
            kept.append(row.pk)
        stale = Crosswalk.objects.filter(source__system=source_system, target__system=target_system)
        _delete_missing(stale, kept, spec.path, _("指标对照"))
    return len(spec.pairs)


def import_file(path, *, acting_user=None):
    """Import a system file or a crosswalk file, recognised by its top-level keys."""
    path = Path(path)
    if file_kind(path) == "crosswalk":
        return load_crosswalk(path, acting_user=acting_user)
    return import_system_file(path, acting_user=acting_user)


# ── Export ────────────────────────────────────────────────────────────────────────


def _without_empty(values: dict, keep=()) -> dict:
    """Drop fields that hold nothing (None, '', False, []); zero is a value and stays."""

    def is_empty(value):
        return (
            value is None or value is False or (isinstance(value, str | list | dict) and not value)
        )

    return {key: value for key, value in values.items() if key in keep or not is_empty(value)}


def export_system(system: IndicatorSystem) -> str:
    """The system as a self-contained YAML file that re-imports to the same system.

    Base figures used by its formulas and departments named by its indicators are
    written inline, so the file needs no other file.
    """
    indicators = list(
        system.indicators.select_related("dimension", "department")
        .prefetch_related("standards")
        .order_by("order")
    )
    lineage_formulas = [i.formula for i in system.all_indicators() if i.formula]
    used_names = set()
    for text in lineage_formulas:
        used_names.update(formulas.parse(text).names)
    figures = BaseFigure.objects.filter(code__in=used_names).order_by("code")
    department_codes = {
        i.department.code
        for i in system.all_indicators().select_related("department")
        if i.department
    }
    document = _without_empty(
        {
            "code": system.code,
            "version": system.version,
            "name_zh": system.name_zh,
            "name_en": system.name_en,
            "description": system.description,
            "extends": {"code": system.extends.code, "version": system.extends.version}
            if system.extends
            else None,
            "base_figures": [
                _without_empty({key: getattr(figure, key) for key in yaml_files.BASE_FIGURE_FIELDS})
                for figure in figures
            ],
            "departments": [
                _without_empty({"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en})
                for d in Department.objects.filter(code__in=department_codes).order_by("code")
            ],
        }
    )
    document["dimensions"] = [
        _without_empty({"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en})
        for d in system.dimensions.order_by("order")
    ]
    document["indicators"] = [_export_indicator(indicator) for indicator in indicators]
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def _export_indicator(indicator: Indicator) -> dict:
    values = {
        key: getattr(indicator, key)
        for key in yaml_files.INDICATOR_FIELDS
        if key not in ("dimension", "department", "definition_origin", "standards")
    }
    values["dimension"] = indicator.dimension.code
    values["department"] = indicator.department.code if indicator.department else None
    if not indicator.citation:
        values["definition_origin"] = yaml_files.ORIGIN_OWN
    values["standards"] = [
        _without_empty(
            {key: getattr(standard, key) for key in yaml_files.STANDARD_FIELDS}, keep=("value",)
        )
        for standard in indicator.standards.order_by("city_class")
    ]
    ordered = {key: values.get(key) for key in yaml_files.INDICATOR_FIELDS}
    return _without_empty(ordered, keep=("decimals",))


# ── Frames for the engine and the demo ───────────────────────────────────────────


def formula_name_units(indicators) -> dict[str, str]:
    """The unit of every name a formula of ``indicators`` may use: the base figures of
    the registry and the indicators themselves."""
    name_units = dict(BaseFigure.objects.values_list("code", "unit"))
    name_units.update({indicator.code: indicator.unit for indicator in indicators})
    return name_units


def evaluable_formula(indicator: Indicator, name_units: dict[str, str]) -> tuple[str, float]:
    """``(formula, unit_factor)`` of ``indicator``: its formula with the unit factor of
    the formula as written folded in (``100 * (a / b)`` for a ratio declared in %), so
    that evaluating it gives the indicator's value in its own unit; ``("", 1.0)`` for an
    indicator without a formula. Every place that computes an indicator from base figures
    evaluates this text."""
    if not indicator.formula:
        return indicator.formula, 1.0
    factor = unit_factor(indicator.formula, indicator.unit, name_units)
    return (indicator.formula if factor == 1 else f"{factor:g} * ({indicator.formula})"), factor


def system_frame(system: IndicatorSystem) -> pd.DataFrame:
    """One row per indicator of the system and the systems it extends.

    Columns: ``code, number, name_zh, name_en, dimension, dimension_name, group, system,
    direction, unit, type, tier, formula, formula_as_written, unit_factor, rollup,
    decimals, department, source_kind, spatial_scope, time_point, range_low,
    range_high, is_cited``. ``formula`` is ready to evaluate: the unit factor of
    ``formula_as_written`` (e.g. 100 for a ratio declared in %) is folded in, so its
    result is in the indicator's unit.
    """
    indicators = list(
        system.all_indicators()
        .select_related("system", "dimension", "department")
        .order_by("dimension__system__version", "dimension__order", "system__version", "order")
    )
    name_units = formula_name_units(indicators)
    rows = []
    for indicator in indicators:
        computed, factor = evaluable_formula(indicator, name_units)
        rows.append(
            {
                "code": indicator.code,
                "number": indicator.number,
                "name_zh": indicator.name_zh,
                "name_en": indicator.name_en,
                "dimension": indicator.dimension.code,
                "dimension_name": indicator.dimension.name_zh,
                "group": indicator.group,
                "system": indicator.system.code,
                "direction": indicator.direction,
                "unit": indicator.unit,
                "type": indicator.type,
                "tier": indicator.tier,
                "formula": computed,
                "formula_as_written": indicator.formula,
                "unit_factor": factor,
                "rollup": indicator.rollup,
                "decimals": indicator.decimals,
                "department": indicator.department.code if indicator.department else "",
                "source_kind": indicator.source_kind,
                "spatial_scope": indicator.spatial_scope,
                "time_point": indicator.time_point,
                "range_low": np.nan if indicator.range_low is None else indicator.range_low,
                "range_high": np.nan if indicator.range_high is None else indicator.range_high,
                "is_cited": indicator.definition_is_cited,
            }
        )
    return pd.DataFrame(rows, columns=SYSTEM_FRAME_COLUMNS)


SYSTEM_FRAME_COLUMNS = [
    "code",
    "number",
    "name_zh",
    "name_en",
    "dimension",
    "dimension_name",
    "group",
    "system",
    "direction",
    "unit",
    "type",
    "tier",
    "formula",
    "formula_as_written",
    "unit_factor",
    "rollup",
    "decimals",
    "department",
    "source_kind",
    "spatial_scope",
    "time_point",
    "range_low",
    "range_high",
    "is_cited",
]
STANDARDS_FRAME_COLUMNS = [
    "indicator",
    "city_class",
    "comparison",
    "value",
    "value_high",
    "warning_band",
    "type",
    "is_target",
    "citation",
]


def standards_frame(system: IndicatorSystem) -> pd.DataFrame:
    """One row per standard of the system's indicators (inherited ones included).

    Columns: ``indicator, city_class ('' = every class), comparison, value, value_high
    (NaN unless 'between'), warning_band, type (of the indicator), is_target, citation``.
    """
    standards = (
        Standard.objects.filter(indicator__system__in=system.lineage())
        .select_related("indicator")
        .order_by("indicator__system__version", "indicator__order", "city_class")
    )
    rows = [
        {
            "indicator": standard.indicator.code,
            "city_class": standard.city_class,
            "comparison": standard.comparison,
            "value": standard.value,
            "value_high": np.nan if standard.value_high is None else standard.value_high,
            "warning_band": standard.warning_band,
            "type": standard.indicator.type,
            "is_target": standard.is_target,
            "citation": standard.citation,
        }
        for standard in standards
    ]
    return pd.DataFrame(rows, columns=STANDARDS_FRAME_COLUMNS)


def base_figures_frame() -> pd.DataFrame:
    """The base-figure registry: ``code, name_zh, name_en, unit, definition, time_point,
    spatial_scope, range_low, range_high`` (NaN where no plausible range is given)."""
    columns = list(yaml_files.BASE_FIGURE_FIELDS)
    frame = pd.DataFrame(
        list(BaseFigure.objects.order_by("code").values(*columns)), columns=columns
    )
    return frame.astype({"range_low": float, "range_high": float})


def system_summary(system: IndicatorSystem) -> dict:
    """Indicator count per dimension (own and inherited) and how many are cited."""
    frame = system_frame(system)
    return {
        "indicators": len(frame),
        "per_dimension": frame.groupby("dimension_name", sort=False).size().to_dict(),
        "cited": int(frame["is_cited"].sum()),
    }
