"""Resident satisfaction survey: raking, trimming, design effect and weighted scores.

The survey's analysis in four steps, each a pure function over arrays or data frames:

1. :func:`rake` adjusts base weights so that the weighted count of respondents in every
   category of every control variable (sex, age band, place ...) equals its population
   total (iterative proportional fitting, Deming and Stephan 1940).
2. :func:`trim` caps weights at ``cap`` times their median and rakes again, repeatedly,
   so that a few respondents of a scarce cell do not dominate the scores.
3. :func:`design_effect` gives Kish's design effect of unequal weighting
   ``deff = n * sum(w**2) / sum(w)**2`` and the effective sample size ``n / deff``.
4. :func:`scores` turns Likert answers into 0–100 scores (linearly: the lowest point is 0,
   the highest 100) and estimates the weighted mean per group (place) and item or
   dimension with its 95 % confidence interval, by Taylor linearisation of the ratio mean
   (each respondent its own primary unit, sampled with replacement) or by a Poisson
   bootstrap; :func:`roll_up` combines places into their parent by population.

To rake many places at once, give a margin whose categories are (place, category) pairs,
e.g. ``place * 10 + sex``, with one control per pair: all places rake in the same
vectorised pass.

Messages are English: the platform catches :class:`~citycheck.engine._validation.EngineError`
and translates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import norm

from ._validation import DataError, EngineError, ParameterError, check_choice, check_random_state

__all__ = [
    "RakingError",
    "design_effect",
    "likert_to_score",
    "rake",
    "roll_up",
    "scores",
    "trim",
]

MIN_EFFECTIVE_N = 30
MAX_INTERVAL_WIDTH = 10.0


class RakingError(EngineError):
    """Raking cannot reach its controls; ``variable`` and ``category`` say where, if known."""

    def __init__(self, message: str, *, variable: Any = None, category: Any = None):
        self.variable, self.category = variable, category
        super().__init__(message)


def _check_weights(weights: Any) -> np.ndarray:
    array = np.asarray(weights, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ParameterError("weights", "a non-empty 1-D array", f"shape {array.shape}")
    if not np.isfinite(array).all() or (array <= 0).any():
        raise ParameterError("weights", "positive finite numbers", "a zero, negative or missing")
    return array.copy()


def _coded_margins(margins: Any, controls: Any, n: int):
    """Each variable as (name, respondent codes, control totals in code order)."""
    if not isinstance(margins, Mapping) or not margins:
        raise ParameterError("margins", "a non-empty dict variable -> categories", margins)
    if not isinstance(controls, Mapping) or set(controls) != set(margins):
        got = sorted(map(str, controls)) if isinstance(controls, Mapping) else controls
        raise ParameterError("controls", f"a dict with the keys of margins {sorted(margins)}", got)
    coded = []
    for variable, categories in margins.items():
        values = np.asarray(categories)
        if values.shape != (n,):
            raise ParameterError(
                f"margins[{variable!r}]", f"an array of {n} categories", values.shape
            )
        totals = controls[variable]
        if not isinstance(totals, Mapping) or not totals:
            raise ParameterError(f"controls[{variable!r}]", "a dict category -> total", totals)
        levels = list(totals)
        target = np.array([totals[c] for c in levels], dtype=float)
        if not np.isfinite(target).all() or (target <= 0).any():
            raise ParameterError(f"controls[{variable!r}]", "positive totals", totals)
        codes = pd.Index(levels).get_indexer(values)
        if (codes < 0).any():
            unknown = values[np.argmax(codes < 0)].item()
            raise RakingError(
                f"respondent category {unknown!r} of {variable!r} has no control total",
                variable=variable,
                category=unknown,
            )
        present = np.bincount(codes, minlength=len(levels))
        if (present == 0).any():
            empty = levels[int(np.argmax(present == 0))]
            empty = empty.item() if isinstance(empty, np.generic) else empty
            raise RakingError(
                f"control category {empty!r} of {variable!r} has no respondent",
                variable=variable,
                category=empty,
            )
        coded.append((variable, codes, target))
    grand = [target.sum() for _, _, target in coded]
    if max(grand) - min(grand) > 1e-9 * max(grand):
        raise RakingError(
            "the control totals of the variables do not add up to the same population: "
            + ", ".join(f"{v!r}: {t:g}" for (v, _, _), t in zip(coded, grand, strict=True))
        )
    return coded


def rake(
    weights: Any,
    margins: Mapping,
    controls: Mapping,
    *,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> np.ndarray:
    """Rake base weights to population totals on several variables (IPF).

    Each iteration multiplies every respondent's weight by
    ``control[c] / sum(weights of respondents in c)`` for the categories ``c`` of each
    variable in turn. It stops when every weighted category total is within ``tol``
    (relative) of its control.

    Parameters
    ----------
    weights : array-like of shape (n,)
        Positive base weights (1 for a simple random sample).
    margins : dict
        Variable name -> array-like of shape (n,): each respondent's category.
    controls : dict
        Variable name -> {category: population total}. Every variable's totals must add
        up to the same population.
    tol : float, default 1e-10
        Largest relative gap ``|weighted total / control - 1|`` accepted.
    max_iter : int, default 1000
        Iterations (passes over all variables) before giving up.

    Returns
    -------
    numpy.ndarray of shape (n,)
        The raked weights; the input is not changed.

    Raises
    ------
    RakingError
        A control category has no respondent, a respondent's category has no control,
        the variables' totals differ, or the weights did not converge in ``max_iter``.

    See Also
    --------
    trim : cap extreme weights and rake again.

    Examples
    --------
    >>> import numpy as np
    >>> sex = np.array(["f", "f", "m", "m", "m"])
    >>> age = np.array(["young", "old", "young", "old", "old"])
    >>> w = rake(np.ones(5), {"sex": sex, "age": age},
    ...          {"sex": {"f": 60, "m": 40}, "age": {"young": 50, "old": 50}})
    >>> round(float(w[sex == "f"].sum()), 6), round(float(w[age == "young"].sum()), 6)
    (60.0, 50.0)
    """
    w = _check_weights(weights)
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 < tol < 1:
        raise ParameterError("tol", "a number between 0 and 1 (exclusive)", tol)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ParameterError("max_iter", "a positive integer", max_iter)
    coded = _coded_margins(margins, controls, w.size)
    gap = np.inf
    for _iteration in range(max_iter):
        for _variable, codes, target in coded:
            totals = np.bincount(codes, weights=w, minlength=target.size)
            w *= (target / totals)[codes]
        gap = max(
            np.abs(np.bincount(codes, weights=w, minlength=target.size) / target - 1).max()
            for _variable, codes, target in coded
        )
        if gap <= tol:
            return w
    raise RakingError(
        f"raking did not converge in {max_iter} iterations (largest relative gap {gap:.3g}, "
        f"tolerance {tol:g}); merge sparse categories or raise max_iter"
    )


def trim(
    weights: Any,
    margins: Mapping,
    controls: Mapping,
    *,
    cap: float = 5.0,
    tol: float = 1e-10,
    max_iter: int = 1000,
    max_rounds: int = 50,
) -> np.ndarray:
    """Cap weights at ``cap`` times their median, then rake again, until both hold.

    Each round caps the weights above ``cap * median(weights)`` and rakes the result to
    the controls; raking can push weights over the cap again, so rounds repeat until the
    largest weight is within 0.1 % of the cap, a round lowers the largest ratio to the
    median by less than 0.1 %, or ``max_rounds`` is reached (the weights of the last
    round are returned: they always meet the controls).
    Where a cell is so scarce in the sample that the cap and the controls cannot both
    hold, the controls win: check ``w.max() / np.median(w)`` afterwards.

    Parameters
    ----------
    weights, margins, controls, tol, max_iter
        As for :func:`rake`; ``weights`` are usually already raked.
    cap : float, default 5.0
        Largest weight allowed, as a ratio to the median weight (> 1).
    max_rounds : int, default 50
        Cap-and-rake rounds at most.

    Returns
    -------
    numpy.ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> base = np.array([1, 1, 1, 1, 20] * 2, dtype=float)
    >>> half = np.repeat(["north", "south"], 5)
    >>> w = trim(base, {"half": half}, {"half": {"north": 50, "south": 50}}, cap=2.0)
    >>> round(float(w.max() / np.median(w)), 6), float(w[half == "north"].sum())
    (2.0, 50.0)
    """
    w = _check_weights(weights)
    if isinstance(cap, bool) or not isinstance(cap, int | float) or not cap > 1:
        raise ParameterError("cap", "a number greater than 1", cap)
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise ParameterError("max_rounds", "a positive integer", max_rounds)
    w = rake(w, margins, controls, tol=tol, max_iter=max_iter)
    previous = np.inf
    for _round in range(max_rounds):
        limit = cap * np.median(w)
        ratio = w.max() / np.median(w)
        if ratio <= cap * 1.001 or ratio > previous * 0.999:
            break
        previous = ratio
        w = rake(np.minimum(w, limit), margins, controls, tol=tol, max_iter=max_iter)
    return w


def design_effect(weights: Any, groups: Any = None) -> pd.DataFrame:
    """Kish's design effect of unequal weights and the effective sample size.

    ``deff = n * sum(w**2) / sum(w)**2`` and ``effective_n = sum(w)**2 / sum(w**2)``,
    for all respondents or per group.

    Parameters
    ----------
    weights : array-like of shape (n,)
    groups : array-like of shape (n,), optional
        Each respondent's group (place); one row per group, sorted.

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``weight_sum``, ``deff``, ``effective_n``; indexed by group (or a
        single row ``"all"``).

    Examples
    --------
    >>> design_effect([1, 1, 2, 2]).round(3).to_dict("records")
    [{'n': 4, 'weight_sum': 6.0, 'deff': 1.111, 'effective_n': 3.6}]
    """
    w = _check_weights(weights)
    keys = np.full(w.size, "all", dtype=object) if groups is None else np.asarray(groups)
    if keys.shape != w.shape:
        raise ParameterError("groups", f"an array of {w.size} labels", keys.shape)
    frame = pd.DataFrame({"group": keys, "w": w, "w2": w * w})
    summed = frame.groupby("group", sort=True).agg(
        n=("w", "size"), weight_sum=("w", "sum"), w2=("w2", "sum")
    )
    summed["effective_n"] = summed["weight_sum"] ** 2 / summed["w2"]
    summed["deff"] = summed["n"] / summed["effective_n"]
    result = summed[["n", "weight_sum", "deff", "effective_n"]]
    result.index.name = None if groups is None else "group"
    return result.reset_index(drop=groups is None)


def likert_to_score(answers: Any, points: int = 5) -> np.ndarray:
    """Map Likert answers 1..``points`` linearly to 0..100 (missing stays missing).

    Examples
    --------
    >>> likert_to_score([1, 3, 5, float("nan")]).tolist()
    [0.0, 50.0, 100.0, nan]
    """
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ParameterError("points", "an integer of at least 2", points)
    array = np.asarray(answers, dtype=float)
    bad = ~np.isnan(array) & ((array < 1) | (array > points) | (array != np.round(array)))
    if bad.any():
        raise DataError(f"a Likert answer must be a whole number from 1 to {points}")
    return (array - 1.0) / (points - 1) * 100.0


def _group_matrix(groups: np.ndarray, w: np.ndarray):
    """Group labels and the stacked sparse sums (ones, w, w**2) x group x respondent."""
    labels, codes = np.unique(groups, return_inverse=True)
    n, g = codes.size, labels.size
    rows = np.concatenate([codes, codes + g, codes + 2 * g])
    columns = np.tile(np.arange(n), 3)
    data = np.concatenate([np.ones(n), w, w * w])
    return labels, sparse.csr_matrix((data, (rows, columns)), shape=(3 * g, n))


def _ratio_means(sums_matrix, y):
    """Weighted means and Taylor standard errors per group x column of ``y`` (a block).

    One sparse product of (1, w, w**2) per group with (answered, y, y**2) gives every
    group sum the estimator needs; the linearised variance ``sum(w_i**2 (y_i -
    mean)**2)`` is expanded around the scale's midpoint 50 (values then lie in [-50, 50],
    so the expansion loses no meaningful precision).
    """
    k = y.shape[1]
    g = sums_matrix.shape[0] // 3
    stacked = np.empty((y.shape[0], 3 * k))  # C order, as the sparse product wants it
    answered, centred, squared = stacked[:, :k], stacked[:, k : 2 * k], stacked[:, 2 * k :]
    np.isnan(y, out=answered)
    np.subtract(y, 50.0, out=centred)
    np.copyto(centred, 0.0, where=answered == 1.0)
    np.subtract(1.0, answered, out=answered)
    np.multiply(centred, centred, out=squared)
    sums = np.asarray(sums_matrix @ stacked)
    counts, s_w2 = sums[:g, :k], sums[2 * g :, :k]
    denominator, numerator = sums[g : 2 * g, :k], sums[g : 2 * g, k : 2 * k]
    s_w2y, s_w2y2 = sums[2 * g :, k : 2 * k], sums[2 * g :, 2 * k :]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = numerator / denominator
        # Linearised values z_i = w_i (y_i - mean_g) / W_g; var = n/(n-1) sum z_i^2.
        z2 = (s_w2y2 - 2 * mean * s_w2y + mean * mean * s_w2) / denominator**2
        variance = np.where(counts > 1, counts / (counts - 1) * np.maximum(z2, 0.0), np.nan)
        effective_n = denominator**2 / s_w2
    return mean + 50.0, np.sqrt(variance), counts, denominator, effective_n


def _bootstrap_se(indicator, y, w, seeds):
    """Poisson bootstrap: replicate b multiplies every weight by Poisson(1) draws seeded
    by ``seeds[b]``, so every block of columns sees the same replicate weights."""
    answered = ~np.isnan(y)
    y0 = np.where(answered, y, 0.0)
    draws = []
    for seed in seeds:
        wr = w * np.random.default_rng(seed).poisson(1.0, size=w.size)
        wm = answered * wr[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            draws.append(np.asarray(indicator @ (wm * y0)) / np.asarray(indicator @ wm))
    stacked = np.stack(draws)
    return np.nanstd(stacked, axis=0, ddof=1), np.nanquantile(stacked, [0.025, 0.975], axis=0)


def scores(
    values: pd.DataFrame,
    weights: Any,
    groups: Any,
    *,
    confidence: float = 0.95,
    method: str = "taylor",
    replicates: int = 200,
    random_state: Any = None,
    block: int = 8,
) -> pd.DataFrame:
    """Weighted mean score per group and column with its confidence interval.

    For each group ``g`` (place) and column ``j`` (item or dimension, already on 0–100,
    see :func:`likert_to_score`), over the respondents who answered:
    ``score = sum(w_i y_i) / sum(w_i)``. Its variance by Taylor linearisation of the ratio
    (each respondent a primary unit drawn with replacement, no strata or finite
    population correction) is ``n / (n - 1) * sum(z_i**2)`` with
    ``z_i = w_i (y_i - score) / sum(w)``; the interval is ``score ± z * se``, clipped to
    [0, 100]. With ``method="bootstrap"`` the standard error and the percentile interval
    come from ``replicates`` Poisson bootstrap replicate weights ``w_i * Poisson(1)``.

    Parameters
    ----------
    values : pandas.DataFrame of shape (n, k)
        Scores 0–100 per respondent (row) and column; NaN where not answered.
    weights : array-like of shape (n,)
        Final (raked, trimmed) weights.
    groups : array-like of shape (n,)
        Each respondent's group (place code).
    confidence : float, default 0.95
    method : {"taylor", "bootstrap"}, default "taylor"
    replicates : int, default 200
        Bootstrap replicates.
    random_state : int or numpy.random.Generator, optional
        Seeds the bootstrap.
    block : int, default 8
        Columns processed at a time (bounds memory for large samples).

    Returns
    -------
    pandas.DataFrame
        One row per group and column: ``group``, ``item``, ``n`` (answers),
        ``weight_sum``, ``score``, ``se``, ``low``, ``high``, ``effective_n`` (Kish, of
        the answering respondents), ``few_responses`` (effective n under 30) and
        ``wide_interval`` (interval wider than 10 points).

    Examples
    --------
    >>> import pandas as pd
    >>> values = pd.DataFrame({"parks": [100.0, 50.0, 75.0, 25.0]})
    >>> result = scores(values, [1, 1, 2, 2], ["a", "a", "b", "b"])
    >>> result[["group", "item", "n", "score"]].to_dict("records")
    [{'group': 'a', 'item': 'parks', 'n': 2, 'score': 75.0}, {'group': 'b', 'item': 'parks', 'n': 2, 'score': 50.0}]
    >>> bool(result["few_responses"].all())
    True
    """
    if not isinstance(values, pd.DataFrame):
        raise ParameterError("values", "a DataFrame (respondents x items)", type(values).__name__)
    w = _check_weights(weights)
    if len(values) != w.size:
        raise ParameterError("weights", f"an array of {len(values)} weights", w.size)
    keys = np.asarray(groups)
    if keys.shape != w.shape:
        raise ParameterError("groups", f"an array of {w.size} labels", keys.shape)
    if isinstance(confidence, bool) or not isinstance(confidence, float) or not 0 < confidence < 1:
        raise ParameterError("confidence", "a number between 0 and 1 (exclusive)", confidence)
    check_choice("method", method, ["taylor", "bootstrap"])
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 10:
        raise ParameterError("replicates", "an integer of at least 10", replicates)
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ParameterError("block", "a positive integer", block)
    array = values.to_numpy(dtype=float)
    if (
        array.size
        and not np.isnan(array).all()
        and (np.nanmin(array) < 0 or np.nanmax(array) > 100)
    ):
        raise DataError("`values` must be scores from 0 to 100; use likert_to_score first")
    rng = check_random_state(random_state) if method == "bootstrap" else None
    labels, sums_matrix = _group_matrix(keys, w)
    indicator = sums_matrix[: len(labels)]
    if method == "bootstrap":
        seeds = rng.integers(2**63, size=replicates)
    z = norm.ppf(0.5 + confidence / 2)
    parts = []
    for start in range(0, array.shape[1], block):
        y = array[:, start : start + block]
        mean, se, counts, weight_sum, effective_n = _ratio_means(sums_matrix, y)
        if method == "taylor":
            low, high = mean - z * se, mean + z * se
        else:
            se, (low, high) = _bootstrap_se(indicator, y, w, seeds)
        for name, block_values in (
            ("n", counts),
            ("weight_sum", weight_sum),
            ("score", mean),
            ("se", se),
            ("low", np.clip(low, 0, 100)),
            ("high", np.clip(high, 0, 100)),
            ("effective_n", effective_n),
        ):
            parts.append((start, name, block_values))
    columns = {}
    for name in ("n", "weight_sum", "score", "se", "low", "high", "effective_n"):
        columns[name] = np.concatenate([v for _, n, v in parts if n == name], axis=1).ravel()
    result = pd.DataFrame(
        {
            "group": np.repeat(labels, array.shape[1]),
            "item": np.tile(np.asarray(values.columns, dtype=object), labels.size),
            **columns,
        }
    )
    result["n"] = result["n"].round().astype(int)
    result = result[result["n"] > 0].reset_index(drop=True)
    result["few_responses"] = result["effective_n"] < MIN_EFFECTIVE_N
    result["wide_interval"] = ~((result["high"] - result["low"]) <= MAX_INTERVAL_WIDTH)
    return result


def roll_up(result: pd.DataFrame, parent: Mapping, population: Mapping) -> pd.DataFrame:
    """Combine group scores into their parents, weighted by population.

    A parent's score is ``sum(P_k * score_k) / sum(P_k)`` over its children ``k`` with a
    score for the item, and its standard error ``sqrt(sum((P_k / P)**2 * se_k**2))``
    (children sampled independently). Effective n and n add up.

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`scores` (``group``, ``item``, ``n``, ``score``, ``se``,
        ``effective_n``).
    parent : dict
        Group -> its parent; groups without a parent are left out.
    population : dict
        Group -> resident population.

    Returns
    -------
    pandas.DataFrame
        The same columns as :func:`scores`, one row per parent and item.

    Examples
    --------
    >>> import pandas as pd
    >>> counties = pd.DataFrame({"group": ["a", "b"], "item": ["x", "x"], "n": [40, 40],
    ...     "weight_sum": [1.0, 3.0], "score": [60.0, 80.0], "se": [3.0, 4.0],
    ...     "effective_n": [35.0, 38.0]})
    >>> city = roll_up(counties, {"a": "c", "b": "c"}, {"a": 100, "b": 300})
    >>> float(city["score"].iloc[0]), round(float(city["se"].iloc[0]), 4)
    (75.0, 3.0923)
    """
    missing = [c for c in ("group", "item", "n", "score", "se", "effective_n") if c not in result]
    if missing:
        raise ParameterError("result", "the output of scores()", f"no column {missing[0]!r}")
    frame = result[result["group"].isin(list(parent))].copy()
    if frame.empty:
        return result.iloc[0:0].copy()
    frame["parent"] = frame["group"].map(parent)
    frame["population"] = frame["group"].map(population)
    if frame["population"].isna().any() or (frame["population"] <= 0).any():
        group = frame.loc[frame["population"].isna() | (frame["population"] <= 0), "group"].iloc[0]
        raise DataError("a group has no positive population", place=group)
    keys = pd.MultiIndex.from_arrays([frame["parent"], frame["item"]])
    codes, uniques = pd.factorize(keys, sort=True)
    population = frame["population"].to_numpy(dtype=float)
    se = np.nan_to_num(frame["se"].to_numpy(dtype=float))

    def total(values):
        return np.bincount(codes, weights=values, minlength=len(uniques))

    weight_sum = total(population)
    out = pd.DataFrame(
        {
            "group": uniques.get_level_values(0),
            "item": uniques.get_level_values(1),
            "n": total(frame["n"].to_numpy(dtype=float)).round().astype(int),
            "weight_sum": weight_sum,
            "score": total(population * frame["score"].to_numpy(dtype=float)) / weight_sum,
            "se": np.sqrt(total(population**2 * se**2)) / weight_sum,
        }
    )
    effective_n = total(frame["effective_n"].to_numpy(dtype=float))
    z = norm.ppf(0.975)
    out["low"] = (out["score"] - z * out["se"]).clip(0, 100)
    out["high"] = (out["score"] + z * out["se"]).clip(0, 100)
    out["effective_n"] = effective_n
    out["few_responses"] = out["effective_n"] < MIN_EFFECTIVE_N
    out["wide_interval"] = ~((out["high"] - out["low"]) <= MAX_INTERVAL_WIDTH)
    return out
