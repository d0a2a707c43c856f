"""Validation of collected values with rules kept as data (``data/validation/rules.yaml``).

:func:`load_rules` reads the rules file into a :class:`RuleSet`;
:func:`validate_round_values` applies it to the values of places in a round (stored
values, optionally overlaid with uploaded ones) with the engine's checks
(:mod:`citycheck.engine.validation`) and returns an issue frame with a message per issue
in the active language (:func:`issue_messages`: names, values, units and comparisons,
never codes or scores). It runs on save, on upload and on submit; only submit requires
every value.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from citycheck.core.language import unit_label
from citycheck.engine import validation as checks
from citycheck.indicators.models import Indicator
from citycheck.places.models import Place

from .models import BaseFigureValue, Round, Source, Value

logger = logging.getLogger(__name__)

RULES_FILE = "validation/rules.yaml"
STAGES = ("save", "upload", "submit")
CONSISTENCY_KINDS = ("part_of_total", "shares_sum")


@dataclass(frozen=True)
class IndicatorRule:
    """The rules of one indicator after defaults, unit rules and its own entries."""

    required: bool = True
    low: float | None = None
    high: float | None = None
    plausible_low: float | None = None
    plausible_high: float | None = None
    integer: bool = False
    year_on_year: float | None = 0.5
    outlier_threshold: float | None = checks.MODIFIED_Z_THRESHOLD
    outlier_min_spread: float = 0.0
    tolerance: float = 0.05
    unit_scale: bool = True


RULE_KEYS = {f.name for f in fields(IndicatorRule)}


@dataclass(frozen=True)
class RuleSet:
    defaults: IndicatorRule
    units: dict
    indicators: dict
    consistency: tuple
    third_party_source_kinds: tuple = ()

    def for_indicator(self, code: str, unit: str = "") -> IndicatorRule:
        rule = replace(self.defaults, **self.units.get(unit, {}))
        return replace(rule, **self.indicators.get(code, {}))


class RulesFileError(ValueError):
    """The rules file is malformed; the message names the file and the entry."""


def _entries(mapping, where: str) -> dict:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise RulesFileError(f"{where}: expected a mapping, got {type(mapping).__name__}")
    unknown = set(mapping) - RULE_KEYS
    if unknown:
        raise RulesFileError(
            f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}"
        )
    return mapping


def parse_rules(text: str, *, path: str = "rules.yaml", known_codes=None) -> RuleSet:
    """Parse a rules file; codes not in ``known_codes`` are kept with a logged warning."""
    data = yaml.safe_load(text) or {}
    defaults = IndicatorRule(**_entries(data.get("defaults"), f"{path}: defaults"))
    units = {
        str(unit): _entries(entry, f"{path}: units.{unit}")
        for unit, entry in (data.get("units") or {}).items()
    }
    indicators = {
        str(code): _entries(entry, f"{path}: indicators.{code}")
        for code, entry in (data.get("indicators") or {}).items()
    }
    consistency = []
    for number, rule in enumerate(data.get("consistency") or [], start=1):
        kind = rule.get("kind") if isinstance(rule, dict) else None
        if kind not in CONSISTENCY_KINDS:
            raise RulesFileError(
                f"{path}: consistency rule {number}: kind must be one of {CONSISTENCY_KINDS}; got {kind!r}"
            )
        needed = ("part", "total") if kind == "part_of_total" else ("parts",)
        missing = [key for key in needed if key not in rule]
        if missing:
            raise RulesFileError(f"{path}: consistency rule {number} ({kind}): missing {missing}")
        consistency.append(rule)
    if known_codes is not None:
        named = set(indicators)
        for rule in consistency:
            if rule["kind"] == "part_of_total":
                named |= {rule["part"], rule["total"]}
            else:
                named |= set(rule["parts"])
        unknown = sorted(named - set(known_codes))
        if unknown:
            logger.warning(
                "%s: codes not in any loaded indicator system or base figures: %s",
                path,
                ", ".join(unknown),
            )
    third_party = data.get("third_party") or {}
    kinds = third_party.get("source_kinds", []) if isinstance(third_party, dict) else None
    if not isinstance(kinds, list):
        raise RulesFileError(
            f"{path}: third_party.source_kinds: expected a list of source kinds "
            f"(statistics, spatial, survey, big_data); got {kinds!r}"
        )
    return RuleSet(defaults, units, indicators, tuple(consistency), tuple(map(str, kinds)))


@functools.cache
def load_rules(path: str | None = None) -> RuleSet:
    """The rules of ``path``, cached per process.

    Default: ``settings.CITYCHECK_VALIDATION_RULES`` if set, else
    ``data/validation/rules.yaml``.
    """
    from citycheck.indicators.models import BaseFigure

    default = (
        getattr(settings, "CITYCHECK_VALIDATION_RULES", None)
        or Path(settings.DATA_DIR) / RULES_FILE
    )
    file = Path(path or default)
    known = None
    try:
        known = set(Indicator.objects.values_list("code", flat=True)) | set(
            BaseFigure.objects.values_list("code", flat=True)
        )
    except Exception:  # no database yet (e.g. at import in a fresh checkout)
        known = None
    return parse_rules(file.read_text(encoding="utf-8"), path=str(file), known_codes=known or None)


# --------------------------------------------------------------------------- applying the rules


# The rule attributes passed to the checks as limits by indicator code.
LIMITS = ("low", "high", "plausible_low", "plausible_high", "year_on_year")


@dataclass(frozen=True)
class _SystemRules:
    """An indicator system's indicators and the rules of each, as the checks read them."""

    stamp: tuple
    rules: RuleSet
    indicators: dict  # code → Indicator
    code_of_id: dict  # Indicator pk → code
    rule_of: dict  # code → IndicatorRule
    limits: dict  # attribute of LIMITS → {code: limit}, indicators without one left out


_SYSTEM_RULES: dict[int, _SystemRules] = {}


def _system_rules(system, rules: RuleSet) -> _SystemRules:
    """``system``'s indicators and their rules, kept in the process until one changes.

    Every save is checked against the same indicators: reading them and merging their
    rules on each call was a large share of the entry form's save. Adding, removing or
    editing an indicator changes the stamp (count, last change, highest id); another
    rule set (a reloaded rules file) replaces the entry.
    """
    indicators = system.all_indicators()
    stamp = tuple(
        indicators.aggregate(
            count=Count("pk"), changed=Max("last_updated"), highest=Max("pk")
        ).values()
    )
    known = _SYSTEM_RULES.get(system.pk)
    if known is not None and known.stamp == stamp and known.rules is rules:
        return known
    by_code = {i.code: i for i in indicators}
    rule_of = {code: rules.for_indicator(code, i.unit) for code, i in by_code.items()}
    known = _SystemRules(
        stamp=stamp,
        rules=rules,
        indicators=by_code,
        code_of_id={i.pk: code for code, i in by_code.items()},
        rule_of=rule_of,
        limits={
            name: {c: getattr(r, name) for c, r in rule_of.items() if getattr(r, name) is not None}
            for name in LIMITS
        },
    )
    _SYSTEM_RULES[system.pk] = known
    return known


def _grid(rows, index: list, columns: list) -> np.ndarray:
    """(row label, column label, value) rows as cells of ``index`` × ``columns``: the first
    value given for a cell, NaN where there is none; rows outside are left out.

    A dictionary walk: the frames of a save are a place or a few wide, where a pivot
    table's fixed cost is many times the work.
    """
    row_at = {label: n for n, label in enumerate(index)}
    column_at = {label: n for n, label in enumerate(columns)}
    cells = np.full((len(index), len(columns)), np.nan)
    for row, column, value in reversed(rows):  # the first value of a cell is written last
        if value is not None and value == value and row in row_at and column in column_at:
            cells[row_at[row], column_at[column]] = value
    return cells


def _earlier_values(round_: Round, place_ids) -> dict:
    """Earlier years' values of these places by (place code, year, indicator code):
    adopted where there is one, else self-check."""
    rows = Value.objects.filter(
        place_id__in=place_ids,
        round__year__lt=round_.year,
        round__year__gte=round_.year - 5,
        source__in=[Source.ADOPTED, Source.SELF_CHECK],
        value__isnull=False,
    ).values_list("place__code", "round__year", "indicator__code", "source", "value")
    chosen = {}
    for place, year, code, source, value in rows:
        if source == Source.ADOPTED or (place, year, code) not in chosen:
            chosen[place, year, code] = value
    return chosen


def _peer_values(round_: Round, source: str, level: str) -> pd.DataFrame:
    """Every value of the places of ``level`` in the round (wide), cached briefly.

    Peer outliers are warnings against the whole level; reading 3,000 places × 70
    indicators on every save would dominate the entry form, and a peer distribution a
    minute old flags the same outliers.
    """
    key = f"citycheck:peer-values:{round_.pk}:{source}:{level}"
    frame = cache.get(key)
    if frame is None:
        rows = list(
            Value.objects.filter(round=round_, source=source, place__level=level).values_list(
                "place__code", "indicator__code", "value"
            )
        )
        places, codes = sorted({r[0] for r in rows}), sorted({r[1] for r in rows})
        frame = pd.DataFrame(_grid(rows, places, codes), index=places, columns=codes)
        cache.set(key, frame, settings.CITYCHECK_PEER_CACHE_SECONDS)
    return frame


def _consistency(rules: RuleSet, values: pd.DataFrame, place_ids, year: int) -> list:
    """The consistency rules' issues; a rule may name a base figure (底数) of the year,
    as ``<code>_figure`` where an indicator has the same code."""
    rows = list(
        BaseFigureValue.objects.filter(place_id__in=place_ids, year=year).values_list(
            "place__code", "figure__code", "value"
        )
    )
    figure_codes = sorted({code for _, code, _ in rows})
    columns = values.columns.tolist()
    shared = set(columns).intersection(figure_codes)
    combined = pd.DataFrame(
        np.hstack([values.to_numpy(), _grid(rows, values.index.tolist(), figure_codes)]),
        index=values.index,
        columns=[*columns, *(f"{c}_figure" if c in shared else c for c in figure_codes)],
    )
    found = []
    for rule in rules.consistency:
        if rule["kind"] == "part_of_total":
            found.append(checks.check_part_of_total(combined, rule["part"], rule["total"]))
        else:
            found.append(
                checks.check_shares_sum(
                    combined,
                    rule["parts"],
                    total=rule.get("total", 100.0),
                    tolerance=rule.get("tolerance", 0.5),
                )
            )
    return found


def validate_round_values(
    round_: Round,
    *,
    source: str,
    place_ids,
    stage: str,
    indicator_ids=None,
    overlay: pd.DataFrame | None = None,
    rules: RuleSet | None = None,
) -> pd.DataFrame:
    """Check the values of ``place_ids`` in ``round_`` and return the issues.

    Parameters
    ----------
    source : str
        The source checked (self-check or third party).
    stage : {"save", "upload", "submit"}
        Only ``submit`` reports missing required values.
    indicator_ids : iterable of int, optional
        Report only issues of these indicators (a department's part); all by default.
    overlay : DataFrame, optional
        Long frame (place code, indicator code, value) checked instead of the stored
        values it covers: an upload being previewed.

    Returns
    -------
    DataFrame
        The engine's issue columns plus ``previous`` (last year's value), ``median``
        (of the place's last five years) and ``message`` (active language), errors
        first; one warning per value.
    """
    if stage not in STAGES:
        raise ValueError(f"validate_round_values(stage): must be one of {STAGES}; got {stage!r}")
    rules = rules or load_rules()
    place_ids = list(place_ids)
    system = _system_rules(round_.system, rules)
    indicators, rule_of, limits = system.indicators, system.rule_of, system.limits
    in_scope = (
        set(indicators)
        if indicator_ids is None
        else {system.code_of_id[i] for i in set(indicator_ids) if i in system.code_of_id}
    )
    level_of = dict(Place.objects.filter(pk__in=place_ids).values_list("code", "level"))
    place_codes = sorted(level_of)
    stored = list(
        Value.objects.filter(round=round_, source=source, place_id__in=place_ids).values_list(
            "place__code", "indicator__code", "value"
        )
    )
    if overlay is not None and not overlay.empty:
        replaced = set(zip(overlay["place"], overlay["indicator"], strict=True))
        stored = [row for row in stored if row[:2] not in replaced]
        stored += zip(overlay["place"], overlay["indicator"], overlay["value"], strict=True)
    columns = sorted({code for _, code, _ in stored} | in_scope)
    index = pd.Index(place_codes)
    values = pd.DataFrame(_grid(stored, place_codes, columns), index=index, columns=columns)
    codes = [c for c in columns if c in indicators]
    at = {code: n for n, code in enumerate(codes)}
    cells = values[codes].to_numpy() if len(codes) < len(columns) else values.to_numpy()

    labels_of: dict[tuple, pd.Index] = {}

    def part(labels, of=cells, rows=index):
        """The cells of ``labels`` (of ``codes``) in ``of`` as a frame."""
        key = tuple(labels)
        if key not in labels_of:  # the same few column sets, each built once
            labels_of[key] = pd.Index(labels)
        return pd.DataFrame(of[:, [at[c] for c in labels]], index=rows, columns=labels_of[key])

    coded = part(codes)
    found = []
    if stage == "submit":
        found.append(checks.check_required(coded, [c for c in codes if rule_of[c].required]))
    hard = checks.check_range(coded, low=limits["low"], high=limits["high"])
    if not hard.empty:
        negative = (hard["reference"] == 0) & (hard["value"] < 0)
        found.append(hard.assign(rule=np.where(negative, "negative", hard["rule"])))
    plausible_codes = [
        c
        for c in codes
        if rule_of[c].unit_scale
        and rule_of[c].plausible_low is not None
        and rule_of[c].plausible_high is not None
    ]
    found.append(
        checks.check_unit_scale_by_range(
            part(plausible_codes), low=limits["plausible_low"], high=limits["plausible_high"]
        )
    )
    plausible = checks.check_range(
        coded, low=limits["plausible_low"], high=limits["plausible_high"], severity="warning"
    )
    found.append(plausible.assign(rule="plausible") if not plausible.empty else plausible)
    found.append(checks.check_integer(coded, [c for c in codes if rule_of[c].integer]))
    if rules.consistency:
        found += _consistency(rules, values, place_ids, round_.year)

    outlier_groups = _by_outlier_rule(rule_of, codes)
    previous = np.full(cells.shape, np.nan)  # last year's values
    median = np.full(cells.shape, np.nan)  # of the place's last five years
    judged_by_history = np.zeros(cells.shape, dtype=bool)  # nowhere yet
    history = _earlier_values(round_, place_ids)
    if history:
        pairs = sorted({(place, year) for place, year, _ in history})
        past = _grid([((p, y), c, v) for (p, y, c), v in history.items()], pairs, codes)
        latest_year = max(year for _, year in pairs)
        latest = np.full(cells.shape, np.nan)  # each place's values of latest_year
        for row, place in enumerate(place_codes):
            own = [n for n, (p, _) in enumerate(pairs) if p == place]  # its years, in order
            if not own:
                continue
            years = past[own]
            if pairs[own[-1]][1] == latest_year:
                latest[row] = years[-1]
            median[row] = checks.column_medians(years)
            judged_by_history[row] = (~np.isnan(years)).sum(axis=0) >= HISTORY_YEARS
        if latest_year == round_.year - 1:
            previous = latest
            found.append(
                checks.check_year_on_year(
                    coded, part(codes, of=previous), threshold=limits["year_on_year"]
                )
            )
        scale_codes = [c for c in codes if rule_of[c].unit_scale]
        found.append(checks.check_unit_scale(part(scale_codes), part(scale_codes, of=latest)))
        # The change from last year is what an analyst asks about; the place's own recent
        # years judge a value only when last year's is missing.
        no_previous = np.where(np.isnan(previous), cells, np.nan)
        years_index = pd.MultiIndex.from_tuples(pairs, names=["place", "year"])
        for (threshold, spread), group in outlier_groups:
            found.append(
                checks.history_outliers(
                    part(group, of=no_previous),
                    part(group, of=past, rows=years_index),
                    threshold=threshold,
                    min_years=HISTORY_YEARS,
                    min_spread=spread,
                )
            )
    # Peers judge only what the place's own history cannot: a place differs from its peers
    # year after year for its own reasons, and only its first values need that comparison.
    peers = _peer_values(round_, source, level_of[place_codes[0]] if place_codes else None)
    others = ~peers.index.isin(place_codes)
    peer_cells = peers.reindex(columns=codes).to_numpy()[others]
    first_values = np.where(judged_by_history, np.nan, cells)
    for (threshold, spread), group in outlier_groups:
        found.append(
            checks.peer_outliers(
                part(group, of=first_values),
                peers=part(group, of=peer_cells, rows=peers.index[others]),
                threshold=threshold,
                min_spread=spread,
            )
        )
    found = [f for f in found if not f.empty]
    if not found:  # most saves
        return _no_issues().copy()
    return _issue_frame(
        found,
        keep=in_scope | {r.get("part") for r in rules.consistency},
        row_of={place: n for n, place in enumerate(place_codes)},
        column_of=at,
        history={"previous": previous, "median": median},
        indicators=indicators,
        several=len(place_codes) > 1,
    )


def _issue_frame(
    found: list, *, keep: set, row_of: dict, column_of: dict, history: dict, indicators, several
) -> pd.DataFrame:
    """The checks' issue frames as one: the indicators of ``keep`` only, each rule once
    per value and one warning per value; the cells of ``history`` (column name → cells of
    the checked places × indicators) looked up for each issue; errors first."""
    issues = pd.concat(found, ignore_index=True)
    issues = issues[issues["indicator"].isin(keep)]
    issues = issues.drop_duplicates(["place", "indicator", "rule"])
    # One warning per value: it needs one explanation, whichever checks found it.
    # (The priorities are those of the warnings only: a Series assigned to an empty frame
    # brings its index along, which once added a blank warning to every error-only check.)
    warnings = issues["severity"] == "warning"
    warned = issues[warnings]
    issues = pd.concat(
        [
            issues[~warnings],
            warned.assign(_priority=warned["rule"].map(WARNING_PRIORITY))
            .sort_values("_priority", kind="stable")
            .drop_duplicates(["place", "indicator"])
            .drop(columns="_priority"),
        ]
    )
    cell_of = [
        (row_of.get(p), column_of.get(c))
        for p, c in zip(issues["place"], issues["indicator"], strict=True)
    ]
    issues = issues.assign(**{name: _lookup(cells, cell_of) for name, cells in history.items()})
    order = issues["severity"].map({"error": 0, "warning": 1})
    issues = (
        issues.assign(_order=order)
        .sort_values(["_order", "place", "indicator"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    return issues.assign(message=issue_messages(issues, indicators, several=several))


@functools.cache
def _no_issues() -> pd.DataFrame:
    """The issue frame of a check that found nothing, built once by the same steps."""
    nothing = np.empty((0, 0))
    return _issue_frame(
        [checks.empty_issues()],
        keep=set(),
        row_of={},
        column_of={},
        history={"previous": nothing, "median": nothing},
        indicators={},
        several=False,
    )


HISTORY_YEARS = 3  # earlier values a place needs before its own history judges a value
# Which check's wording a value warned about by several checks gets.
WARNING_PRIORITY = {"year_on_year": 0, "history_outlier": 1, "plausible": 2, "peer_outlier": 3}


def _lookup(cells: np.ndarray, cell_of: list) -> list:
    """The cell (row, column) of each issue; NaN where it has none."""
    return [
        np.nan if row is None or column is None else float(cells[row, column])
        for row, column in cell_of
    ]


def _by_outlier_rule(rule_of: dict, codes):
    """Indicator codes grouped by (outlier threshold, minimal spread); None: not checked."""
    groups: dict[tuple, list[str]] = {}
    for code in codes:
        rule = rule_of[code]
        if rule.outlier_threshold is not None:
            key = (rule.outlier_threshold, rule.outlier_min_spread)
            groups.setdefault(key, []).append(code)
    return groups.items()


# --------------------------------------------------------------------------- messages


def _fmt(number) -> str:
    """A number as an official reads it: up to four significant digits, no exponent."""
    if number is None or pd.isna(number):
        return "—"
    if number == int(number) and abs(number) < 1e12:
        return f"{int(number):,}" if abs(number) >= 10_000 else str(int(number))
    text = f"{number:,.4g}" if abs(number) >= 1 else f"{number:.3g}"
    return text if "e" not in text else f"{number:,.2f}"


def _percent(share: float) -> str:
    return f"{abs(share):.0%}" if abs(share) >= 0.01 else f"{abs(share):.1%}"


def _with_unit(number, unit: str) -> str:
    label = unit_label(unit)
    if not label:
        return _fmt(number)
    return _fmt(number) + ("" if unit == "%" else " ") + label


def _against_history(value: float, previous: float, median: float) -> str:
    """ "比去年（81.0）下降 1%，比近五年中位数（69.1）高 16%" in the reader's language."""
    parts = []
    if not pd.isna(previous):
        change = (value - previous) / abs(previous) if previous else None
        args = {"previous": _fmt(previous)}
        if change is None:
            parts.append(_("去年为 0") if value else _("与去年（0）相同"))
        elif abs(change) < 0.0005:
            parts.append(_("与去年（%(previous)s）持平") % args)
        elif change > 0:
            parts.append(
                _("比去年（%(previous)s）上升 %(percent)s") % {**args, "percent": _percent(change)}
            )
        else:
            parts.append(
                _("比去年（%(previous)s）下降 %(percent)s") % {**args, "percent": _percent(change)}
            )
    if not pd.isna(median) and median and _fmt(median) != _fmt(previous):
        off = (value - median) / abs(median)
        args = {"median": _fmt(median), "percent": _percent(off)}
        if abs(off) >= 0.0005:
            parts.append(
                (
                    _("比近五年中位数（%(median)s）高 %(percent)s")
                    if off > 0
                    else _("比近五年中位数（%(median)s）低 %(percent)s")
                )
                % args
            )
    return _("，").join(parts)


def issue_messages(issues: pd.DataFrame, indicators: dict, *, several: bool = False) -> list:
    """One sentence per issue in the active language, as an official reads it: the
    indicator's name (and the place's, when ``several`` places are checked), the value
    with its unit and what it was compared with — no codes, no scores."""
    places = {}
    if several and len(issues):
        places = {p.code: p.name for p in Place.objects.filter(code__in=set(issues["place"]))}
    messages = []
    for issue in issues.itertuples(index=False):
        indicator = indicators.get(issue.indicator)
        name = indicator.name if indicator is not None else issue.indicator
        unit = indicator.unit if indicator is not None else ""
        where = f"{places[issue.place]} · {name}" if issue.place in places else name
        messages.append(_message(issue, where, unit))
    return messages


def _message(issue, where: str, unit: str) -> str:
    args = {
        "where": where,
        "value": _with_unit(issue.value, unit),
        "reference": _with_unit(issue.reference, unit),
        "unit": unit_label(unit),
    }
    rule, below = issue.rule, issue.value < issue.reference
    if rule == "required":
        return _("%(where)s：缺少数值（提交前必须填写）。") % args
    if rule == "negative":
        return _("%(where)s：%(value)s 不能为负数。") % args
    if rule == "range":
        text = (
            _("%(where)s：%(value)s 低于允许的最小值 %(reference)s，请改正。")
            if below
            else _("%(where)s：%(value)s 高于允许的最大值 %(reference)s，请改正。")
        )
        return text % args
    if rule == "integer":
        return _("%(where)s：%(value)s 应为整数。") % args
    if rule == "part_of_total":
        return _("%(where)s：%(value)s 大于其所属总量 %(reference)s，请改正。") % args
    if rule == "shares_sum":
        return _("%(where)s：各项比例之和为 %(value)s，应为 %(reference)s，请改正。") % {
            **args,
            "value": _fmt(issue.value),
            "reference": _fmt(issue.reference),
        }
    if rule == "unit_scale":
        return _(
            "%(where)s：%(value)s 疑似单位填错，请按“%(unit)s”填报（数值约差 %(ratio)s 倍）。"
        ) % {
            **args,
            "ratio": _fmt(round(max(abs(issue.score), 1 / abs(issue.score)))),
        }
    if rule == "plausible":
        text = (
            _(
                "%(where)s：%(value)s 低于常见范围（一般不低于 %(reference)s），请核实并在“说明”中解释。"
            )
            if below
            else _(
                "%(where)s：%(value)s 高于常见范围（一般不高于 %(reference)s），请核实并在“说明”中解释。"
            )
        )
        return text % args
    if rule == "peer_outlier":
        text = (
            _(
                "%(where)s：%(value)s，远低于同级地区的中位数 %(reference)s，请核实并在“说明”中解释。"
            )
            if below
            else _(
                "%(where)s：%(value)s，远高于同级地区的中位数 %(reference)s，请核实并在“说明”中解释。"
            )
        )
        return text % args
    # year_on_year, history_outlier: the value against last year and the recent years
    return _("%(where)s：%(value)s，%(comparison)s，请核实并在“说明”中解释。") % {
        **args,
        "comparison": _against_history(issue.value, issue.previous, issue.median),
    }
