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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ._validation import DataError, ParameterError, check_values
from .standards import assess_standards

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

#: Signals a rule can raise, in the order they are reported.
SIGNALS: tuple[str, ...] = (
    "bottom_line_failure",
    "red_warning",
    "lowest_quartile",
    "deterioration",
    "dissatisfaction",
)

#: Severity levels from the worst; a catalogue may name a subset.
SEVERITY_LEVELS: tuple[str, ...] = ("severe", "moderate", "mild")

_DIRECTIONS = {"higher": 1.0, "lower": -1.0, "range": 0.0}


@dataclass(frozen=True)
class Rules:
    """Thresholds and points of a disease's rules (catalogue ``defaults`` + its ``rules``)."""

    points: Mapping[str, int] = field(
        default_factory=lambda: {
            "bottom_line_failure": 3,
            "red_warning": 2,
            "lowest_quartile": 1,
            "deterioration": 1,
            "dissatisfaction": 1,
        }
    )
    trigger_points: int = 2
    severity: tuple[tuple[str, int], ...] = (("severe", 5), ("moderate", 3), ("mild", 2))
    lowest_quantile: float = 0.25
    min_peers: int = 4
    decline_threshold: float = 0.05
    consecutive_declines: int = 2
    decline_step_min: float = 0.01
    dissatisfaction_below: float = 60.0


@dataclass(frozen=True)
class Disease:
    """One urban disease of the catalogue."""

    code: str
    name_zh: str
    name_en: str
    dimension: str
    indicators: tuple[str, ...]
    cause_indicators: tuple[str, ...]
    rules: Rules
    template: str


@dataclass(frozen=True)
class DiseaseCatalogue:
    """The diseases, the trend window and the phrases explanations are built from."""

    diseases: tuple[Disease, ...]
    trend_years: int
    severity_names: Mapping[str, str]
    signal_names: Mapping[str, str]
    phrases: Mapping[str, str]
    dimension_names: Mapping[str, str] = field(default_factory=dict)

    def get(self, code: str) -> Disease:
        """The disease with ``code``; :class:`ParameterError` if there is none."""
        for disease in self.diseases:
            if disease.code == code:
                return disease
        raise ParameterError("code", "a disease code of the catalogue", code)

    @property
    def indicator_codes(self) -> set[str]:
        """Every indicator code a disease refers to (triggers and causes)."""
        return {c for d in self.diseases for c in (*d.indicators, *d.cause_indicators)}


_PHRASE_KEYS = (
    "below_standard",
    "above_standard",
    "outside_range",
    "lowest_quartile",
    "decrease",
    "increase",
    "streak",
    "dissatisfaction",
    "causes",
    "cause_short",
    "cause_low",
    "indicator_separator",
)
_DISEASE_KEYS = {
    "code",
    "name_zh",
    "name_en",
    "dimension",
    "indicators",
    "cause_indicators",
    "rules",
    "template",
}


def load_catalogue(path: str | Path) -> DiseaseCatalogue:
    """Read and check a disease catalogue YAML file.

    Parameters
    ----------
    path : str or Path
        A file with top-level ``trend_years``, ``defaults`` (rule thresholds),
        ``severity_names``, ``signal_names``, ``phrases``, optional ``dimension_names``
        and ``diseases`` (a list; see ``docs/engine/diagnosis.md``).

    Returns
    -------
    DiseaseCatalogue

    Raises
    ------
    DataError
        Naming the file, the disease and the field that is missing or wrong.

    Examples
    --------
    >>> from pathlib import Path
    >>> catalogue = load_catalogue(Path("data/diagnosis/diseases.yaml"))
    >>> catalogue.get("lack_of_green_space").name_zh
    '绿地不足'
    """
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict) or not isinstance(document.get("diseases"), list):
        raise DataError(f"{path}: a mapping with a `diseases` list is required")
    defaults = _rules_from(document.get("defaults") or {}, Rules(), where=f"{path}: defaults")
    phrases = document.get("phrases") or {}
    missing_phrases = [k for k in _PHRASE_KEYS if k not in phrases]
    if missing_phrases:
        raise DataError(f"{path}: phrases: missing {missing_phrases[0]!r}")
    diseases, seen = [], set()
    for number, entry in enumerate(document["diseases"], start=1):
        where = f"{path}: disease {number} ({entry.get('code', '?') if isinstance(entry, dict) else '?'})"
        if not isinstance(entry, dict):
            raise DataError(f"{where}: must be a mapping")
        unknown = set(entry) - _DISEASE_KEYS
        if unknown:
            raise DataError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        for key in ("code", "name_zh", "name_en", "dimension", "indicators", "template"):
            if not entry.get(key):
                raise DataError(f"{where}: field {key!r} is required")
        if entry["code"] in seen:
            raise DataError(f"{where}: field 'code' duplicates an earlier disease")
        seen.add(entry["code"])
        for key in ("indicators", "cause_indicators"):
            codes = entry.get(key) or []
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise DataError(f"{where}: field {key!r} must be a list of indicator codes")
        diseases.append(
            Disease(
                code=entry["code"],
                name_zh=entry["name_zh"],
                name_en=entry["name_en"],
                dimension=entry["dimension"],
                indicators=tuple(entry["indicators"]),
                cause_indicators=tuple(entry.get("cause_indicators") or ()),
                rules=_rules_from(entry.get("rules") or {}, defaults, where=f"{where}: rules"),
                template=entry["template"],
            )
        )
    trend_years = document.get("trend_years", 3)
    if not isinstance(trend_years, int) or trend_years < 2:
        raise DataError(f"{path}: trend_years must be an integer >= 2; got {trend_years!r}")
    return DiseaseCatalogue(
        diseases=tuple(diseases),
        trend_years=trend_years,
        severity_names=dict(document.get("severity_names") or {}),
        signal_names=dict(document.get("signal_names") or {}),
        phrases=dict(phrases),
        dimension_names=dict(document.get("dimension_names") or {}),
    )


def _rules_from(entry: Mapping[str, Any], base: Rules, *, where: str) -> Rules:
    if not isinstance(entry, Mapping):
        raise DataError(f"{where}: must be a mapping")
    known = set(Rules.__dataclass_fields__)
    unknown = set(entry) - known
    if unknown:
        raise DataError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    changes: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "points":
            bad = [s for s in value if s not in SIGNALS]
            if bad:
                raise DataError(f"{where}: points: unknown signal {bad[0]!r}")
            changes[key] = {**base.points, **value}
        elif key == "severity":
            levels = tuple((str(level), int(points)) for level, points in value.items())
            if any(level not in SEVERITY_LEVELS for level, _ in levels):
                raise DataError(f"{where}: severity: levels must be among {SEVERITY_LEVELS}")
            changes[key] = tuple(sorted(levels, key=lambda item: -item[1]))
        elif not isinstance(value, int | float) or isinstance(value, bool):
            raise DataError(f"{where}: {key} must be a number; got {value!r}")
        else:
            changes[key] = type(getattr(base, key))(value)
    return replace(base, **changes)


def format_number(value: float, decimals: int = 2) -> str:
    """A number as officials write it: at most ``decimals`` places, no trailing zeros.

    Examples
    --------
    >>> format_number(9.20, 2), format_number(12.0), format_number(2.8333, 1)
    ('9.2', '12', '2.8')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:.{max(int(decimals), 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _check_panel(values: Any, *, name: str = "values") -> pd.DataFrame:
    """A checked float copy of a (place, year) x indicator panel."""
    frame = check_values(values, name=name).frame
    if not isinstance(values, pd.DataFrame) or values.index.nlevels != 2:
        raise ParameterError(
            name,
            "a DataFrame indexed by (place, year) with a column per indicator",
            type(values).__name__,
        )
    frame.index = frame.index.set_names(["place", "year"])
    return frame


def _check_indicators(indicators: Any, codes) -> pd.DataFrame:
    if not isinstance(indicators, pd.DataFrame) or not {"code", "direction"} <= set(
        indicators.columns
    ):
        raise ParameterError(
            "indicators",
            "a DataFrame with columns code, direction (and name_zh, unit, type, department)",
            type(indicators).__name__,
        )
    meta = indicators.drop_duplicates("code").set_index("code")
    missing = [c for c in codes if c not in meta.index]
    if missing:
        raise DataError("`indicators` has no row", indicator=missing[0])
    bad = meta.index[~meta["direction"].isin(list(_DIRECTIONS))]
    if len(bad):
        raise DataError(
            f"`indicators` direction must be one of {list(_DIRECTIONS)}; got {meta.loc[bad[0], 'direction']!r}",
            indicator=bad[0],
        )
    defaults = {
        "name_zh": None,
        "unit": "",
        "type": "guiding",
        "department": "",
        "decimals": 2,
        "dimension": "",
    }
    for column, default in defaults.items():
        if column not in meta.columns:
            meta[column] = default if default is not None else meta.index
    meta["name_zh"] = meta["name_zh"].fillna(pd.Series(meta.index, index=meta.index))
    meta["decimals"] = meta["decimals"].fillna(2).astype(int)
    meta[["unit", "department"]] = meta[["unit", "department"]].fillna("")
    return meta


def standard_status(
    values: pd.DataFrame,
    *,
    standards: pd.DataFrame,
    indicators: pd.DataFrame,
    city_classes: pd.Series | Mapping | None = None,
) -> pd.DataFrame:
    """Each value against its standard, in the diagnosis's column names.

    A thin layer over :func:`citycheck.engine.standards.assess_standards` (the same
    comparison the published scorecard uses): ``type`` is taken from ``indicators``
    when ``standards`` lacks it, and places without a city class use the standards
    for every class.

    Parameters
    ----------
    values : DataFrame
        One row per place, one column per indicator code.
    standards : DataFrame
        Columns ``indicator, city_class, comparison, value`` and optionally
        ``value_high, warning_band, type``.
    indicators : DataFrame
        Columns ``code, direction`` and optionally ``type`` (``bottom_line``/``guiding``).
    city_classes : Series or mapping, optional
        City class of each place.

    Returns
    -------
    DataFrame
        Long: ``place, indicator, value, comparison, standard, standard_high, shortfall,
        margin, meets_standard, colour, bottom_line_failure``; indicators without a
        standard for the place are left out.

    Examples
    --------
    >>> values = pd.DataFrame({"park": [9.2, 11.5, 13.0]}, index=["A", "B", "C"])
    >>> standards = pd.DataFrame({"indicator": ["park"], "city_class": [""],
    ...     "comparison": [">="], "value": [12.0], "warning_band": [1.0]})
    >>> indicators = pd.DataFrame({"code": ["park"], "direction": ["higher"]})
    >>> standard_status(values, standards=standards, indicators=indicators)[
    ...     ["place", "shortfall", "colour"]].round(1).values.tolist()
    [['A', 2.8, 'red'], ['B', 0.5, 'yellow'], ['C', 0.0, 'green']]
    """
    frame = check_values(values).frame
    meta = _check_indicators(indicators, frame.columns)
    if not isinstance(standards, pd.DataFrame) or not {"indicator", "comparison", "value"} <= set(
        standards.columns
    ):
        raise ParameterError(
            "standards",
            "a DataFrame with columns indicator, city_class, comparison, value",
            type(standards).__name__,
        )
    table = standards[standards["indicator"].isin(frame.columns)].copy()
    for column, default in (("city_class", ""), ("value_high", np.nan), ("warning_band", 0.0)):
        if column not in table.columns:
            table[column] = default
    if "type" not in table.columns:
        table["type"] = table["indicator"].map(meta["type"])
    table["type"] = table["type"].fillna("guiding")
    classes = dict(city_classes) if city_classes is not None else {}
    frame.index = frame.index.rename("place")
    status = assess_standards(
        frame, table, city_classes={p: str(classes.get(p) or "") for p in frame.index}
    )
    status = status[status["colour"] != "missing"]
    return status.rename(
        columns={
            "target": "standard",
            "target_high": "standard_high",
            "meets": "meets_standard",
            "bottom_line_failed": "bottom_line_failure",
        }
    )[
        [
            "place",
            "indicator",
            "value",
            "comparison",
            "standard",
            "standard_high",
            "shortfall",
            "margin",
            "meets_standard",
            "colour",
            "bottom_line_failure",
        ]
    ].reset_index(drop=True)


def indicator_evidence(
    values: pd.DataFrame,
    *,
    indicators: pd.DataFrame,
    standards: pd.DataFrame | None = None,
    city_classes: pd.Series | Mapping | None = None,
    peer_groups: pd.Series | Mapping | None = None,
    year: int | None = None,
    trend_years: int = 3,
    decline_step_min: float = 0.01,
) -> pd.DataFrame:
    """Measure the evidence for every place and indicator of one round.

    Parameters
    ----------
    values : DataFrame
        Indexed by (place, year), one column per indicator code; earlier years give the trend.
    indicators : DataFrame
        Columns ``code, direction`` (``higher``/``lower``/``range``) and optionally
        ``name_zh, unit, type, department, decimals, dimension``.
    standards : DataFrame, optional
        As for :func:`standard_status`; without it no standard evidence is measured.
    city_classes, peer_groups : Series or mapping, optional
        Per place. Peers are the places of the same group (all places when omitted).
    year : int, optional
        The round; the latest year in ``values`` by default.
    trend_years : int
        How many annual values (ending at ``year``) the trend is measured over.
    decline_step_min : float
        A year-on-year change counts as worsening when worse by at least this share.

    Returns
    -------
    DataFrame
        One row per place and indicator with a value in ``year``: ``place, indicator,
        year, value, standard, standard_high, comparison, shortfall, margin, meets_standard,
        colour, bottom_line_failure, peer_group, peer_rank, peer_count, bottom_share,
        trend_from, trend_change, trend_slope, consecutive_declines``. ``trend_change``
        is direction-aware: negative means worse.

    Examples
    --------
    >>> index = pd.MultiIndex.from_product([["A", "B", "C", "D"], [2022, 2023, 2024]])
    >>> values = pd.DataFrame({"park": [13, 12, 11, 12, 12, 12, 14, 15, 16, 9, 9, 9.0]}, index=index)
    >>> indicators = pd.DataFrame({"code": ["park"], "direction": ["higher"]})
    >>> evidence = indicator_evidence(values, indicators=indicators)
    >>> evidence[["place", "peer_rank", "bottom_share", "consecutive_declines"]].values.tolist()
    [['A', 3, 0.5, 2], ['B', 2, 0.75, 0], ['C', 1, 1.0, 0], ['D', 4, 0.25, 0]]
    >>> float(evidence.loc[0, "trend_change"].round(4))
    -0.1538
    """
    panel = _check_panel(values)
    meta = _check_indicators(indicators, panel.columns)
    if not isinstance(trend_years, int) or isinstance(trend_years, bool) or trend_years < 2:
        raise ParameterError("trend_years", "an integer >= 2", trend_years)
    years = panel.index.get_level_values("year")
    if year is None:
        year = int(years.max())
    elif year not in set(years):
        raise ParameterError("year", "a year present in `values`", year)
    current = panel.xs(year, level="year")
    places = current.index
    groups = dict(peer_groups) if peer_groups is not None else {}
    group_of = pd.Series([str(groups.get(p, "")) for p in places], index=places)

    sign = meta.loc[panel.columns, "direction"].map(_DIRECTIONS).to_numpy()
    oriented = current * sign  # higher = better; 0 for range indicators
    ranks = oriented.groupby(group_of).rank(ascending=False, method="min")
    counts = current.notna().groupby(group_of).transform("sum")
    ranks = ranks.where(np.broadcast_to(sign != 0, ranks.shape))

    window_years = sorted(y for y in set(years) if y <= year)[-trend_years:]
    n_places, n_years, n_indicators = len(places), len(window_years), len(panel.columns)
    cube = (
        panel.reindex(pd.MultiIndex.from_product([places, window_years]))
        .to_numpy()
        .reshape(n_places, n_years, n_indicators)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        first, last = cube[:, 0, :], cube[:, -1, :]
        change = np.where(first != 0, (last - first) / np.abs(first), np.nan) * sign
        steps = np.diff(cube, axis=1) / np.abs(cube[:, :-1, :]) * sign
    worsening = steps <= -decline_step_min
    streak = np.zeros((n_places, n_indicators), dtype=int)
    alive = np.ones((n_places, n_indicators), dtype=bool)
    for step in range(n_years - 2, -1, -1):  # count back from the round
        alive &= worsening[:, step, :]
        streak += alive
    centred = np.asarray(window_years, dtype=float) - np.mean(window_years)
    with np.errstate(divide="ignore", invalid="ignore"):  # a one-year window has no slope
        deviations = cube - cube.mean(axis=1, keepdims=True)
        slope = np.einsum("pyi,y->pi", deviations, centred) / (centred @ centred)
    complete = ~np.isnan(cube).any(axis=1) & (n_years == trend_years) & (sign != 0)

    def column(array) -> np.ndarray:
        return np.asarray(array).T.ravel()  # (places, indicators) -> indicator-major

    evidence = pd.DataFrame(
        {
            "place": np.tile(places.to_numpy(), n_indicators),
            "indicator": np.repeat(panel.columns.to_numpy(), n_places),
            "year": year,
            "value": column(current[panel.columns].to_numpy()),
            "peer_group": np.tile(group_of.to_numpy(), n_indicators),
            "peer_rank": column(ranks.to_numpy()),
            "peer_count": column(counts.to_numpy()),
            "trend_from": window_years[0],
            "trend_change": column(np.where(complete, change, np.nan)),
            "trend_slope": column(np.where(complete, slope, np.nan)),
            "consecutive_declines": column(np.where(complete, streak, 0)),
        }
    ).dropna(subset=["value"], ignore_index=True)
    evidence["peer_rank"] = evidence["peer_rank"].astype("Int64")
    evidence["peer_count"] = evidence["peer_count"].astype(int)
    evidence["bottom_share"] = (evidence["peer_count"] - evidence["peer_rank"] + 1) / evidence[
        "peer_count"
    ]
    evidence["bottom_share"] = evidence["bottom_share"].astype(float)
    if standards is not None:
        status = standard_status(
            current, standards=standards, indicators=indicators, city_classes=city_classes
        )
        evidence = evidence.merge(
            status.drop(columns="value"), on=["place", "indicator"], how="left"
        )
    else:
        for column in (
            "comparison",
            "standard",
            "standard_high",
            "shortfall",
            "margin",
            "meets_standard",
            "colour",
        ):
            evidence[column] = np.nan
        evidence["bottom_line_failure"] = False
    evidence["bottom_line_failure"] = evidence["bottom_line_failure"].fillna(False).astype(bool)
    return evidence[
        [
            "place",
            "indicator",
            "year",
            "value",
            "standard",
            "standard_high",
            "comparison",
            "shortfall",
            "margin",
            "meets_standard",
            "colour",
            "bottom_line_failure",
            "peer_group",
            "peer_rank",
            "peer_count",
            "bottom_share",
            "trend_from",
            "trend_change",
            "trend_slope",
            "consecutive_declines",
        ]
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
    panel = _check_panel(values)
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
        direction = _DIRECTIONS[meta[code]["direction"]]
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
