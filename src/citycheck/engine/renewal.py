"""Treatment (治理): candidate renewal projects, their priority, and monthly progress.

* :func:`load_measures` reads the catalogue of project types per disease
  (``data/renewal/measures.yaml``): typical measures, cost range (万元), duration, the
  indicators a typical project targets and the expected change of each.
* :func:`propose_projects` turns confirmed problems into candidate projects, one per
  place and project type, listing every problem it addresses.
* :func:`priority_scores` scores candidates (0–100) from four components in [0, 1],
  returned alongside the score and a Chinese explanation::

      priority = 100 * (w_s * severity + w_d * demand + w_u * urgency + w_c * cost)

  severity  the worst severity among the problems addressed (severe 1, moderate 0.6,
            mild 0.3);
  demand    residents' demand: 1 - satisfaction / 100 in the problem's dimension when
            the diagnosis had survey data, else the caller's ``demand`` per place, else
            0.5 (unknown, stated in the explanation);
  urgency   from the strongest signal: bottom-line failure 1, deterioration 0.8,
            red warning 0.6, otherwise 0.3;
  cost      cheaper is better on an absolute scale, ``c_ref / (c_ref + cost)``, so a
            project costing ``cost_reference`` scores 0.5 whatever else is proposed.
* :func:`progress_flags` compares monthly reports (月调度) with a linear schedule: a
  project is **late** when it is behind the schedule by more than ``late_threshold``
  percentage points and **stalled** when its percent complete has not risen for
  ``stalled_months`` months.
* :func:`rollup_progress` sums progress by city, project type or disease.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ._validation import DataError, ParameterError, check_choice, check_fraction

__all__ = [
    "SEVERITY_SCORES",
    "URGENCY_SCORES",
    "ProjectType",
    "load_measures",
    "priority_scores",
    "progress_flags",
    "propose_projects",
    "rollup_progress",
]

#: Severity component of the priority for each problem severity.
SEVERITY_SCORES: Mapping[str, float] = {"severe": 1.0, "moderate": 0.6, "mild": 0.3}

#: Urgency component from the strongest signal of the problems addressed.
URGENCY_SCORES: Mapping[str, float] = {
    "bottom_line_failure": 1.0,
    "deterioration": 0.8,
    "red_warning": 0.6,
}
_BASE_URGENCY = 0.3
_UNKNOWN_DEMAND = 0.5
_DEFAULT_WEIGHTS = {"severity": 0.4, "demand": 0.25, "urgency": 0.2, "cost": 0.15}
_COMPONENT_NAMES = {
    "severity": "严重程度",
    "demand": "群众需求",
    "urgency": "紧迫性",
    "cost": "成本",
}


@dataclass(frozen=True)
class ProjectType:
    """One project type of the measures catalogue."""

    code: str
    name_zh: str
    name_en: str
    diseases: tuple[str, ...]
    measures: tuple[str, ...]
    cost_low: float
    cost_high: float
    months: int
    departments: tuple[str, ...]
    targets: tuple[tuple[str, float], ...]

    @property
    def typical_cost(self) -> float:
        """Midpoint of the typical cost range (万元)."""
        return (self.cost_low + self.cost_high) / 2


_TYPE_KEYS = {
    "code",
    "name_zh",
    "name_en",
    "diseases",
    "measures",
    "cost_low",
    "cost_high",
    "months",
    "departments",
    "targets",
}


def load_measures(path: str | Path) -> tuple[ProjectType, ...]:
    """Read and check the measures catalogue.

    Parameters
    ----------
    path : str or Path
        YAML with a top-level ``project_types`` list; each has ``code, name_zh, name_en,
        diseases, measures, cost_low, cost_high`` (万元 per typical project), ``months``,
        ``departments`` and ``targets`` (``indicator`` and the expected absolute
        ``change`` of a typical project, in the indicator's unit).

    Returns
    -------
    tuple of ProjectType

    Examples
    --------
    >>> types = load_measures("data/renewal/measures.yaml")
    >>> next(t for t in types if t.code == "old_compound_renovation").name_zh
    '老旧小区改造'
    """
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict) or not isinstance(document.get("project_types"), list):
        raise DataError(f"{path}: a mapping with a `project_types` list is required")
    types, seen = [], set()
    for number, entry in enumerate(document["project_types"], start=1):
        where = f"{path}: project type {number} ({entry.get('code', '?') if isinstance(entry, dict) else '?'})"
        if not isinstance(entry, dict):
            raise DataError(f"{where}: must be a mapping")
        unknown = set(entry) - _TYPE_KEYS
        if unknown:
            raise DataError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        missing = [
            k
            for k in ("code", "name_zh", "name_en", "diseases", "cost_low", "cost_high", "targets")
            if k not in entry
        ]
        if missing:
            raise DataError(f"{where}: field {missing[0]!r} is required")
        if entry["code"] in seen:
            raise DataError(f"{where}: field 'code' duplicates an earlier project type")
        seen.add(entry["code"])
        if not 0 <= float(entry["cost_low"]) <= float(entry["cost_high"]):
            raise DataError(f"{where}: field 'cost_low' must be between 0 and cost_high")
        targets = []
        for target in entry["targets"]:
            if not isinstance(target, dict) or "indicator" not in target or "change" not in target:
                raise DataError(
                    f"{where}: field 'targets' needs indicator and change in each entry"
                )
            targets.append((str(target["indicator"]), float(target["change"])))
        types.append(
            ProjectType(
                code=entry["code"],
                name_zh=entry["name_zh"],
                name_en=entry["name_en"],
                diseases=tuple(entry["diseases"]),
                measures=tuple(entry.get("measures") or ()),
                cost_low=float(entry["cost_low"]),
                cost_high=float(entry["cost_high"]),
                months=int(entry.get("months", 12)),
                departments=tuple(entry.get("departments") or ()),
                targets=tuple(targets),
            )
        )
    return tuple(types)


def propose_projects(
    problems: pd.DataFrame,
    *,
    project_types: tuple[ProjectType, ...],
    place_names: pd.Series | Mapping | None = None,
) -> pd.DataFrame:
    """Candidate projects for confirmed problems: one per place and project type.

    Parameters
    ----------
    problems : DataFrame
        A problem list from :func:`citycheck.engine.diagnosis.diagnose` (``place,
        disease, severity, signals`` and ``evidence``; optionally ``problem``, an id,
        and ``status``: only ``confirmed`` rows are used when it is present).
    project_types : tuple of ProjectType
        From :func:`load_measures`.
    place_names : Series or mapping, optional
        For the project names; the place code otherwise.

    Returns
    -------
    DataFrame
        ``place, project_type, name, diseases, problems, severity, signals,
        satisfaction, targets, cost_low, cost_high, budget, months, departments``.
        ``targets`` is a list of ``{indicator, expected_change}``; ``budget`` the
        typical cost (万元); ``problems`` the ids (or row labels) of the problems.

    Examples
    --------
    >>> problems = pd.DataFrame({"place": ["A"], "disease": ["waterlogging"],
    ...     "severity": ["severe"], "signals": [["red_warning"]], "evidence": [[]]})
    >>> kinds = (ProjectType("drainage_works", "排水防涝工程", "Drainage works", ("waterlogging",),
    ...     (), 1000.0, 5000.0, 18, ("water",), (("waterlogging_points", -2.0),)),)
    >>> propose_projects(problems, project_types=kinds, place_names={"A": "南昌县"})[
    ...     ["name", "budget", "diseases"]].values.tolist()
    [['南昌县排水防涝工程', 3000.0, ['waterlogging']]]
    """
    if not isinstance(problems, pd.DataFrame) or not {"place", "disease", "severity"} <= set(
        problems.columns
    ):
        raise ParameterError(
            "problems",
            "a problem list DataFrame with columns place, disease, severity",
            type(problems).__name__,
        )
    if "status" in problems.columns:
        problems = problems[problems["status"] == "confirmed"]
    names = dict(place_names) if place_names is not None else {}
    ids = (
        problems["problem"]
        if "problem" in problems.columns
        else pd.Series(problems.index, index=problems.index)
    )
    columns = [
        "place",
        "project_type",
        "name",
        "diseases",
        "problems",
        "severity",
        "signals",
        "satisfaction",
        "targets",
        "cost_low",
        "cost_high",
        "budget",
        "months",
        "departments",
    ]
    rows = []
    for kind in project_types:
        addressed = problems[problems["disease"].isin(kind.diseases)]
        for place, group in addressed.groupby("place", sort=True):
            severities = [s for s in SEVERITY_SCORES if s in set(group["severity"])]
            signals = sorted(
                {
                    s
                    for items in group.get("signals", pd.Series(dtype=object))
                    for s in (items or [])
                }
            )
            rows.append(
                {
                    "place": place,
                    "project_type": kind.code,
                    "name": f"{names.get(place, place)}{kind.name_zh}",
                    "diseases": list(dict.fromkeys(group["disease"])),
                    "problems": ids.loc[group.index].tolist(),
                    "severity": severities[0] if severities else group["severity"].iloc[0],
                    "signals": signals,
                    "satisfaction": _lowest_satisfaction(group),
                    "targets": [
                        {"indicator": code, "expected_change": change}
                        for code, change in kind.targets
                    ],
                    "cost_low": kind.cost_low,
                    "cost_high": kind.cost_high,
                    "budget": kind.typical_cost,
                    "months": kind.months,
                    "departments": list(kind.departments),
                }
            )
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(rows, columns=columns)


def _lowest_satisfaction(group: pd.DataFrame) -> float:
    scores = [
        item["satisfaction"]
        for items in group.get("evidence", pd.Series(dtype=object))
        for item in (items or [])
        if isinstance(item, dict) and "satisfaction" in item
    ]
    return float(min(scores)) if scores else np.nan


def priority_scores(
    candidates: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    demand: pd.Series | Mapping | None = None,
    cost_reference: float = 5000.0,
) -> pd.DataFrame:
    """Explained priority of candidate (or adopted) projects.

    Parameters
    ----------
    candidates : DataFrame
        Columns ``place, severity, signals, budget`` and optionally ``satisfaction``
        (0–100, lowest in the problems' dimensions) as from :func:`propose_projects`.
    weights : mapping, optional
        ``severity, demand, urgency, cost``; scaled to sum to 1. Default 0.4, 0.25,
        0.2, 0.15.
    demand : Series or mapping, optional
        Residents' demand in [0, 1] per place (e.g. from complaint rates), used where a
        candidate has no satisfaction score.
    cost_reference : float
        Budget (万元) whose cost component is 0.5.

    Returns
    -------
    DataFrame
        A copy of ``candidates`` with ``priority_severity, priority_demand,
        priority_urgency, priority_cost`` (each in [0, 1]), ``priority`` (0–100) and
        ``priority_explanation``, sorted by priority (highest first).

    Examples
    --------
    >>> candidates = pd.DataFrame({"place": ["A", "B"], "severity": ["severe", "mild"],
    ...     "signals": [["bottom_line_failure"], ["red_warning"]], "budget": [5000.0, 1000.0],
    ...     "satisfaction": [40.0, float("nan")]})
    >>> scored = priority_scores(candidates)
    >>> scored[["place", "priority"]].round(1).values.tolist()
    [['A', 82.5], ['B', 49.0]]
    >>> print(scored["priority_explanation"].iloc[1])
    优先级 49.0 分 = 严重程度 0.3×0.4 + 群众需求 0.5×0.25（无满意度数据，按中等计） + 紧迫性 0.6×0.2 + 成本 0.83×0.15（预算 1000 万元）
    """
    if not isinstance(candidates, pd.DataFrame) or not {"place", "severity", "budget"} <= set(
        candidates.columns
    ):
        raise ParameterError(
            "candidates",
            "a DataFrame with columns place, severity, signals, budget",
            type(candidates).__name__,
        )
    given = dict(weights) if weights is not None else dict(_DEFAULT_WEIGHTS)
    unknown = set(given) - set(_DEFAULT_WEIGHTS)
    if (
        unknown
        or any(not isinstance(v, int | float) or v < 0 for v in given.values())
        or sum(given.values()) <= 0
    ):
        raise ParameterError(
            "weights", "non-negative numbers for severity, demand, urgency, cost", weights
        )
    total = sum(given.values())
    w = {k: given.get(k, 0.0) / total for k in _DEFAULT_WEIGHTS}
    if not isinstance(cost_reference, int | float) or cost_reference <= 0:
        raise ParameterError("cost_reference", "a positive budget in 万元", cost_reference)
    demand_by_place = pd.Series(dict(demand) if demand is not None else {}, dtype=float)
    if ((demand_by_place < 0) | (demand_by_place > 1)).any():
        raise ParameterError(
            "demand", "values between 0 and 1 per place", demand_by_place.to_dict()
        )

    result = candidates.copy()
    unknown_severity = set(result["severity"]) - set(SEVERITY_SCORES)
    if unknown_severity:
        raise DataError(
            f"`candidates` severity must be one of {list(SEVERITY_SCORES)}; got {sorted(unknown_severity)[0]!r}"
        )
    budget = result["budget"].astype(float)
    if (budget < 0).any() or budget.isna().any():
        bad = result.index[(budget < 0) | budget.isna()][0]
        raise DataError(
            f"`candidates` budget must be a non-negative number; got {budget[bad]!r} in row {bad!r}"
        )
    satisfaction = (
        result["satisfaction"]
        if "satisfaction" in result.columns
        else pd.Series(np.nan, index=result.index)
    )
    from_survey = 1.0 - satisfaction.astype(float) / 100.0
    from_caller = result["place"].map(demand_by_place)
    demand_source = np.where(
        from_survey.notna(), "survey", np.where(from_caller.notna(), "given", "unknown")
    )
    signals = (
        result["signals"]
        if "signals" in result.columns
        else pd.Series([[]] * len(result), index=result.index)
    )
    components = pd.DataFrame(
        {
            "severity": result["severity"].map(SEVERITY_SCORES),
            "demand": from_survey.fillna(from_caller).fillna(_UNKNOWN_DEMAND).clip(0, 1),
            "urgency": [
                max(
                    [URGENCY_SCORES.get(s, _BASE_URGENCY) for s in (items or [])] or [_BASE_URGENCY]
                )
                for items in signals
            ],
            "cost": cost_reference / (cost_reference + budget),
        },
        index=result.index,
    )
    for name in _DEFAULT_WEIGHTS:
        result[f"priority_{name}"] = components[name]
    result["priority"] = 100.0 * sum(components[k] * w[k] for k in _DEFAULT_WEIGHTS)
    notes = {
        "survey": "（据满意度调查）",
        "given": "（据群众诉求数据）",
        "unknown": "（无满意度数据，按中等计）",
    }
    result["priority_explanation"] = [
        f"优先级 {result.at[i, 'priority']:.1f} 分 = "
        + " + ".join(
            f"{_COMPONENT_NAMES[k]} {components.at[i, k]:.2g}×{w[k]:.2g}"
            + (
                notes[source]
                if k == "demand"
                else f"（预算 {budget[i]:g} 万元）"
                if k == "cost"
                else ""
            )
            for k in _DEFAULT_WEIGHTS
        )
        for i, source in zip(result.index, demand_source, strict=True)
    ]
    return result.sort_values("priority", ascending=False, kind="stable")


def _month(value: Any, *, name: str) -> pd.Period:
    try:
        return pd.Period(value, freq="M")
    except (ValueError, TypeError) as exc:
        raise ParameterError(name, "a month (e.g. '2024-05' or a date)", value) from exc


def _months(series: pd.Series, *, name: str) -> pd.Series:
    try:
        return pd.PeriodIndex(pd.to_datetime(series.astype(str)), freq="M").to_series(
            index=series.index
        )
    except (ValueError, TypeError) as exc:
        raise DataError(f"`{name}` has a value that is not a month: {exc}") from exc


def progress_flags(
    projects: pd.DataFrame,
    reports: pd.DataFrame,
    *,
    as_of: Any,
    late_threshold: float = 15.0,
    stalled_months: int = 3,
) -> pd.DataFrame:
    """Flag late and stalled projects from their monthly progress reports.

    The schedule is linear in months: a project running from month ``s`` to month
    ``e`` should be ``100 * (m - s + 1) / (e - s + 1)`` percent complete at the end of
    month ``m`` (clipped to [0, 100]).

    Parameters
    ----------
    projects : DataFrame
        Columns ``project, start, end`` (months or dates).
    reports : DataFrame
        Columns ``project, month, percent_complete`` and optionally ``investment``
        (cumulative, 万元). Reports after ``as_of`` are ignored.
    as_of : month or date
        The dispatch month.
    late_threshold : float
        Percentage points behind the schedule beyond which a project is late.
    stalled_months : int
        Months without a rise in percent complete after which a started, unfinished
        project is stalled (a project without reports counts from its start).

    Returns
    -------
    DataFrame
        Indexed by project: ``expected_percent, percent_complete, lag,
        investment_to_date, last_report, months_without_progress, late, stalled,
        flag_reason``.

    Examples
    --------
    >>> projects = pd.DataFrame({"project": [1, 2], "start": ["2024-01", "2024-01"],
    ...     "end": ["2024-10", "2024-10"]})
    >>> reports = pd.DataFrame({"project": [1, 1, 2, 2, 2], "month": ["2024-03", "2024-05",
    ...     "2024-02", "2024-03", "2024-05"], "percent_complete": [30, 50, 20, 20, 20]})
    >>> flags = progress_flags(projects, reports, as_of="2024-05")
    >>> flags[["expected_percent", "percent_complete", "late", "stalled"]].values.tolist()
    [[50.0, 50.0, False, False], [50.0, 20.0, True, True]]
    >>> print(flags.loc[2, "flag_reason"])
    进度滞后：计划应完成 50%，实际 20%，落后 30 个百分点；已连续 3 个月无进展
    """
    if not isinstance(projects, pd.DataFrame) or not {"project", "start", "end"} <= set(
        projects.columns
    ):
        raise ParameterError(
            "projects", "a DataFrame with columns project, start, end", type(projects).__name__
        )
    if not isinstance(reports, pd.DataFrame) or not {"project", "month", "percent_complete"} <= set(
        reports.columns
    ):
        raise ParameterError(
            "reports",
            "a DataFrame with columns project, month, percent_complete",
            type(reports).__name__,
        )
    late_threshold = check_fraction("late_threshold", late_threshold, low=0.0, high=100.0)
    if (
        not isinstance(stalled_months, int)
        or isinstance(stalled_months, bool)
        or stalled_months < 1
    ):
        raise ParameterError("stalled_months", "an integer >= 1", stalled_months)
    month = _month(as_of, name="as_of")
    plan = projects.set_index("project")
    start, end = (
        _months(plan["start"], name="projects.start"),
        _months(plan["end"], name="projects.end"),
    )
    backwards = plan.index[(end < start).to_numpy()]
    if len(backwards):
        raise DataError(f"`projects` ends before it starts (project {backwards[0]!r})")
    start_n = start.map(lambda p: p.ordinal).astype(int)
    end_n = end.map(lambda p: p.ordinal).astype(int)
    now = month.ordinal
    expected = (100.0 * (now - start_n + 1) / (end_n - start_n + 1)).clip(0.0, 100.0)

    log = reports.copy()
    log["ordinal"] = (
        _months(log["month"], name="reports.month").map(lambda p: p.ordinal).astype(int)
    )
    percent = pd.to_numeric(log["percent_complete"], errors="coerce")
    bad = log.index[percent.isna() | (percent < 0) | (percent > 100)]
    if len(bad):
        raise DataError(
            f"`reports` percent_complete must be between 0 and 100; got {log.at[bad[0], 'percent_complete']} "
            f"(project {log.at[bad[0], 'project']}, month {log.at[bad[0], 'month']})"
        )
    log["percent_complete"] = percent.astype(float)
    if "investment" not in log.columns:
        log["investment"] = np.nan
    log = log[log["ordinal"] <= now].sort_values(["project", "ordinal"])
    latest = log.groupby("project").last()
    # The month percent complete last rose (the first report counts as a rise above 0).
    rising = log[
        log.groupby("project")["percent_complete"].diff().fillna(log["percent_complete"]) > 0
    ]
    last_rise = rising.groupby("project")["ordinal"].max()

    result = pd.DataFrame(index=plan.index)
    result["expected_percent"] = expected
    result["percent_complete"] = latest["percent_complete"].reindex(plan.index).fillna(0.0)
    result["lag"] = result["expected_percent"] - result["percent_complete"]
    result["investment_to_date"] = latest["investment"].reindex(plan.index)
    result["last_report"] = latest["month"].reindex(plan.index)
    since = last_rise.reindex(plan.index).fillna(start_n - 1).astype(int)
    finished = result["percent_complete"] >= 100
    result["months_without_progress"] = np.where(finished | (now < start_n), 0, now - since)
    result["late"] = ~finished & (result["lag"] > late_threshold)
    result["stalled"] = (
        ~finished & (now >= start_n) & (result["months_without_progress"] >= stalled_months)
    )
    reasons = []
    for _, row in result.iterrows():
        parts = []
        if row["late"]:
            parts.append(
                f"进度滞后：计划应完成 {row['expected_percent']:.0f}%，实际 {row['percent_complete']:.0f}%，"
                f"落后 {row['lag']:.0f} 个百分点"
            )
        if row["stalled"]:
            parts.append(f"已连续 {int(row['months_without_progress'])} 个月无进展")
        reasons.append("；".join(parts))
    result["flag_reason"] = reasons
    return result


_ROLLUP_KEYS = ("city", "project_type", "disease")


def rollup_progress(
    projects: pd.DataFrame,
    flags: pd.DataFrame,
    *,
    by: str = "city",
) -> pd.DataFrame:
    """Progress summed by city, project type or disease.

    Parameters
    ----------
    projects : DataFrame
        Columns ``project, budget`` and the grouping column: ``city``, ``project_type``
        or ``diseases`` (a list per project; a project addressing two diseases counts
        under each).
    flags : DataFrame
        From :func:`progress_flags`, indexed by project.
    by : {"city", "project_type", "disease"}

    Returns
    -------
    DataFrame
        Indexed by the group: ``projects, budget, investment_to_date,
        investment_share, percent_complete`` (budget-weighted), ``late, stalled``.

    Examples
    --------
    >>> projects = pd.DataFrame({"project": [1, 2, 3], "city": ["南昌", "南昌", "九江"],
    ...     "budget": [100.0, 300.0, 50.0]})
    >>> flags = pd.DataFrame({"percent_complete": [100.0, 20.0, 50.0],
    ...     "investment_to_date": [100.0, 60.0, 20.0], "late": [False, True, False],
    ...     "stalled": [False, True, False]}, index=[1, 2, 3])
    >>> rolled = rollup_progress(projects, flags, by="city")
    >>> rolled["percent_complete"].to_dict(), rolled["late"].to_dict()
    ({'九江': 50.0, '南昌': 40.0}, {'九江': 0, '南昌': 1})
    """
    check_choice("by", by, _ROLLUP_KEYS)
    column = "diseases" if by == "disease" else by
    if not isinstance(projects, pd.DataFrame) or not {"project", "budget", column} <= set(
        projects.columns
    ):
        raise ParameterError(
            "projects",
            f"a DataFrame with columns project, budget, {column}",
            type(projects).__name__,
        )
    table = projects[["project", "budget", column]].copy()
    if by == "disease":
        table = table.explode(column).rename(columns={column: by})
    table = table.join(
        flags[["percent_complete", "investment_to_date", "late", "stalled"]],
        on="project",
        how="left",
    )
    table["investment_to_date"] = table["investment_to_date"].fillna(0.0)
    table["weighted"] = table["percent_complete"].fillna(0.0) * table["budget"]
    grouped = table.groupby(by)
    result = pd.DataFrame(
        {
            "projects": grouped["project"].nunique(),
            "budget": grouped["budget"].sum(),
            "investment_to_date": grouped["investment_to_date"].sum(),
            "late": grouped["late"].sum().astype(int),
            "stalled": grouped["stalled"].sum().astype(int),
        }
    )
    result["investment_share"] = result["investment_to_date"] / result["budget"].where(
        result["budget"] > 0
    )
    result["percent_complete"] = grouped["weighted"].sum() / result["budget"].where(
        result["budget"] > 0
    )
    return result[
        [
            "projects",
            "budget",
            "investment_to_date",
            "investment_share",
            "percent_complete",
            "late",
            "stalled",
        ]
    ]
