"""Re-check (复查): what became of each earlier problem at the next round.

:func:`recheck` classifies every problem of an earlier problem list against the new
round's problem list and evidence:

* **resolved** (已解决): the disease is no longer raised for the place;
* **worse** (加重): it is raised with more points than before;
* **improving** (好转): fewer points, or the same points while the indicators that
  raised it moved the right way by at least ``tolerance`` (mean direction-aware
  relative change);
* **unchanged** (未改善): otherwise.

:func:`link_history` links each problem of a round to the same place's same disease
in earlier rounds, and marks the problems that came back after being resolved.
"""

from __future__ import annotations

import pandas as pd

from ._validation import ParameterError, check_fraction
from .diagnosis import format_number

__all__ = ["RECHECK_STATUSES", "link_history", "recheck"]

#: Re-check statuses and their Chinese names.
RECHECK_STATUSES: dict[str, str] = {
    "resolved": "已解决",
    "improving": "好转",
    "unchanged": "未改善",
    "worse": "加重",
}
_DIRECTIONS = {"higher": 1.0, "lower": -1.0, "range": 0.0}
_PROBLEM_COLUMNS = {"place", "disease", "year", "points", "severity", "evidence"}


def _check_problems(frame, name: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not set(frame.columns) >= _PROBLEM_COLUMNS:
        raise ParameterError(
            name,
            "a problem list DataFrame (columns " + ", ".join(sorted(_PROBLEM_COLUMNS)) + ")",
            type(frame).__name__,
        )
    return frame


def recheck(
    earlier: pd.DataFrame,
    current: pd.DataFrame,
    *,
    current_evidence: pd.DataFrame,
    indicators: pd.DataFrame,
    tolerance: float = 0.02,
    place_names=None,
) -> pd.DataFrame:
    """Classify each earlier problem as resolved, improving, unchanged or worse.

    Parameters
    ----------
    earlier, current : DataFrame
        Problem lists of the earlier and the new round, as from
        :func:`citycheck.engine.diagnosis.diagnose` (an optional ``problem`` column holds
        ids, which are carried over).
    current_evidence : DataFrame
        :func:`citycheck.engine.diagnosis.indicator_evidence` of the new round: the new
        values and colours of the indicators, also where no problem is raised any more.
    indicators : DataFrame
        Columns ``code, direction`` and optionally ``name_zh, unit, decimals``.
    tolerance : float
        Mean direction-aware relative change that counts as movement when the points
        are the same.
    place_names : mapping, optional
        For the explanations.

    Returns
    -------
    DataFrame
        One row per earlier problem: ``place, disease, disease_name, earlier_year, year,
        status, status_name, severity_before, severity_after, points_before,
        points_after, mean_change, evidence, explanation, problem, current_problem``.
        ``evidence`` lists ``{indicator, before, after, change, relative_change,
        colour_before, colour_after}`` per indicator that raised the earlier problem.

    Examples
    --------
    >>> earlier = pd.DataFrame({"place": ["A"], "disease": ["lack_of_green_space"],
    ...     "disease_name": ["绿地不足"], "year": [2023], "points": [3], "severity": ["moderate"],
    ...     "evidence": [[{"indicator": "park", "value": 11.0, "colour": "red",
    ...                    "signals": ["red_warning", "deterioration"]}]]})
    >>> current = earlier.iloc[:0]
    >>> evidence = pd.DataFrame({"place": ["A"], "indicator": ["park"], "value": [12.5],
    ...     "colour": ["green"]})
    >>> indicators = pd.DataFrame({"code": ["park"], "direction": ["higher"],
    ...     "name_zh": ["人均公园绿地面积"], "unit": ["平方米/人"]})
    >>> result = recheck(earlier, current, current_evidence=evidence, indicators=indicators,
    ...     place_names={"A": "南昌县"})
    >>> result["status"].tolist()
    ['resolved']
    >>> print(result.loc[0, "explanation"])
    南昌县绿地不足问题已解决：人均公园绿地面积由11升至12.5平方米/人（改善13.6%，已达标）。
    """
    _check_problems(earlier, "earlier")
    _check_problems(current, "current")
    if not isinstance(current_evidence, pd.DataFrame) or not {"place", "indicator", "value"} <= set(
        current_evidence.columns
    ):
        raise ParameterError(
            "current_evidence",
            "a DataFrame from indicator_evidence (place, indicator, value, colour)",
            type(current_evidence).__name__,
        )
    if not isinstance(indicators, pd.DataFrame) or not {"code", "direction"} <= set(
        indicators.columns
    ):
        raise ParameterError(
            "indicators", "a DataFrame with columns code, direction", type(indicators).__name__
        )
    tolerance = check_fraction("tolerance", tolerance)
    meta = indicators.drop_duplicates("code").set_index("code")
    names = dict(place_names) if place_names is not None else {}
    after = current_evidence.set_index(["place", "indicator"])
    now = current.set_index(["place", "disease"])
    year = (
        int(current_evidence["year"].iloc[0])
        if "year" in current_evidence.columns and len(current_evidence)
        else None
    )
    rows = []
    for _, problem in earlier.iterrows():
        key = (problem["place"], problem["disease"])
        items = [
            _change(item, key[0], after, meta) for item in problem["evidence"] if _flagged(item)
        ]
        items = [item for item in items if item is not None]
        changes = [i["relative_change"] for i in items if i["relative_change"] is not None]
        mean_change = sum(changes) / len(changes) if changes else None
        still = now.loc[[key]].iloc[0] if key in now.index else None
        if still is None:
            status = "resolved"
        elif still["points"] > problem["points"]:
            status = "worse"
        elif still["points"] < problem["points"] or (
            mean_change is not None and mean_change >= tolerance
        ):
            status = "improving"
        elif mean_change is not None and mean_change <= -tolerance:
            status = "worse"
        else:
            status = "unchanged"
        disease_name = problem.get("disease_name", problem["disease"])
        place_name = names.get(key[0], str(key[0]))
        rows.append(
            {
                "place": key[0],
                "disease": key[1],
                "disease_name": disease_name,
                "earlier_year": int(problem["year"]),
                "year": int(still["year"]) if still is not None else year,
                "status": status,
                "status_name": RECHECK_STATUSES[status],
                "severity_before": problem["severity"],
                "severity_after": still["severity"] if still is not None else None,
                "points_before": int(problem["points"]),
                "points_after": int(still["points"]) if still is not None else 0,
                "mean_change": mean_change,
                "evidence": items,
                "explanation": f"{place_name}{disease_name}问题{RECHECK_STATUSES[status]}："
                + "；".join(i["sentence"] for i in items)
                + "。",
                "problem": problem.get("problem"),
                "current_problem": still.get("problem") if still is not None else None,
            }
        )
    columns = [
        "place",
        "disease",
        "disease_name",
        "earlier_year",
        "year",
        "status",
        "status_name",
        "severity_before",
        "severity_after",
        "points_before",
        "points_after",
        "mean_change",
        "evidence",
        "explanation",
        "problem",
        "current_problem",
    ]
    return pd.DataFrame(rows, columns=columns)


def _flagged(item) -> bool:
    """Evidence items of indicators that raised the problem (not survey items)."""
    return isinstance(item, dict) and "indicator" in item and bool(item.get("signals"))


def _change(item: dict, place, after: pd.DataFrame, meta: pd.DataFrame) -> dict | None:
    code = item["indicator"]
    if code not in meta.index:
        return None
    before = float(item["value"])
    new = after.loc[(place, code)] if (place, code) in after.index else None
    value = float(new["value"]) if new is not None else None
    sign = _DIRECTIONS.get(meta.at[code, "direction"], 0.0)
    relative = None
    if value is not None and before != 0 and sign != 0:
        relative = (value - before) / abs(before) * sign
    colour_after = new.get("colour") if new is not None else None
    colour_after = colour_after if isinstance(colour_after, str) else None
    decimals = (
        int(meta.at[code, "decimals"])
        if "decimals" in meta.columns and pd.notna(meta.at[code, "decimals"])
        else 2
    )
    name = meta.at[code, "name_zh"] if "name_zh" in meta.columns else code
    unit = (
        meta.at[code, "unit"]
        if "unit" in meta.columns and isinstance(meta.at[code, "unit"], str)
        else ""
    )
    if value is None:
        sentence = f"{name}本轮无数据"
    else:
        verb = "升至" if value > before else "降至" if value < before else "保持"
        sentence = (
            f"{name}由{format_number(before, decimals)}{verb}{format_number(value, decimals)}{unit}"
        )
        notes = []
        if relative is not None and relative != 0:
            notes.append(
                f"{'改善' if relative > 0 else '变差'}{format_number(abs(relative) * 100, 1)}%"
            )
        if colour_after == "green":
            notes.append("已达标")
        if notes:
            sentence += f"（{'，'.join(notes)}）"
    return {
        "indicator": code,
        "before": before,
        "after": value,
        "change": value - before if value is not None else None,
        "relative_change": relative,
        "colour_before": item.get("colour"),
        "colour_after": colour_after,
        "sentence": sentence,
    }


def link_history(
    current: pd.DataFrame,
    history: pd.DataFrame,
    *,
    rounds=None,
) -> pd.DataFrame:
    """Link each problem to the same place's same disease in earlier rounds.

    Parameters
    ----------
    current : DataFrame
        The round's problem list (``place, disease, year``; optional ``problem`` ids).
    history : DataFrame
        Earlier problem lists stacked (``place, disease, year``; optional ``problem``).
    rounds : iterable of int, optional
        Every round that was diagnosed; the years in ``history`` and ``current`` by
        default. A problem missing from a round in between was resolved then.

    Returns
    -------
    DataFrame
        A copy of ``current`` with ``first_year``, ``previous_years`` (list),
        ``previous_problems`` (list of ids, when ``history`` has them), ``recurring``
        (seen in an earlier round) and ``returned`` (came back after being resolved).

    Examples
    --------
    >>> history = pd.DataFrame({"place": ["A", "A", "B"], "disease": ["waterlogging"] * 3,
    ...     "year": [2021, 2022, 2023]})
    >>> current = pd.DataFrame({"place": ["A", "B", "C"], "disease": ["waterlogging"] * 3,
    ...     "year": [2024] * 3})
    >>> linked = link_history(current, history, rounds=[2021, 2022, 2023, 2024])
    >>> linked[["place", "first_year", "recurring", "returned"]].values.tolist()
    [['A', 2021, True, True], ['B', 2023, True, False], ['C', 2024, False, False]]
    """
    for name, frame in (("current", current), ("history", history)):
        if not isinstance(frame, pd.DataFrame) or not {"place", "disease", "year"} <= set(
            frame.columns
        ):
            raise ParameterError(
                name, "a problem list DataFrame (place, disease, year)", type(frame).__name__
            )
    all_rounds = sorted(
        set(rounds) if rounds is not None else set(history["year"]) | set(current["year"])
    )
    earlier = history.groupby(["place", "disease"])
    years_of = earlier["year"].apply(lambda years: sorted(int(y) for y in set(years)))
    ids_of = earlier["problem"].apply(list) if "problem" in history.columns else None
    result = current.copy()
    first, previous, previous_ids, recurring, returned = [], [], [], [], []
    for _, row in result.iterrows():
        key = (row["place"], row["disease"])
        years = [y for y in years_of.get(key, []) if y < row["year"]]
        previous.append(years)
        previous_ids.append(list(ids_of.get(key, [])) if ids_of is not None else [])
        first.append(years[0] if years else int(row["year"]))
        recurring.append(bool(years))
        # Resolved in between: a diagnosed round after the first sighting without the problem.
        gap_rounds = [
            y for y in all_rounds if years and years[0] < y < row["year"] and y not in years
        ]
        returned.append(bool(gap_rounds))
    result["first_year"] = first
    result["previous_years"] = previous
    result["previous_problems"] = previous_ids
    result["recurring"] = recurring
    result["returned"] = returned
    return result
