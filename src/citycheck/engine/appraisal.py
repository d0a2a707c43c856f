"""Supervision arithmetic: progress against a local plan's targets and the annual
assessment's scores (每年度考核), over data frames; framework-free.

Two pure functions:

* :func:`target_status` — whether each quantified target of a local plan is met, on track,
  at risk or off track, by one documented rule over the trend of the observed values;
* :func:`score_appraisal` — points per place and criterion from measured shares, totals,
  ranks and the commendation and summons lists of an assessment scheme.

Rule of :func:`target_status` (per place, indicator and target):

1. ``met`` — the latest observed value already satisfies the target (``>=`` for a floor,
   ``<=`` for a ceiling);
2. otherwise the least-squares line through the observed (year, value) points (two or
   more years; with one year the projection is the latest value) is extended to the
   target year: ``on_track`` when the projection satisfies the target;
3. ``at_risk`` when the projection covers at least ``risk_share`` (default half) of the
   change still needed from the latest value to the target;
4. ``off_track`` otherwise, a trend going the wrong way included;
5. ``no_data`` when nothing was observed up to the year assessed.

Scores of :func:`score_appraisal`: each computed criterion's measure is a share in [0, 1]
(clipped), worth ``measure × weight`` points; a hand-scored criterion's points are given
(0 … weight); bonus items add and penalty items subtract their points, each within its
cap. The total is rounded to 0.01; ranks are dense on the rounded total (ties share a rank,
then by code for the order). Places at or above ``commend_at`` points (and within the
``commend_top`` best) are commended; places below ``summon_below`` points are proposed
for summons (约谈).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["STATUSES", "score_appraisal", "target_status"]

STATUSES = ("met", "on_track", "at_risk", "off_track", "no_data")


def _satisfies(value, target, comparison):
    return np.where(comparison == "<=", value <= target, value >= target)


def target_status(
    observations: pd.DataFrame, targets: pd.DataFrame, *, risk_share: float = 0.5
) -> pd.DataFrame:
    """Status of every target against its trend.

    Parameters
    ----------
    observations : DataFrame
        Columns ``place``, ``indicator``, ``year``, ``value`` (one row per observed year;
        missing values dropped).
    targets : DataFrame
        Columns ``place``, ``indicator``, ``year`` (the target year), ``target`` and
        ``comparison`` (``">="`` or ``"<="``); optional ``as_of`` (the last year of
        observations to use, default every observation).
    risk_share : float
        Share of the remaining change the projection must cover to be ``at_risk`` rather
        than ``off_track``.

    Returns
    -------
    DataFrame
        ``targets``' rows and columns plus ``latest_year``, ``latest``, ``slope`` (per
        year), ``projection`` (at the target year) and ``status`` (one of
        :data:`STATUSES`). Inputs are not changed.
    """
    if not 0 < risk_share <= 1:
        raise ValueError(f"`risk_share` must be in (0, 1]; got {risk_share!r}.")
    bad = set(targets["comparison"]) - {">=", "<="}
    if bad:
        raise ValueError(f"`comparison` must be '>=' or '<='; got {sorted(bad)!r}.")
    out = targets.copy()
    keys = pd.DataFrame(
        {
            "row": np.arange(len(out)),
            "place": out["place"].to_numpy(),
            "indicator": out["indicator"].to_numpy(),
        }
    )
    keys["as_of"] = out["as_of"].to_numpy(dtype=float) if "as_of" in out else np.inf
    obs = observations.dropna(subset=["value"])[["place", "indicator", "year", "value"]]
    pairs = keys.merge(obs, on=["place", "indicator"], how="inner")
    pairs = pairs[pairs["year"] <= pairs["as_of"].fillna(np.inf)]
    # least squares per target in closed form, on years centred for precision
    x = pairs["year"].to_numpy(dtype=float)
    centre = x.mean() if len(x) else 0.0
    pairs = pairs.assign(x=x - centre, y=pairs["value"].astype(float))
    pairs = pairs.assign(xx=pairs["x"] ** 2, xy=pairs["x"] * pairs["y"])
    grouped = pairs.groupby("row")
    sums = grouped[["x", "y", "xx", "xy"]].sum()
    n = grouped.size()
    last = pairs.sort_values(["row", "year"], kind="stable").groupby("row").tail(1).set_index("row")
    denominator = n * sums["xx"] - sums["x"] ** 2
    trend = denominator > 1e-9 * np.maximum(1.0, n * sums["xx"])  # two distinct years or more
    slope = ((n * sums["xy"] - sums["x"] * sums["y"]) / denominator.where(trend)).fillna(0.0)
    intercept = (sums["y"] - slope * sums["x"]) / n
    index = np.arange(len(out))
    latest_year = last["year"].reindex(index).to_numpy(dtype=float)
    latest = last["y"].reindex(index).to_numpy(dtype=float)
    slope = slope.reindex(index).to_numpy(dtype=float)
    fitted = intercept.reindex(index).to_numpy(dtype=float) + slope * (
        out["year"].to_numpy(dtype=float) - centre
    )
    has_trend = trend.reindex(index, fill_value=False).to_numpy(dtype=bool)
    out["latest_year"] = latest_year
    out["latest"] = latest
    out["slope"] = np.where(np.isnan(latest), np.nan, slope)
    out["projection"] = np.where(has_trend, fitted, latest)
    target = out["target"].to_numpy(dtype=float)
    comparison = out["comparison"].to_numpy()
    latest = out["latest"].to_numpy(dtype=float)
    projection = out["projection"].to_numpy(dtype=float)
    needed = target - latest
    with np.errstate(invalid="ignore", divide="ignore"):
        covered = np.where(needed != 0, (projection - latest) / needed, 1.0)
    status = np.select(
        [
            np.isnan(latest),
            _satisfies(latest, target, comparison),
            _satisfies(projection, target, comparison),
            covered >= risk_share,
        ],
        ["no_data", "met", "on_track", "at_risk"],
        default="off_track",
    )
    out["status"] = status
    return out


def score_appraisal(
    measures: pd.DataFrame,
    criteria: pd.DataFrame,
    *,
    commend_at: float = 85.0,
    commend_top: int | None = None,
    summon_below: float = 60.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Points per place and criterion, and per place the total, rank and outcome.

    Parameters
    ----------
    measures : DataFrame
        Columns ``place``, ``criterion`` and either ``measure`` (a share in [0, 1], for
        ``computed`` criteria) or ``points`` (for ``manual``, ``bonus`` and ``penalty``
        items); a computed criterion with no measure scores 0.
    criteria : DataFrame
        Columns ``criterion``, ``kind`` (``computed``, ``manual``, ``bonus``,
        ``penalty``) and ``weight`` (the most points the item gives or takes).
    commend_at, commend_top, summon_below : float, int, float
        The outcome thresholds (see the module docstring).

    Returns
    -------
    (points, totals) : tuple of DataFrame
        ``points``: one row per place and criterion with ``points`` (signed: penalties
        negative). ``totals``: indexed by place, ``total``, ``rank``, ``outcome``
        (``commend``, ``summon`` or ``""``).
    """
    kinds = set(criteria["kind"]) - {"computed", "manual", "bonus", "penalty"}
    if kinds:
        raise ValueError(f"`kind` must be computed, manual, bonus or penalty; got {kinds!r}.")
    places = sorted(set(measures["place"]))
    grid = pd.MultiIndex.from_product(
        [places, list(criteria["criterion"])], names=["place", "criterion"]
    ).to_frame(index=False)
    frame = grid.merge(criteria, on="criterion", how="left").merge(
        measures.drop(columns=[c for c in ("kind", "weight") if c in measures]),
        on=["place", "criterion"],
        how="left",
    )
    if "measure" not in frame:
        frame["measure"] = np.nan
    if "points" not in frame:
        frame["points"] = np.nan
    weight = frame["weight"].astype(float)
    computed = frame["kind"] == "computed"
    measure = frame["measure"].astype(float).clip(0, 1).fillna(0.0)
    given = frame["points"].astype(float).fillna(0.0).clip(lower=0)
    given = np.minimum(given, weight)
    points = np.where(computed, measure * weight, given)
    points = np.where(frame["kind"] == "penalty", -points, points)
    frame["points"] = np.round(points, 4)
    totals = frame.groupby("place")["points"].sum().round(2).to_frame("total")
    totals["rank"] = totals["total"].rank(method="dense", ascending=False).astype(int)
    totals = totals.sort_values(["rank"], kind="stable")
    commend = totals["total"] >= commend_at
    if commend_top is not None:
        commend &= np.arange(len(totals)) < commend_top
    totals["outcome"] = np.select(
        [commend, totals["total"] < summon_below], ["commend", "summon"], default=""
    )
    return frame[["place", "criterion", "kind", "weight", "measure", "points"]], totals
