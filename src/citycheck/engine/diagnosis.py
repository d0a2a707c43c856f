"""Diagnosis (诊断): turn evaluation results into a problem list (问题清单) of urban diseases.

A disease (城市病) names trigger indicators, cause indicators and rule thresholds in a
catalogue file (``data/diagnosis/diseases.yaml``). For each place and trigger indicator
the round's evidence is measured once (:func:`indicator_evidence`):

* the standard for the place's city class, the gap to it and the warning colour
  (green / yellow / red, the yellow zone being the warning band);
* the position among peer places (places of the same peer group, normally the city
  class): rank 1 is best, and the *bottom share* ``(n - rank + 1) / n`` is the share of
  peers at or below the place;
* the trend over the last ``trend_years`` values: the direction-aware relative change
  (negative = worse), the least-squares slope per year and the number of consecutive
  worsening years ending at the round.

Each disease then turns the evidence into signals and points (:func:`diagnose`):

=====================  ===================================================  ======
signal                 when                                                 points
=====================  ===================================================  ======
bottom_line_failure    a bottom-line (底线) indicator misses its standard     3
red_warning            the warning colour is red                            2
lowest_quartile        bottom share <= ``lowest_quantile`` among >=          1
                       ``min_peers`` peers
deterioration          worse by >= ``decline_threshold`` over the window,   1
                       or ``consecutive_declines`` worsening years in a row
dissatisfaction        residents' satisfaction in the disease's dimension   1
                       below ``dissatisfaction_below`` (survey data only)
=====================  ===================================================  ======

(the points are the catalogue defaults). A disease's points are the largest points of
one trigger indicator plus the dissatisfaction points. A problem is raised when that
indicator alone reaches ``trigger_points``: residents' dissatisfaction raises the
severity of a problem but never raises one without objective evidence. The severity is
the first level of ``severity`` whose ``min_points`` the total reaches.

Indicators with a target range (direction ``range``) have no peer position or trend:
only their standard counts.

The catalogue is read in :mod:`citycheck.engine.diseases`, the evidence measured in
:mod:`citycheck.engine.evidence`; this module applies the rules and writes the problem
list, and its ``__all__`` names the whole diagnosis interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._validation import ParameterError, check_values
from .diseases import SEVERITY_LEVELS, SIGNALS, Disease, DiseaseCatalogue, Rules, load_catalogue
from .evidence import (
    DIRECTION_SIGNS,
    _check_indicators,
    check_panel,
    format_number,
    indicator_evidence,
    standard_status,
)

__all__ = [
    "SEVERITY_LEVELS",
    "SIGNALS",
    "Disease",
    "DiseaseCatalogue",
    "Rules",
    "diagnose",
    "format_number",
    "indicator_evidence",
    "load_catalogue",
    "standard_status",
]


def _signals(columns: Mapping[str, np.ndarray], rules: Rules) -> dict[str, np.ndarray]:
    """Boolean signal arrays (and ``points``) of each evidence row under ``rules``."""
    flags = {
        "bottom_line_failure": columns["bottom_line_failure"],
        "red_warning": columns["red"],
        "lowest_quartile": (columns["peer_count"] >= rules.min_peers)
        & (columns["bottom_share"] <= rules.lowest_quantile),
        "deterioration": (columns["trend_change"] <= -rules.decline_threshold)
        | (columns["consecutive_declines"] >= rules.consecutive_declines),
    }
    flags["points"] = sum(flags[s].astype(int) * rules.points.get(s, 0) for s in SIGNALS[:-1])
    return flags


def diagnose(
    values: pd.DataFrame,
    *,
    catalogue: DiseaseCatalogue,
    indicators: pd.DataFrame,
    standards: pd.DataFrame | None = None,
    city_classes: pd.Series | Mapping | None = None,
    peer_groups: pd.Series | Mapping | None = None,
    year: int | None = None,
    satisfaction: pd.DataFrame | None = None,
    place_names: pd.Series | Mapping | None = None,
) -> pd.DataFrame:
    """Run every disease's rules for one round and return the problem list.

    Parameters
    ----------
    values : DataFrame
        Indexed by (place, year), one column per indicator code (the evaluated values).
        Indicators a disease names but ``values`` lacks are skipped.
    catalogue : DiseaseCatalogue
        From :func:`load_catalogue`.
    indicators, standards, city_classes, peer_groups, year
        As for :func:`indicator_evidence`.
    satisfaction : DataFrame, optional
        Residents' satisfaction (0–100) for the round: index = place, a column per
        dimension code. Without it no dissatisfaction signal is raised.
    place_names : Series or mapping, optional
        Names for the explanations; the place code otherwise.

    Returns
    -------
    DataFrame
        One row per problem, worst first: ``place, year, disease, disease_name,
        dimension, severity, points, signals, evidence, causes, departments,
        explanation``. ``evidence`` and ``causes`` are lists of dicts (one per
        indicator, numbers as floats); ``signals`` is a list of signal codes;
        ``explanation`` is a short Chinese paragraph.

    Examples
    --------
    >>> from pathlib import Path
    >>> catalogue = load_catalogue(Path("data/diagnosis/diseases.yaml"))
    >>> code = catalogue.get("lack_of_green_space").indicators[0]
    >>> index = pd.MultiIndex.from_product([["A", "B", "C", "D"], [2022, 2023, 2024]])
    >>> values = pd.DataFrame({code: [13, 12, 11, 12, 12, 12, 14, 15, 16, 13, 13, 13.0]}, index=index)
    >>> indicators = pd.DataFrame({"code": [code], "direction": ["higher"], "name_zh": ["人均公园绿地面积"],
    ...     "unit": ["平方米/人"], "type": ["guiding"], "department": ["城市管理局"]})
    >>> standards = pd.DataFrame({"indicator": [code], "city_class": [""], "comparison": [">="],
    ...     "value": [12.0], "warning_band": [0.5]})
    >>> problems = diagnose(values, catalogue=catalogue, indicators=indicators, standards=standards,
    ...     place_names={"A": "南昌县"})
    >>> problems[["place", "disease", "severity", "points"]].values.tolist()
    [['A', 'lack_of_green_space', 'moderate', 4]]
    >>> print(problems.loc[0, "explanation"])
    南昌县存在绿地不足问题（较重）：人均公园绿地面积11平方米/人，低于标准12（差1），在同类城市中位于后25%（第4/4名），近3年下降15.4%（连续2年变差）。建议由城市管理局牵头研究解决。
    """
    if not isinstance(catalogue, DiseaseCatalogue):
        raise ParameterError(
            "catalogue", "a DiseaseCatalogue (see load_catalogue)", type(catalogue).__name__
        )
    panel = check_panel(values)
    wanted = [c for c in panel.columns if c in catalogue.indicator_codes]
    meta = _check_indicators(indicators, wanted)
    rules_used = {d.rules.decline_step_min for d in catalogue.diseases} or {
        Rules().decline_step_min
    }
    evidence = indicator_evidence(
        panel[wanted],
        indicators=indicators[indicators["code"].isin(wanted)],
        standards=standards,
        city_classes=city_classes,
        peer_groups=peer_groups,
        year=year,
        trend_years=catalogue.trend_years,
        decline_step_min=min(rules_used),
    )
    names = dict(place_names) if place_names is not None else {}
    survey = _check_satisfaction(satisfaction)
    columns = {
        "indicator": evidence["indicator"].to_numpy(),
        "bottom_line_failure": evidence["bottom_line_failure"].to_numpy(bool),
        "red": evidence["colour"].eq("red").to_numpy(),
        "peer_count": evidence["peer_count"].to_numpy(float),
        "bottom_share": evidence["bottom_share"].to_numpy(float),
        "trend_change": evidence["trend_change"].to_numpy(float),
        "consecutive_declines": evidence["consecutive_declines"].to_numpy(float),
    }
    place_codes, place_labels = pd.factorize(evidence["place"])
    # Plain dicts: building the text row by row from frames would be slow.
    records = evidence.to_dict("records")
    meta_rows = meta.to_dict("index")
    rows_of_place = evidence.groupby(place_codes).indices
    problems = []
    for disease in catalogue.diseases:
        is_trigger = np.isin(columns["indicator"], disease.indicators)
        if not is_trigger.any():
            continue
        flags = _signals(columns, disease.rules)
        points = np.where(is_trigger, flags["points"], -1)
        best = np.full(len(place_labels), -1)
        np.maximum.at(best, place_codes, points)
        for code in np.flatnonzero(best >= disease.rules.trigger_points):
            positions = rows_of_place[code]
            place = place_labels[code]
            problems.append(
                _problem(
                    disease,
                    place,
                    positions[is_trigger[positions]],
                    flags,
                    records,
                    [records[i] for i in positions],
                    meta_rows,
                    catalogue,
                    survey,
                    names.get(place, str(place)),
                )
            )
    columns = [
        "place",
        "year",
        "disease",
        "disease_name",
        "dimension",
        "severity",
        "points",
        "signals",
        "evidence",
        "causes",
        "departments",
        "explanation",
    ]
    if not problems:
        return pd.DataFrame(columns=columns)
    result = pd.DataFrame(problems, columns=columns)
    return result.sort_values(
        ["points", "place", "disease"], ascending=[False, True, True], ignore_index=True
    )


def _check_satisfaction(satisfaction: Any) -> pd.DataFrame | None:
    if satisfaction is None:
        return None
    if not isinstance(satisfaction, pd.DataFrame):
        raise ParameterError(
            "satisfaction",
            "a DataFrame (index place, a column per dimension, scores 0-100)",
            type(satisfaction).__name__,
        )
    return check_values(satisfaction, name="satisfaction").frame


def _problem(
    disease,
    place,
    trigger_rows,
    flags,
    evidence,
    place_evidence,
    meta,
    catalogue,
    survey,
    place_name,
) -> dict:
    """One problem: ``trigger_rows`` are the positions in ``evidence`` of the place's
    trigger indicators, ``flags`` the signal arrays over all of ``evidence``."""
    rules = disease.rules
    order = trigger_rows[np.argsort(-flags["points"][trigger_rows], kind="stable")]
    items = []
    for position in order:
        row = evidence[position]
        raised = [s for s in SIGNALS[:-1] if flags[s][position]]
        items.append(
            _evidence_item(row, raised, int(flags["points"][position]), meta, catalogue, rules)
        )
    year = int(evidence[order[0]]["year"])
    points = max(item["points"] for item in items)
    signals = sorted({s for item in items for s in item["signals"]}, key=SIGNALS.index)
    survey_item = None
    if survey is not None and disease.dimension in survey.columns and place in survey.index:
        score = survey.at[place, disease.dimension]
        if pd.notna(score) and score < rules.dissatisfaction_below:
            points += rules.points.get("dissatisfaction", 0)
            signals.append("dissatisfaction")
            dimension_name = catalogue.dimension_names.get(disease.dimension, disease.dimension)
            survey_item = {
                "dimension": disease.dimension,
                "satisfaction": float(score),
                "threshold": rules.dissatisfaction_below,
                "sentence": catalogue.phrases["dissatisfaction"].format(
                    dimension=dimension_name,
                    score=format_number(score, 1),
                    threshold=format_number(rules.dissatisfaction_below, 1),
                ),
            }
    severity = next(
        (level for level, minimum in rules.severity if points >= minimum), rules.severity[-1][0]
    )
    causes = _cause_items(disease, place_evidence, meta, catalogue)
    departments = list(
        dict.fromkeys(
            d
            for code in [
                *(i["indicator"] for i in items if i["signals"]),
                *(c["indicator"] for c in causes),
            ]
            for d in [meta[code]["department"]]
            if d
        )
    )
    flagged = [i for i in items if i["signals"]]
    sentences = [i["sentence"] for i in flagged[:3]]
    evidence_text = catalogue.phrases["indicator_separator"].join(sentences)
    if survey_item:
        evidence_text += catalogue.phrases["indicator_separator"] + survey_item["sentence"]
    cause_text = (
        catalogue.phrases["causes"].format(
            indicators="、".join(
                f"{meta[c['indicator']]['name_zh']}（{c['note']}）" for c in causes
            )
        )
        if causes
        else ""
    )
    explanation = disease.template.format(
        place=place_name,
        disease=disease.name_zh,
        severity=catalogue.severity_names.get(severity, severity),
        evidence=evidence_text,
        causes=cause_text,
        departments="、".join(departments) or "相关部门",
    )
    return {
        "place": place,
        "year": year,
        "disease": disease.code,
        "disease_name": disease.name_zh,
        "dimension": disease.dimension,
        "severity": severity,
        "points": points,
        "signals": signals,
        "evidence": [{**item, "sentence": place_name + item["sentence"]} for item in items]
        + ([survey_item] if survey_item else []),
        "causes": causes,
        "departments": departments,
        "explanation": explanation,
    }


def _float(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _evidence_item(row, raised, points, meta, catalogue, rules) -> dict:
    code = row["indicator"]
    decimals = int(meta[code]["decimals"])
    phrases = catalogue.phrases
    value_text = format_number(row["value"], decimals)
    parts = [f"{meta[code]['name_zh']}{value_text}{meta[code]['unit']}"]
    if pd.notna(row["shortfall"]) and row["shortfall"] > 0:
        gap = format_number(row["shortfall"], decimals)
        if row["comparison"] == ">=":
            parts.append(
                phrases["below_standard"].format(
                    standard=format_number(row["standard"], decimals), gap=gap
                )
            )
        elif row["comparison"] == "<=":
            parts.append(
                phrases["above_standard"].format(
                    standard=format_number(row["standard"], decimals), gap=gap
                )
            )
        else:
            parts.append(
                phrases["outside_range"].format(
                    low=format_number(row["standard"], decimals),
                    high=format_number(row["standard_high"], decimals),
                    gap=gap,
                )
            )
    if "lowest_quartile" in raised:
        parts.append(
            phrases["lowest_quartile"].format(
                share=format_number(100 * rules.lowest_quantile, 0),
                rank=int(row["peer_rank"]),
                count=int(row["peer_count"]),
            )
        )
    if "deterioration" in raised:
        direction = DIRECTION_SIGNS[meta[code]["direction"]]
        raw_change = row["trend_change"] * direction  # back to the sign of the values
        phrase = phrases["decrease"] if raw_change < 0 else phrases["increase"]
        text = phrase.format(
            years=int(row["year"] - row["trend_from"] + 1),
            change=format_number(abs(raw_change) * 100, 1),
        )
        if row["consecutive_declines"] >= rules.consecutive_declines:
            text += phrases["streak"].format(years=int(row["consecutive_declines"]))
        parts.append(text)
    return {
        "indicator": code,
        "name": meta[code]["name_zh"],
        "unit": meta[code]["unit"],
        "value": float(row["value"]),
        "comparison": row["comparison"] if isinstance(row["comparison"], str) else None,
        "standard": _float(row["standard"]),
        "standard_high": _float(row["standard_high"]),
        "gap": _float(row["shortfall"])
        if pd.notna(row["shortfall"]) and row["shortfall"] > 0
        else None,
        "colour": row["colour"] if isinstance(row["colour"], str) else None,
        "peer_rank": None if pd.isna(row["peer_rank"]) else int(row["peer_rank"]),
        "peer_count": int(row["peer_count"]),
        "bottom_share": _float(row["bottom_share"]),
        "trend_from": int(row["trend_from"]),
        "trend_change": _float(row["trend_change"]),
        "trend_slope": _float(row["trend_slope"]),
        "consecutive_declines": int(row["consecutive_declines"]),
        "signals": raised,
        "points": points,
        "sentence": "，".join(parts),
    }


def _cause_items(disease, place_evidence, meta, catalogue) -> list[dict]:
    """Cause indicators of the place that are themselves weak: short of the standard or
    in the bottom half of the peers."""
    rows = [row for row in place_evidence if row["indicator"] in disease.cause_indicators]
    causes = []
    for row in rows:
        short = row["colour"] in ("yellow", "red")
        low = (
            pd.notna(row["bottom_share"])
            and row["bottom_share"] <= 0.5
            and row["peer_count"] >= disease.rules.min_peers
        )
        if not (short or low):
            continue
        decimals = int(meta[row["indicator"]]["decimals"])
        note = (
            catalogue.phrases["cause_short"]
            if short
            else catalogue.phrases["cause_low"].format(
                rank=int(row["peer_rank"]), count=int(row["peer_count"])
            )
        )
        causes.append(
            {
                "indicator": row["indicator"],
                "name": meta[row["indicator"]]["name_zh"],
                "value": float(row["value"]),
                "value_text": format_number(row["value"], decimals),
                "colour": row["colour"] if isinstance(row["colour"], str) else None,
                "peer_rank": None if pd.isna(row["peer_rank"]) else int(row["peer_rank"]),
                "peer_count": int(row["peer_count"]),
                "note": note,
            }
        )
    return causes
