"""Effect of projects (项目成效) and what-if projections.

:func:`difference_in_differences` estimates, per project type and targeted indicator,
how much more the indicator changed in places with a finished project than in
comparable places without one: a **two-group pre/post comparison with a Welch-style
standard error**, not a regression with cluster-robust errors.

For a treated place *i* the window runs from the year before its project started
(``pre``) to the year after it ended (``post``; the latest year when that is not yet
observed); its change is ``d_i = y_i(post) - y_i(pre)``. Its comparison places are the
places of the same peer group with no project of that type at any time, over the same
window: a *cohort* (peer group, pre, post) has control changes ``c_j``. Then

    tau = mean_i (d_i - mean_{j in cohort(i)} c_j)
    SE^2 = s_e^2 / n_t + sum_k (n_k / n_t)^2 s_{c,k}^2 / m_k

where ``s_e`` is the sample SD of the treated excess changes, ``n_k`` the treated and
``m_k`` the control places of cohort *k*, ``s_{c,k}`` the SD of its control changes.
With one cohort this is exactly Welch's two-sample standard error; the confidence
interval uses Student's t with Welch–Satterthwaite degrees of freedom. Fewer than
``min_places`` treated or control places: no estimate, and the message says so plainly.

:func:`before_after` gives each single project's before/after change next to the change
of its peers (context, not a causal estimate). :func:`what_if` projects next year's
values, warnings and index for the planned projects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._validation import ParameterError, check_fraction
from .diagnosis import _check_panel, format_number, standard_status

__all__ = ["WhatIf", "before_after", "difference_in_differences", "what_if"]

_PROJECT_COLUMNS = {
    "project",
    "place",
    "project_type",
    "targets",
    "start_year",
    "end_year",
    "status",
}
_DIRECTIONS = {"higher": 1.0, "lower": -1.0, "range": 0.0}
METHOD = "two-group pre/post (difference-in-differences), Welch-style SE, Welch–Satterthwaite df"


def _target_codes(targets) -> list[str]:
    """Indicator codes of a ``targets`` cell: a list of codes or of ``{indicator, ...}``."""
    codes = []
    for target in targets or []:
        codes.append(target["indicator"] if isinstance(target, Mapping) else str(target))
    return codes


def _check_projects(projects) -> pd.DataFrame:
    if not isinstance(projects, pd.DataFrame) or not set(projects.columns) >= _PROJECT_COLUMNS:
        raise ParameterError(
            "projects",
            "a DataFrame with columns " + ", ".join(sorted(_PROJECT_COLUMNS)),
            type(projects).__name__,
        )
    table = projects.copy()
    table["indicator"] = table["targets"].map(_target_codes)
    return table.explode("indicator").dropna(subset=["indicator"])


def _windows(treated: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Per treated place: the pre year (before the first start) and post year (after the last end)."""
    latest = max(years)
    window = treated.groupby("place").agg(start=("start_year", "min"), end=("end_year", "max"))
    window["pre"] = window["start"].astype(int) - 1
    window["post"] = np.minimum(window["end"].astype(int) + 1, latest)
    return window[window["post"] > window["pre"]]


def difference_in_differences(
    values: pd.DataFrame,
    projects: pd.DataFrame,
    *,
    peer_groups: pd.Series | Mapping | None = None,
    indicators: pd.DataFrame | None = None,
    min_places: int = 3,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Effect of finished projects per project type and targeted indicator.

    Parameters
    ----------
    values : DataFrame
        Indexed by (place, year), one column per indicator code.
    projects : DataFrame
        ``project, place, project_type, targets`` (a list of indicator codes or of
        ``{indicator, expected_change}``), ``start_year, end_year, status``; only
        ``finished`` projects make a place treated, but any project of the type keeps a
        place out of the comparison group.
    peer_groups : Series or mapping, optional
        Comparable places share a group (e.g. the city class); one group by default.
    indicators : DataFrame, optional
        ``code, direction, name_zh`` for the message (better or worse).
    min_places : int
        Fewest treated and fewest control places for an estimate.
    confidence : float
        Level of the confidence interval.

    Returns
    -------
    DataFrame
        One row per (project_type, indicator): ``estimate, se, ci_low, ci_high, df,
        n_treated, n_control, treated_change, control_change, conclusive, message,
        method``. Without enough places ``estimate`` and the interval are NaN and
        ``conclusive`` is False.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> places = [f"p{i}" for i in range(12)]
    >>> index = pd.MultiIndex.from_product([places, [2021, 2022, 2023]], names=["place", "year"])
    >>> base = np.repeat(rng.normal(50, 5, 12), 3) + np.tile([0.0, 1.0, 2.0], 12)
    >>> effect = np.array([3.0 if p < 6 and y == 2 else 0.0 for p in range(12) for y in range(3)])
    >>> values = pd.DataFrame({"park": base + effect + rng.normal(0, 0.3, 36)}, index=index)
    >>> projects = pd.DataFrame({"project": range(6), "place": places[:6], "project_type": "parks",
    ...     "targets": [["park"]] * 6, "start_year": 2022, "end_year": 2022, "status": "finished"})
    >>> result = difference_in_differences(values, projects)
    >>> row = result.iloc[0]
    >>> bool(row["ci_low"] < 3 < row["ci_high"]), int(row["n_treated"]), int(row["n_control"])
    (True, 6, 6)
    """
    panel = _check_panel(values)
    table = _check_projects(projects)
    if not isinstance(min_places, int) or isinstance(min_places, bool) or min_places < 2:
        raise ParameterError("min_places", "an integer >= 2", min_places)
    confidence = check_fraction("confidence", confidence, low=0.5, high=0.999)
    groups = dict(peer_groups) if peer_groups is not None else {}
    meta = indicators.drop_duplicates("code").set_index("code") if indicators is not None else None
    years = sorted(int(y) for y in panel.index.get_level_values("year").unique())
    all_places = list(panel.index.get_level_values("place").unique())
    rows = []
    for (kind, code), targeted in table.groupby(["project_type", "indicator"], sort=True):
        if code not in panel.columns:
            continue
        series = panel[code].unstack("year")
        finished = targeted[targeted["status"] == "finished"]
        windows = _windows(finished, years)
        any_of_type = set(table.loc[table["project_type"] == kind, "place"])
        controls = [p for p in all_places if p not in any_of_type]
        excess, references, cohort_terms, used_controls = [], [], [], set()
        for (group, pre, post), cohort in windows.groupby(
            [windows.index.map(lambda p: str(groups.get(p, ""))), "pre", "post"]
        ):
            if pre not in series.columns or post not in series.columns:
                continue
            members = [p for p in controls if str(groups.get(p, "")) == group]
            control_change = (series.loc[members, post] - series.loc[members, pre]).dropna()
            treated_change = (
                series.loc[cohort.index, post] - series.loc[cohort.index, pre]
            ).dropna()
            if len(control_change) < 2 or treated_change.empty:
                continue
            excess.extend(treated_change - control_change.mean())
            references.extend([control_change.mean()] * len(treated_change))
            cohort_terms.append(
                (len(treated_change), control_change.var(ddof=1), len(control_change))
            )
            used_controls.update(control_change.index)
        rows.append(
            _estimate(
                kind,
                code,
                excess,
                references,
                cohort_terms,
                used_controls,
                min_places,
                confidence,
                meta,
            )
        )
    columns = [
        "project_type",
        "indicator",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "df",
        "n_treated",
        "n_control",
        "treated_change",
        "control_change",
        "conclusive",
        "message",
        "method",
    ]
    return pd.DataFrame(rows, columns=columns)


def _estimate(
    kind, code, excess, references, cohort_terms, used_controls, min_places, confidence, meta
) -> dict:
    n_treated, n_control = len(excess), len(used_controls)
    name = (
        meta.at[code, "name_zh"]
        if meta is not None and code in meta.index and "name_zh" in meta
        else code
    )
    row = {
        "project_type": kind,
        "indicator": code,
        "estimate": np.nan,
        "se": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "df": np.nan,
        "n_treated": n_treated,
        "n_control": n_control,
        "treated_change": np.nan,
        "control_change": np.nan,
        "conclusive": False,
        "method": METHOD,
    }
    if n_treated < min_places or n_control < min_places:
        row["message"] = (
            f"{name}：已完成项目的地区 {n_treated} 个、可比地区 {n_control} 个"
            f"（各至少需要 {min_places} 个），地区太少，无法得出结论。"
        )
        return row
    excess = np.asarray(excess, dtype=float)
    tau = float(excess.mean())
    # Variance terms: the treated excess changes, then each cohort's control mean.
    terms = [(excess.var(ddof=1) / n_treated, n_treated - 1)]
    terms += [((n_k / n_treated) ** 2 * var_c / m_k, m_k - 1) for n_k, var_c, m_k in cohort_terms]
    variance = sum(v for v, _ in terms)
    se = float(np.sqrt(variance))
    denominator = sum(v**2 / d for v, d in terms if d > 0)
    df = float(variance**2 / denominator) if denominator > 0 else float(n_treated + n_control - 2)
    half = stats.t.ppf(0.5 + confidence / 2, df) * se
    row.update(
        estimate=tau,
        se=se,
        ci_low=tau - half,
        ci_high=tau + half,
        df=df,
        treated_change=float(tau + np.mean(references)),
        control_change=float(np.mean(references)),
        conclusive=True,
    )
    sign = (
        _DIRECTIONS.get(meta.at[code, "direction"], 0.0)
        if meta is not None and code in meta.index
        else 0.0
    )
    level = format_number(confidence * 100, 0)
    interval = f"{format_number(tau - half, 2)} 至 {format_number(tau + half, 2)}"
    if tau - half > 0 or tau + half < 0:
        better = (tau > 0) == (sign > 0)
        verdict = ("改善" if better else "变差") if sign != 0 else ("上升" if tau > 0 else "下降")
        row["message"] = (
            f"{name}：有项目的地区比可比地区多变化 {format_number(tau, 2)}（{level}% 置信区间 {interval}），"
            f"项目与指标{verdict}相关；已完成项目地区 {n_treated} 个、可比地区 {n_control} 个。"
        )
    else:
        row["message"] = (
            f"{name}：有项目的地区与可比地区的变化差异为 {format_number(tau, 2)}（{level}% 置信区间 {interval}），"
            f"区间包含 0，尚不能确认项目的效果；已完成项目地区 {n_treated} 个、可比地区 {n_control} 个。"
        )
    return row


def before_after(
    values: pd.DataFrame,
    projects: pd.DataFrame,
    *,
    peer_groups: pd.Series | Mapping | None = None,
) -> pd.DataFrame:
    """Before and after of each single project on each indicator it targets.

    ``before`` is the year before the start, ``after`` the year after the end (the
    latest year when that is not yet observed). ``peer_change`` is the median change of
    the other places of the same peer group over the same years, for context; this is
    a description, not a causal estimate.

    Returns
    -------
    DataFrame
        ``project, place, project_type, indicator, pre_year, post_year, before, after,
        change, peer_change, net_change``.

    Examples
    --------
    >>> index = pd.MultiIndex.from_product([["A", "B", "C"], [2021, 2022, 2023]], names=["place", "year"])
    >>> values = pd.DataFrame({"park": [10, 11, 14, 10, 11, 12, 9, 10, 11.0]}, index=index)
    >>> projects = pd.DataFrame({"project": [7], "place": ["A"], "project_type": ["parks"],
    ...     "targets": [["park"]], "start_year": [2022], "end_year": [2022], "status": ["finished"]})
    >>> before_after(values, projects)[["change", "peer_change", "net_change"]].values.tolist()
    [[4.0, 2.0, 2.0]]
    """
    panel = _check_panel(values)
    table = _check_projects(projects)
    groups = dict(peer_groups) if peer_groups is not None else {}
    years = sorted(int(y) for y in panel.index.get_level_values("year").unique())
    rows = []
    for _, project in table.iterrows():
        code = project["indicator"]
        if code not in panel.columns:
            continue
        series = panel[code].unstack("year")
        pre = int(project["start_year"]) - 1
        post = min(int(project["end_year"]) + 1, max(years))
        place = project["place"]
        before = (
            series.at[place, pre] if pre in series.columns and place in series.index else np.nan
        )
        after = (
            series.at[place, post] if post in series.columns and place in series.index else np.nan
        )
        peers = [
            p
            for p in series.index
            if p != place and str(groups.get(p, "")) == str(groups.get(place, ""))
        ]
        peer_change = (
            float((series.loc[peers, post] - series.loc[peers, pre]).median())
            if peers and pre in series.columns and post in series.columns and post > pre
            else np.nan
        )
        change = after - before
        rows.append(
            {
                "project": project["project"],
                "place": place,
                "project_type": project["project_type"],
                "indicator": code,
                "pre_year": pre,
                "post_year": post,
                "before": before,
                "after": after,
                "change": change,
                "peer_change": peer_change,
                "net_change": change - peer_change,
            }
        )
    columns = [
        "project",
        "place",
        "project_type",
        "indicator",
        "pre_year",
        "post_year",
        "before",
        "after",
        "change",
        "peer_change",
        "net_change",
    ]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class WhatIf:
    """The projection: values, warnings and (when an index function was given) the index.

    Attributes
    ----------
    values : DataFrame
        ``place, indicator, current, change, projected`` for every place and indicator a
        planned project targets.
    warnings : DataFrame
        ``place, indicator, colour_current, colour_projected`` for those with a standard.
    index : DataFrame or None
        ``place, current, projected, change`` for every place (other places move too
        when the index is relative).
    """

    values: pd.DataFrame
    warnings: pd.DataFrame
    index: pd.DataFrame | None


def what_if(
    values: pd.DataFrame,
    planned: pd.DataFrame,
    *,
    indicators: pd.DataFrame,
    standards: pd.DataFrame | None = None,
    city_classes: pd.Series | Mapping | None = None,
    index_function: Callable[[pd.DataFrame], pd.Series] | None = None,
    year: int | None = None,
) -> WhatIf:
    """Project next year's values, warnings and index from the planned projects.

    ``projected = latest value + sum of the expected changes`` of the planned projects
    of the place (no trend is extrapolated); percentages are kept within [0, 100].

    Parameters
    ----------
    values : DataFrame
        Indexed by (place, year), one column per indicator code.
    planned : DataFrame
        ``place, targets`` where ``targets`` lists ``{indicator, expected_change}``.
    indicators : DataFrame
        ``code, direction, unit`` (and ``type`` for bottom-line indicators).
    standards, city_classes
        As for :func:`citycheck.engine.diagnosis.standard_status`; the colours come from
        :func:`citycheck.engine.standards.assess_standards`.
    index_function : callable, optional
        Takes a wide frame (one row per place, one column per indicator; the year
        ``year``) and returns the index per place; called on the current and on the
        projected frame.
    year : int, optional
        The base year; the latest by default.

    Returns
    -------
    WhatIf

    Examples
    --------
    >>> index = pd.MultiIndex.from_product([["A", "B"], [2024]], names=["place", "year"])
    >>> values = pd.DataFrame({"park": [11.0, 13.0]}, index=index)
    >>> planned = pd.DataFrame({"place": ["A"], "targets": [[{"indicator": "park", "expected_change": 1.5}]]})
    >>> indicators = pd.DataFrame({"code": ["park"], "direction": ["higher"], "unit": ["平方米/人"]})
    >>> standards = pd.DataFrame({"indicator": ["park"], "city_class": [""], "comparison": [">="],
    ...     "value": [12.0], "warning_band": [0.5]})
    >>> result = what_if(values, planned, indicators=indicators, standards=standards,
    ...     index_function=lambda frame: frame["park"] / frame["park"].max() * 100)
    >>> result.values[["place", "current", "projected"]].values.tolist()
    [['A', 11.0, 12.5]]
    >>> result.warnings[["colour_current", "colour_projected"]].values.tolist()
    [['red', 'green']]
    >>> result.index.round(1)[["place", "current", "projected"]].values.tolist()
    [['A', 84.6, 96.2], ['B', 100.0, 100.0]]
    """
    panel = _check_panel(values)
    if not isinstance(planned, pd.DataFrame) or not {"place", "targets"} <= set(planned.columns):
        raise ParameterError(
            "planned", "a DataFrame with columns place, targets", type(planned).__name__
        )
    if index_function is not None and not callable(index_function):
        raise ParameterError(
            "index_function", "a callable (wide frame -> index per place)", index_function
        )
    years = panel.index.get_level_values("year")
    year = int(years.max()) if year is None else year
    if year not in set(years):
        raise ParameterError("year", "a year present in `values`", year)
    current = panel.xs(year, level="year")
    changes = [
        (row["place"], target["indicator"], float(target["expected_change"]))
        for _, row in planned.iterrows()
        for target in row["targets"] or []
        if isinstance(target, Mapping) and target.get("indicator") in current.columns
    ]
    change = (
        pd.DataFrame(changes, columns=["place", "indicator", "change"])
        .groupby(["place", "indicator"], as_index=False)["change"]
        .sum()
    )
    meta = indicators.drop_duplicates("code").set_index("code")
    projected = current.copy()
    for place, code, delta in change.itertuples(index=False):
        new = projected.at[place, code] + delta
        unit = meta.at[code, "unit"] if code in meta.index and "unit" in meta.columns else ""
        projected.at[place, code] = min(max(new, 0.0), 100.0) if unit in ("%", "％") else new
    value_rows = change.assign(
        current=[
            current.at[p, c] for p, c in zip(change["place"], change["indicator"], strict=True)
        ],
        projected=[
            projected.at[p, c] for p, c in zip(change["place"], change["indicator"], strict=True)
        ],
    )[["place", "indicator", "current", "change", "projected"]]
    warnings = pd.DataFrame(columns=["place", "indicator", "colour_current", "colour_projected"])
    if standards is not None and not change.empty:
        touched = sorted(set(change["place"]))
        codes = sorted(set(change["indicator"]))
        before = standard_status(
            current.loc[touched, codes],
            standards=standards,
            indicators=indicators,
            city_classes=city_classes,
        )
        after = standard_status(
            projected.loc[touched, codes],
            standards=standards,
            indicators=indicators,
            city_classes=city_classes,
        )
        warnings = before[["place", "indicator", "colour"]].merge(
            after[["place", "indicator", "colour"]],
            on=["place", "indicator"],
            suffixes=("_current", "_projected"),
        )
        warnings = warnings.merge(change[["place", "indicator"]], on=["place", "indicator"])
    index_frame = None
    if index_function is not None:
        now, then = index_function(current), index_function(projected)
        index_frame = pd.DataFrame({"current": now, "projected": then.reindex(now.index)})
        index_frame["change"] = index_frame["projected"] - index_frame["current"]
        index_frame = index_frame.rename_axis("place").reset_index()
    return WhatIf(
        values=value_rows.reset_index(drop=True),
        warnings=warnings.reset_index(drop=True),
        index=index_frame,
    )
