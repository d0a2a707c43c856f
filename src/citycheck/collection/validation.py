"""Validation of collected values with rules kept as data (``data/validation/rules.yaml``).

:func:`load_rules` reads the rules file into a :class:`RuleSet`;
:func:`validate_round_values` applies it to the values of places in a round (stored
values, optionally overlaid with uploaded ones) with the engine's checks
(:mod:`citycheck.engine.validation`) and returns an issue frame with a Chinese message
per issue. It runs on save, on upload and on submit; only submit requires every value.
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
from django.utils.translation import gettext as _

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
    tolerance: float = 0.05
    unit_scale: bool = True


RULE_KEYS = {f.name for f in fields(IndicatorRule)}


@dataclass(frozen=True)
class RuleSet:
    defaults: IndicatorRule
    units: dict
    indicators: dict
    consistency: tuple

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
    return RuleSet(defaults, units, indicators, tuple(consistency))


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


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(dtype=float)
    wide = frame.pivot_table(
        index="place", columns="indicator", values="value", aggfunc="first", dropna=False
    )
    wide.columns.name = None
    return wide.astype(float)


def _long(queryset, place_field="place__code", code_field="indicator__code") -> pd.DataFrame:
    return pd.DataFrame.from_records(
        queryset.values_list(place_field, code_field, "value"),
        columns=["place", "indicator", "value"],
    )


def _earlier_values(round_: Round, place_ids) -> pd.DataFrame:
    """Earlier years' values of these places: adopted where there is one, else self-check."""
    rows = Value.objects.filter(
        place_id__in=place_ids,
        round__year__lt=round_.year,
        round__year__gte=round_.year - 6,
        source__in=[Source.ADOPTED, Source.SELF_CHECK],
        value__isnull=False,
    ).values_list("place__code", "round__year", "indicator__code", "source", "value")
    frame = pd.DataFrame.from_records(
        rows, columns=["place", "year", "indicator", "source", "value"]
    )
    if frame.empty:
        return frame
    frame["rank"] = (frame["source"] != Source.ADOPTED).astype(int)
    frame = frame.sort_values("rank").drop_duplicates(["place", "year", "indicator"])
    return frame.pivot_table(
        index=["place", "year"], columns="indicator", values="value", aggfunc="first"
    )


def _peer_values(round_: Round, source: str, level: str) -> pd.DataFrame:
    """Every value of the places of ``level`` in the round (wide), cached briefly.

    Peer outliers are warnings against the whole level; reading 3,000 places × 70
    indicators on every save would dominate the entry form, and a peer distribution a
    minute old flags the same outliers.
    """
    key = f"citycheck:peer-values:{round_.pk}:{source}:{level}"
    frame = cache.get(key)
    if frame is None:
        frame = _wide(_long(Value.objects.filter(round=round_, source=source, place__level=level)))
        cache.set(key, frame, settings.CITYCHECK_PEER_CACHE_SECONDS)
    return frame


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
        The engine's issue columns plus ``message`` (Chinese), errors first.
    """
    if stage not in STAGES:
        raise ValueError(f"validate_round_values(stage): must be one of {STAGES}; got {stage!r}")
    rules = rules or load_rules()
    place_ids = list(place_ids)
    indicators = {i.code: i for i in round_.system.all_indicators()}
    in_scope = (
        set(indicators)
        if indicator_ids is None
        else {i.code for i in indicators.values() if i.pk in set(indicator_ids)}
    )
    stored = _long(Value.objects.filter(round=round_, source=source, place_id__in=place_ids))
    if overlay is not None and not overlay.empty:
        keys = pd.MultiIndex.from_frame(overlay[["place", "indicator"]])
        stored = stored[~pd.MultiIndex.from_frame(stored[["place", "indicator"]]).isin(keys)]
        stored = pd.concat([stored, overlay[["place", "indicator", "value"]]], ignore_index=True)
    values = _wide(stored).reindex(columns=sorted(set(_wide(stored).columns) | in_scope))
    place_codes = list(Place.objects.filter(pk__in=place_ids).values_list("code", flat=True))
    values = values.reindex(index=sorted(place_codes))
    figures = _wide(
        _long(
            BaseFigureValue.objects.filter(place_id__in=place_ids, year=round_.year),
            code_field="figure__code",
        )
    ).reindex(index=values.index)
    codes = [c for c in values.columns if c in indicators]
    rule_of = {code: rules.for_indicator(code, indicators[code].unit) for code in codes}

    def limit(name):
        return {c: getattr(r, name) for c, r in rule_of.items() if getattr(r, name) is not None}

    found = []
    if stage == "submit":
        found.append(checks.check_required(values, [c for c in codes if rule_of[c].required]))
    hard = checks.check_range(values[codes], low=limit("low"), high=limit("high"))
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
            values[plausible_codes], low=limit("plausible_low"), high=limit("plausible_high")
        )
    )
    found.append(
        checks.check_range(
            values[codes],
            low=limit("plausible_low"),
            high=limit("plausible_high"),
            severity="warning",
        ).assign(rule="plausible")
    )
    found.append(checks.check_integer(values, [c for c in codes if rule_of[c].integer]))
    shared = figures.columns.intersection(values.columns)
    combined = values.join(figures.rename(columns={c: f"{c}_figure" for c in shared}))
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

    history = _earlier_values(round_, place_ids)
    if not history.empty:
        latest_year = history.index.get_level_values("year").max()
        previous = history.xs(latest_year, level="year").reindex(columns=codes)
        if latest_year == round_.year - 1:
            found.append(
                checks.check_year_on_year(values[codes], previous, threshold=limit("year_on_year"))
            )
        scale_codes = [c for c in codes if rule_of[c].unit_scale]
        found.append(
            checks.check_unit_scale(values[scale_codes], previous.reindex(columns=scale_codes))
        )
        for threshold, group in _by_threshold(rule_of, codes):
            found.append(
                checks.history_outliers(
                    values[group], history.reindex(columns=group), threshold=threshold
                )
            )
    place_level = Place.objects.filter(pk__in=place_ids).values_list("level", flat=True).first()
    peers = _peer_values(round_, source, place_level).drop(index=place_codes, errors="ignore")
    for threshold, group in _by_threshold(rule_of, codes):
        found.append(
            checks.peer_outliers(
                values[group], peers=peers.reindex(columns=group), threshold=threshold
            )
        )
    issues = pd.concat(
        [f for f in found if not f.empty] or [checks.empty_issues()], ignore_index=True
    )
    issues = issues[issues["indicator"].isin(in_scope | {r.get("part") for r in rules.consistency})]
    issues = issues.drop_duplicates(["place", "indicator", "rule"])
    names = {code: i.name_zh for code, i in indicators.items()}
    units = {code: i.unit for code, i in indicators.items()}
    issues = issues.assign(
        message=[_message(row, names, units) for row in issues.itertuples(index=False)]
    )
    order = issues["severity"].map({"error": 0, "warning": 1})
    return (
        issues.assign(_order=order)
        .sort_values(["_order", "place", "indicator"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _by_threshold(rule_of: dict, codes):
    """Indicator codes grouped by their outlier threshold (None: not checked)."""
    groups: dict[float, list[str]] = {}
    for code in codes:
        if rule_of[code].outlier_threshold is not None:
            groups.setdefault(rule_of[code].outlier_threshold, []).append(code)
    return groups.items()


def _fmt(number) -> str:
    if number is None or (isinstance(number, float) and np.isnan(number)):
        return "—"
    return f"{number:.6g}"


def _message(issue, names: dict, units: dict) -> str:
    """A Chinese sentence for one issue, naming the place and the indicator."""
    where = f"{issue.place} {names.get(issue.indicator, issue.indicator)}（{issue.indicator}）"
    unit = units.get(issue.indicator, "")
    ratio = (
        issue.score
        if issue.score is None or np.isnan(issue.score) or abs(issue.score) >= 1
        else 1 / issue.score
    )
    parts = {
        "ratio": _fmt(ratio),
        "where": where,
        "value": _fmt(issue.value),
        "reference": _fmt(issue.reference),
        "score": _fmt(issue.score),
        "unit": unit,
        "percent": "—" if issue.score is None or np.isnan(issue.score) else f"{issue.score:+.0%}",
    }
    templates = {
        "required": _("%(where)s：缺少数值。"),
        "negative": _("%(where)s：数值 %(value)s 不能为负数。"),
        "range": _("%(where)s：数值 %(value)s 超出允许范围（界限 %(reference)s %(unit)s）。"),
        "plausible": _(
            "%(where)s：数值 %(value)s 超出常见范围（界限 %(reference)s %(unit)s），请核实并说明。"
        ),
        "integer": _("%(where)s：数值 %(value)s 应为整数。"),
        "part_of_total": _("%(where)s：数值 %(value)s 大于其总量 %(reference)s。"),
        "shares_sum": _("%(where)s：各项比例之和为 %(value)s，应为 %(reference)s。"),
        "year_on_year": _(
            "%(where)s：与上年值 %(reference)s 相比变化 %(percent)s，超过提示阈值，请说明原因。"
        ),
        "history_outlier": _(
            "%(where)s：数值 %(value)s 明显偏离历年水平（中位数 %(reference)s，修正 z 值 %(score)s），请核实并说明。"
        ),
        "peer_outlier": _(
            "%(where)s：数值 %(value)s 明显偏离同级地区（中位数 %(reference)s，修正 z 值 %(score)s），请核实并说明。"
        ),
        "unit_scale": _(
            "%(where)s：数值 %(value)s 疑似单位错误（应以 %(unit)s 填报；与参照值相差约 %(ratio)s 倍）。"
        ),
    }
    return templates.get(issue.rule, "%(where)s") % parts
