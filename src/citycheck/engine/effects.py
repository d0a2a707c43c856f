"""Effect of projects (项目成效) and what-if projections.

:func:`difference_in_differences` estimates, per project type and targeted indicator,
how much more the indicator changed in places with a finished project than in
comparable places without one: an **OLS difference-in-differences with cohort and place
fixed effects and place-clustered standard errors** (statsmodels).

For a treated place *i* the window runs from the year before its project started
(``pre``) to the year after it ended (``post``; the latest year when that is not yet
observed). Treated places sharing a peer group and a window form a *cohort* *k*; its
comparison places are the places of the same peer group with no project of that type
at any time, observed over the same window. The cohorts are stacked (a comparison
place may serve several cohorts) and the regression is

    y_{k,i,t} = a_{k,i} + l_{k,t} + tau * D_{k,i,t} + e_{k,i,t},   t in {pre_k, post_k}

with cohort×place effects ``a`` (place fixed effects within each cohort), cohort×year
effects ``l`` (the year effects of each cohort's own 2×2 comparison) and ``D = 1`` for a
treated place in its post year. With two years per cohort it is estimated, with the same
``tau`` and the same cluster sandwich, as the regression of each place's change
``y(post) - y(pre)`` on a dummy per cohort and the treatment dummy. With one cohort
``tau`` is the 2×2 difference of mean changes; with several it is the average of the
cohorts' differences weighted by ``n_k m_k / (n_k + m_k)`` (``n_k`` treated, ``m_k``
comparison places of cohort *k*).

Standard errors are clustered by place (CR1):
``V = c (X'X)^-1 (sum_g X_g' u_g u_g' X_g) (X'X)^-1`` with
``c = G/(G-1) * (N-1)/(N-K)``, ``G`` places, ``N`` stacked changes and ``K`` the cohort
dummies plus the treatment (the place effects, nested in the clusters, are not counted);
the interval uses Student's t with ``G - 1`` degrees of freedom.

No estimate ("inconclusive", never conclusive) when there are fewer than ``min_places``
treated or comparison places, when the indicator did not change differently anywhere
(no variation), or when the clustered standard error is zero; the message says which.

:func:`before_after` gives each single project's before/after change next to the change
of its peers (context, not a causal estimate). :func:`what_if` projects next year's
values, warnings and index for the planned projects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import ParameterError, check_fraction
from .evidence import check_panel, format_number, standard_status

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
METHOD = (
    "OLS difference-in-differences, cohort×place and cohort×year fixed effects, "
    "place-clustered SE (CR1), t with G-1 df"
)
_RESULT_COLUMNS = [
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


_PAIR = ["project_type", "indicator"]
_COHORT = [*_PAIR, "group", "pre", "post"]


def _stack(panel: pd.DataFrame, table: pd.DataFrame, groups: Mapping) -> pd.DataFrame:
    """Every (project type, indicator)'s stacked changes in one frame.

    One row per (cohort, place): each treated place in its cohort (a place with a
    ``finished`` project of the type targeting the indicator; its window runs from the
    year before its first start to the year after its last end, capped at the latest
    year) and each comparison place of the cohort's peer group (no project of the type
    at all) over the same window, with ``change = y(post) - y(pre)``. Unobserved changes
    and cohorts without both treated and comparison changes are left out. Columns:
    ``project_type, indicator, group, pre, post, place, treated, change, cohort``.
    """
    latest = int(panel.index.get_level_values("year").max())
    places = pd.Index(panel.index.get_level_values("place").unique())
    group_of = {place: str(groups.get(place, "")) for place in places}
    finished = table[(table["status"] == "finished") & table["indicator"].isin(panel.columns)]
    treated = (
        finished.groupby([*_PAIR, "place"], sort=False)
        .agg(start=("start_year", "min"), end=("end_year", "max"))
        .reset_index()
    )
    treated["pre"] = treated["start"].astype(int) - 1
    treated["post"] = np.minimum(treated["end"].astype(int) + 1, latest)
    treated = treated[treated["post"] > treated["pre"]].assign(treated=1.0)
    treated["group"] = treated["place"].map(group_of).fillna("")
    of_type = pd.MultiIndex.from_frame(table[["project_type", "place"]])
    candidates = pd.MultiIndex.from_product(
        [table["project_type"].unique(), places], names=["project_type", "place"]
    )
    controls = candidates.difference(of_type).to_frame(index=False)
    controls["group"] = controls["place"].map(group_of)
    cohorts = treated[_COHORT].drop_duplicates()
    compared = cohorts.merge(controls, on=["project_type", "group"]).assign(treated=0.0)
    columns = [*_COHORT, "place", "treated"]
    stacked = pd.concat([treated[columns], compared[columns]], ignore_index=True)
    wide = panel.unstack("year")  # columns: (indicator, year)
    rows = wide.index.get_indexer(stacked["place"])
    before = wide.columns.get_indexer(
        pd.MultiIndex.from_arrays([stacked["indicator"], stacked["pre"]])
    )
    after = wide.columns.get_indexer(
        pd.MultiIndex.from_arrays([stacked["indicator"], stacked["post"]])
    )
    observed = (rows >= 0) & (before >= 0) & (after >= 0)
    table_values = wide.to_numpy(dtype=float)
    change = np.full(len(stacked), np.nan)
    change[observed] = (
        table_values[rows[observed], after[observed]]
        - table_values[rows[observed], before[observed]]
    )
    stacked = stacked.assign(change=change).dropna(subset=["change"])
    stacked["cohort"] = stacked.groupby(_COHORT, sort=True).ngroup()
    arms = stacked.groupby("cohort")["treated"].agg(["min", "max"])
    both = arms.index[(arms["min"] == 0) & (arms["max"] == 1)]
    return stacked[stacked["cohort"].isin(both)].reset_index(drop=True)


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

    OLS difference-in-differences over stacked cohorts with cohort×place and cohort×year
    fixed effects and place-clustered standard errors; see the module docstring.

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
        Fewest treated and fewest comparison places (clusters of each arm) for an estimate.
    confidence : float
        Level of the confidence interval.

    Returns
    -------
    DataFrame
        One row per (project_type, indicator): ``estimate, se, ci_low, ci_high, df,
        n_treated, n_control, treated_change, control_change, conclusive, message,
        method``. ``treated_change`` and ``control_change`` are the cohorts' mean changes
        weighted as the regression weighs them, so their difference is ``estimate``.
        ``conclusive`` is True exactly when there is an estimate with a positive standard
        error; otherwise ``estimate``, ``se`` and the interval are NaN and ``message``
        says why.

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
    panel = check_panel(values)
    table = _check_projects(projects)
    if not isinstance(min_places, int) or isinstance(min_places, bool) or min_places < 2:
        raise ParameterError("min_places", "an integer >= 2", min_places)
    confidence = check_fraction("confidence", confidence, low=0.5, high=0.999)
    groups = dict(peer_groups) if peer_groups is not None else {}
    meta = indicators.drop_duplicates("code").set_index("code") if indicators is not None else None
    stacked = _stack(panel, table, groups)
    by_pair = dict(list(stacked.groupby(_PAIR, sort=False)))
    empty = stacked.iloc[:0]
    rows = []
    pairs = table.loc[table["indicator"].isin(panel.columns), _PAIR].drop_duplicates()
    for kind, code in pairs.sort_values(_PAIR).itertuples(index=False):
        estimate = _estimate(by_pair.get((kind, code), empty), min_places, confidence)
        row = {"project_type": kind, "indicator": code, **estimate}
        row["message"] = _message(row, meta, min_places, confidence)
        rows.append(row)
    return pd.DataFrame(rows, columns=_RESULT_COLUMNS)


def _estimate(stacked: pd.DataFrame, min_places: int, confidence: float) -> dict:
    """The regression on one stack of changes: estimate, clustered SE, interval."""
    is_treated = stacked["treated"].to_numpy() == 1
    n_treated = int(is_treated.sum())
    n_control = int(stacked.loc[~is_treated, "place"].nunique())
    row = {
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
        "reason": "too_few",
    }
    if n_treated < min_places or n_control < min_places:
        return row
    change = stacked["change"].to_numpy(dtype=float)
    if np.ptp(change) == 0:
        return {**row, "reason": "no_variation"}
    # Imported here: statsmodels adds about half a second to every start of the platform.
    from statsmodels.regression.linear_model import OLS

    cohorts = pd.get_dummies(stacked["cohort"]).to_numpy(dtype=float)
    design = np.column_stack([cohorts, stacked["treated"].to_numpy(dtype=float)])
    clusters = pd.factorize(stacked["place"])[0]
    fit = OLS(change, design).fit(cov_type="cluster", cov_kwds={"groups": clusters}, use_t=True)
    tau, se = float(fit.params[-1]), float(fit.bse[-1])
    if not np.isfinite(se) or se <= 1e-12 * max(1.0, abs(tau)):
        return {**row, "reason": "no_spread"}
    low, high = fit.conf_int(alpha=1 - confidence)[-1]
    means = stacked.groupby(["cohort", "treated"])["change"].agg(["mean", "size"]).unstack()
    n_k, m_k = means[("size", 1.0)], means[("size", 0.0)]
    weight = n_k * m_k / (n_k + m_k)
    treated_change = float(np.average(means[("mean", 1.0)], weights=weight))
    control_change = float(np.average(means[("mean", 0.0)], weights=weight))
    return {
        **row,
        "estimate": tau,
        "se": se,
        "ci_low": float(low),
        "ci_high": float(high),
        "df": float(fit.df_resid_inference),
        "treated_change": treated_change,
        "control_change": control_change,
        "conclusive": True,
        "reason": "",
    }


def _message(row: dict, meta, min_places: int, confidence: float) -> str:
    code = row["indicator"]
    name = (
        meta.at[code, "name_zh"]
        if meta is not None and code in meta.index and "name_zh" in meta
        else code
    )
    counts = f"已完成项目地区 {row['n_treated']} 个、可比地区 {row['n_control']} 个"
    if row["reason"] == "too_few":
        return (
            f"{name}：已完成项目的地区 {row['n_treated']} 个、可比地区 {row['n_control']} 个"
            f"（各至少需要 {min_places} 个），地区太少，无法得出结论。"
        )
    if row["reason"] == "no_variation":
        return f"{name}：项目前后该指标在各地区的变化完全相同，没有可比的差异，无法得出结论；{counts}。"
    if row["reason"] == "no_spread":
        return (
            f"{name}：各地区的变化与组内平均完全一致，无法估计结果的不确定性，"
            f"无法得出结论；{counts}。"
        )
    tau, low, high = row["estimate"], row["ci_low"], row["ci_high"]
    sign = (
        _DIRECTIONS.get(meta.at[code, "direction"], 0.0)
        if meta is not None and code in meta.index
        else 0.0
    )
    level = format_number(confidence * 100, 0)
    interval = f"{format_number(low, 2)} 至 {format_number(high, 2)}"
    if low > 0 or high < 0:
        better = (tau > 0) == (sign > 0)
        verdict = ("改善" if better else "变差") if sign != 0 else ("上升" if tau > 0 else "下降")
        return (
            f"{name}：有项目的地区比可比地区多变化 {format_number(tau, 2)}（{level}% 置信区间 {interval}），"
            f"项目与指标{verdict}相关；{counts}。"
        )
    return (
        f"{name}：有项目的地区与可比地区的变化差异为 {format_number(tau, 2)}（{level}% 置信区间 {interval}），"
        f"区间包含 0，尚不能确认项目的效果；{counts}。"
    )


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
    panel = check_panel(values)
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
    panel = check_panel(values)
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
