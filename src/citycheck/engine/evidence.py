"""The evidence of the diagnosis (诊断), measured once per place and indicator of a round:
the standard for the place's city class, the gap and warning colour
(:func:`standard_status`), the position among peers and the trend
(:func:`indicator_evidence`). :func:`citycheck.engine.diagnosis.diagnose` turns it into
signals and points; the method is described in :mod:`citycheck.engine.diagnosis`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._validation import DataError, ParameterError, check_values
from .standards import assess_standards

__all__ = [
    "DIRECTION_SIGNS",
    "format_number",
    "indicator_evidence",
    "standard_status",
]

#: Sign of "better" for each indicator direction (a target range has no better side).
DIRECTION_SIGNS = {"higher": 1.0, "lower": -1.0, "range": 0.0}


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


def check_panel(values: Any, *, name: str = "values") -> pd.DataFrame:
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
    bad = meta.index[~meta["direction"].isin(list(DIRECTION_SIGNS))]
    if len(bad):
        raise DataError(
            f"`indicators` direction must be one of {list(DIRECTION_SIGNS)}; got {meta.loc[bad[0], 'direction']!r}",
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
    panel = check_panel(values)
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

    sign = meta.loc[panel.columns, "direction"].map(DIRECTION_SIGNS).to_numpy()
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
