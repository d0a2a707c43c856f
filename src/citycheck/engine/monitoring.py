"""Monitoring between rounds: warning rules over a long frame of observations, and trend
forecasts with intervals.

Observations are a *long* frame, one row per observation, with columns

``place``
    the place's code (or any hashable label);
``indicator``
    the monitoring indicator's code;
``period``
    an integer ordinal of the period in the indicator's frequency (a day's ordinal, or
    ``year * 12 + month - 1`` for months, ``year * 4 + quarter - 1`` for quarters);
``value``
    the observed value (float).

Rules are a frame with one row per rule and city class (see :data:`RULE_COLUMNS`); the
kinds are ``threshold`` (the latest value beyond a limit), ``band`` (outside a band),
``yoy`` (the relative change against the same period one year earlier beyond a limit),
``forecast`` (the trend of the last ``window`` periods crosses the limit within
``horizon`` periods) and ``all_of`` (every rule named in ``components`` warns for the
place). A rule row whose ``city_class`` is empty applies to every class; a row for the
place's own class takes precedence.

Everything is vectorised: the observations of each frequency are laid out as one matrix
(series × periods) and each rule is evaluated on all series at once, so 10 million
observations take seconds (``python -m bench monitoring``).

Functions: :func:`theil_sen` (Sen's slope and its confidence interval for many series at
once, identical to :func:`scipy.stats.theilslopes` row by row), :func:`holt` (the
additive-error Holt model ETS(A,A,N) with given smoothing parameters and its analytical
prediction interval, identical to ``statsmodels``' ``ETSModel``), :func:`forecast` and
:func:`evaluate_rules`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._validation import ParameterError, check_choice, check_fraction

__all__ = [
    "KINDS",
    "RULE_COLUMNS",
    "WARNING_COLUMNS",
    "evaluate_rules",
    "forecast",
    "holt",
    "theil_sen",
]

KINDS = ("threshold", "band", "yoy", "forecast", "all_of")
METHODS = ("theil_sen", "holt")
# Columns a rule frame may hold; missing optional ones take these defaults.
RULE_COLUMNS: dict[str, object] = {
    "code": None,
    "kind": None,
    "indicator": "",
    "city_class": "",
    "comparison": "above",
    "threshold": np.nan,
    "low": np.nan,
    "high": np.nan,
    "window": 24,
    "horizon": 6,
    "method": "theil_sen",
    "coverage": 0.9,
    "smoothing_level": 0.5,
    "smoothing_trend": 0.1,
    "components": (),
    "level": "yellow",
    "department": "",
    "periods_per_year": 12,
}
WARNING_COLUMNS = [
    "rule",
    "place",
    "indicator",
    "period",
    "value",
    "reference",
    "forecast",
    "lower",
    "upper",
    "periods_ahead",
    "level",
    "department",
]


def _matrix(values) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise ParameterError("values", "2-D (series × periods)", f"{array.ndim} dimensions")
    return array


def _tie_term(sorted_rows: np.ndarray) -> np.ndarray:
    """Per row, the sum over groups of equal values of k (k - 1) (2k + 5)."""
    n_rows, n = sorted_rows.shape
    starts = np.ones_like(sorted_rows, dtype=bool)
    starts[:, 1:] = sorted_rows[:, 1:] != sorted_rows[:, :-1]
    run = np.cumsum(starts, axis=1) - 1  # run number within the row
    flat = (np.arange(n_rows)[:, np.newaxis] * n + run).ravel()
    lengths = np.bincount(flat, minlength=n_rows * n).reshape(n_rows, n).astype(float)
    return (lengths * (lengths - 1) * (2 * lengths + 5)).sum(axis=1)


def theil_sen(values, *, alpha: float = 0.95) -> pd.DataFrame:
    """Sen's slope of each series against its period number, with its confidence interval.

    For the series ``y_0 … y_{n-1}`` at ``x = 0 … n-1``: the slope is the median of the
    pairwise slopes ``(y_j - y_i) / (j - i)``, ``i < j``; the intercept is
    ``median(y) - slope * median(x)``; the interval is Sen's (1968) rank interval on the
    sorted pairwise slopes, with the variance corrected for tied values, exactly as
    :func:`scipy.stats.theilslopes` (``method="separate"``) computes it for one series.

    Parameters
    ----------
    values : array-like of shape (n_series, n_periods)
        One row per series, no missing values (a row with one gives NaN throughout).
    alpha : float, default 0.95
        Confidence of the slope interval.

    Returns
    -------
    DataFrame of shape (n_series, 4)
        Columns ``slope``, ``intercept``, ``low_slope``, ``high_slope``.

    See Also
    --------
    scipy.stats.theilslopes : the same for one series.
    forecast : extends the line and its interval ``horizon`` periods ahead.

    Examples
    --------
    >>> theil_sen([[1.0, 2.0, 3.0, 5.0]])["slope"].round(4).tolist()
    [1.1667]
    """
    alpha = check_fraction("alpha", alpha)
    y = _matrix(values)
    n_series, n = y.shape
    if n < 2:
        raise ParameterError("values", "at least 2 periods long", n)
    i, j = np.triu_indices(n, k=1)
    slopes = (y[:, j] - y[:, i]) / (j - i)  # NaN where a value is missing
    slopes.sort(axis=1)
    slope = np.median(slopes, axis=1)
    intercept = np.median(y, axis=1) - slope * np.median(np.arange(n))
    z = stats.norm.ppf((1 - max(alpha, 1 - alpha)) / 2)
    sigsq = (n * (n - 1) * (2 * n + 5) - _tie_term(np.sort(y, axis=1))) / 18.0
    sigma = np.sqrt(sigsq)
    nt = slopes.shape[1]
    upper_rank = np.minimum(np.round((nt - z * sigma) / 2).astype(int), nt - 1)
    lower_rank = np.maximum(np.round((nt + z * sigma) / 2).astype(int) - 1, 0)
    rows = np.arange(n_series)
    return pd.DataFrame(
        {
            "slope": slope,
            "intercept": intercept,
            "low_slope": slopes[rows, lower_rank],
            "high_slope": slopes[rows, upper_rank],
        }
    )


def holt(
    values,
    *,
    horizon: int,
    smoothing_level: float = 0.5,
    smoothing_trend: float = 0.1,
    coverage: float = 0.9,
) -> dict[str, np.ndarray]:
    """Forecasts of the additive-error Holt model ETS(A,A,N) with given parameters.

    With the initial states ``l_{-1} = y_0`` and ``b_{-1} = y_1 - y_0``, for ``t = 0 … n-1``:
    ``e_t = y_t - (l_{t-1} + b_{t-1})``, ``l_t = l_{t-1} + b_{t-1} + α e_t``,
    ``b_t = b_{t-1} + β e_t``. The h-step forecast is ``l_{n-1} + h b_{n-1}`` and its
    variance ``σ² [1 + (h - 1)(α² + α β h + β² h (2h - 1) / 6)]`` (Hyndman and
    Athanasopoulos, table 9.8), ``σ²`` the mean squared one-step error ``e_t``; the
    interval is normal. This is what ``statsmodels``' ``ETSModel``
    gives with the same parameters and known initial states.

    Parameters
    ----------
    values : array-like of shape (n_series, n_periods)
        One row per series, at least 2 periods, no missing values.
    horizon : int
        How many periods ahead to forecast (≥ 1).
    smoothing_level, smoothing_trend : float
        α and β, each in [0, 1].
    coverage : float, default 0.9
        Coverage of the prediction interval.

    Returns
    -------
    dict of ndarray of shape (n_series, horizon)
        ``forecast``, ``lower``, ``upper``.

    See Also
    --------
    statsmodels.tsa.exponential_smoothing.ets.ETSModel

    Examples
    --------
    >>> holt([[1.0, 2.0, 3.0, 4.0]], horizon=2)["forecast"].round(2).tolist()
    [[4.81, 5.67]]
    """
    alpha = check_fraction("smoothing_level", smoothing_level)
    beta = check_fraction("smoothing_trend", smoothing_trend)
    coverage = check_fraction("coverage", coverage)
    if int(horizon) < 1:
        raise ParameterError("horizon", "an integer ≥ 1", horizon)
    y = _matrix(values)
    if y.shape[1] < 2:
        raise ParameterError("values", "at least 2 periods long", y.shape[1])
    level = y[:, 0].copy()
    trend = y[:, 1] - y[:, 0]
    sse = np.zeros(len(y))
    for t in range(y.shape[1]):
        error = y[:, t] - (level + trend)
        sse += error**2
        level = level + trend + alpha * error
        trend = trend + beta * error
    sigma2 = sse / y.shape[1]
    h = np.arange(1, int(horizon) + 1, dtype=float)
    point = level[:, np.newaxis] + h * trend[:, np.newaxis]
    relative = 1 + (h - 1) * (alpha**2 + alpha * beta * h + beta**2 * h * (2 * h - 1) / 6)
    spread = stats.norm.ppf(0.5 + coverage / 2) * np.sqrt(sigma2[:, np.newaxis] * relative)
    return {"forecast": point, "lower": point - spread, "upper": point + spread}


def forecast(values, *, horizon: int, method: str = "theil_sen", coverage: float = 0.9, **options):
    """Forecast each series ``horizon`` periods ahead with an interval.

    ``theil_sen``: the line of :func:`theil_sen` extended, the interval drawn by the slope's
    confidence interval through the median point (``median(y) + slope_low/high × (x -
    median(x))``) — an interval for the trend, not for one future value; ``holt``: the
    prediction interval of :func:`holt`.

    Parameters
    ----------
    values : array-like of shape (n_series, n_periods)
    horizon : int
    method : {"theil_sen", "holt"}
    coverage : float, default 0.9
    **options
        ``smoothing_level`` and ``smoothing_trend`` for ``holt``.

    Returns
    -------
    dict of ndarray of shape (n_series, horizon)
        ``forecast``, ``lower``, ``upper``.

    Examples
    --------
    >>> forecast([[1.0, 2.0, 3.0]], horizon=1)["forecast"].tolist()
    [[4.0]]
    """
    method = check_choice("method", method, METHODS)
    if method == "holt":
        return holt(values, horizon=horizon, coverage=coverage, **options)
    y = _matrix(values)
    fit = theil_sen(y, alpha=coverage)
    n = y.shape[1]
    x = np.arange(n, n + int(horizon), dtype=float)
    centre_x = np.median(np.arange(n))
    centre_y = np.median(y, axis=1)[:, np.newaxis]
    point = fit["intercept"].to_numpy()[:, np.newaxis] + fit["slope"].to_numpy()[:, np.newaxis] * x
    one = centre_y + fit["low_slope"].to_numpy()[:, np.newaxis] * (x - centre_x)
    two = centre_y + fit["high_slope"].to_numpy()[:, np.newaxis] * (x - centre_x)
    return {"forecast": point, "lower": np.minimum(one, two), "upper": np.maximum(one, two)}


def _rules_frame(rules: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(rules, pd.DataFrame):
        raise ParameterError("rules", "a DataFrame", type(rules).__name__)
    missing = [c for c in ("code", "kind") if c not in rules.columns]
    if missing:
        raise ParameterError("rules", "a frame with the columns code and kind", missing)
    rules = rules.copy()
    for column, default in RULE_COLUMNS.items():
        if column not in rules.columns:
            rules[column] = [default] * len(rules)
        elif default is not None and not (isinstance(default, float) and np.isnan(default)):
            # A column given for some rules only: the others take the default.
            missing = rules[column].isna().to_numpy()
            if missing.any():
                rules[column] = [
                    default if gap else value
                    for gap, value in zip(missing, rules[column], strict=True)
                ]
    rules["city_class"] = rules["city_class"].fillna("").astype(str)
    for kind in rules["kind"]:
        check_choice("kind", kind, KINDS)
    return rules


def _pick_class(candidates: pd.DataFrame) -> pd.DataFrame:
    """Of the rule rows matching a series, the one for the place's class, else the generic."""
    own = candidates["city_class"] != ""
    keep = own | ~candidates.set_index(["code", "series"]).index.isin(
        candidates.loc[own].set_index(["code", "series"]).index
    )
    return candidates.loc[keep]


def evaluate_rules(
    observations: pd.DataFrame,
    rules: pd.DataFrame,
    *,
    city_classes=None,
) -> pd.DataFrame:
    """The warnings the rules give on the latest observation of each series.

    Parameters
    ----------
    observations : DataFrame
        Long frame with columns ``place``, ``indicator``, ``period`` (int ordinal) and
        ``value``; one row per (place, indicator, period). Only observations up to the
        moment of evaluation may be passed (the caller filters by date).
    rules : DataFrame
        One row per rule and city class, columns of :data:`RULE_COLUMNS` (``code`` and
        ``kind`` required). ``periods_per_year`` is the frequency of the rule's indicator
        (365, 12 or 4). ``comparison`` ``"above"`` warns when the value (change, forecast)
        is above ``threshold``, ``"below"`` when below.
    city_classes : Series or mapping, optional
        City class by place; places without one match only the rules for every class.

    Returns
    -------
    DataFrame
        One row per warning, columns :data:`WARNING_COLUMNS`: the rule's code, the place,
        the indicator, the period and value it fired on, the ``reference`` it was compared
        with (threshold, band limit or last year's value), for a forecast the forecast
        value where it crosses, its interval and ``periods_ahead``; the rule's ``level``
        and ``department``. ``all_of`` rules name their first component's indicator.

    Examples
    --------
    >>> obs = pd.DataFrame({"place": ["a", "a", "b"], "indicator": ["x", "x", "x"],
    ...                     "period": [1, 2, 2], "value": [5.0, 12.0, 3.0]})
    >>> rules = pd.DataFrame({"code": ["x_high"], "kind": ["threshold"], "indicator": ["x"],
    ...                       "threshold": [10.0], "level": ["red"]})
    >>> evaluate_rules(obs, rules)[["rule", "place", "value", "level"]].values.tolist()
    [['x_high', 'a', 12.0, 'red']]
    """
    rules = _rules_frame(rules)
    needed = {"place", "indicator", "period", "value"}
    if not needed <= set(observations.columns):
        raise ParameterError(
            "observations", f"a frame with the columns {sorted(needed)}", list(observations.columns)
        )
    classes = pd.Series(dict(city_classes) if city_classes is not None else {}, dtype=object)
    simple = rules.loc[rules["kind"] != "all_of"]
    parts = []
    used = observations["indicator"].isin(simple["indicator"].unique())
    for ppy, group_rules in simple.groupby("periods_per_year"):
        indicators = group_rules["indicator"].unique()
        keep = used & observations["indicator"].isin(indicators)
        frame = observations if keep.all() else observations.loc[keep]
        if frame.empty:
            continue
        parts.append(_evaluate_frequency(frame, group_rules, classes, int(ppy)))
    found = pd.concat(parts, ignore_index=True) if parts else _empty()
    combined = rules.loc[rules["kind"] == "all_of"]
    if len(combined):
        found = pd.concat([found, _all_of(found, combined)], ignore_index=True)
    return found.sort_values(["rule", "place"], kind="stable").reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in WARNING_COLUMNS})


def _evaluate_frequency(frame, rules, classes, ppy: int) -> pd.DataFrame:
    """Every rule of one frequency over its observations, laid out as series × periods."""
    place_codes, place_labels = pd.factorize(frame["place"])
    indicator_codes, indicator_labels = pd.factorize(frame["indicator"])
    combined = place_codes.astype(np.int64) * len(indicator_labels) + indicator_codes
    keys, series_codes = np.unique(combined, return_inverse=True)
    series_index = pd.MultiIndex.from_arrays(
        [
            np.asarray(place_labels)[keys // len(indicator_labels)],
            np.asarray(indicator_labels)[keys % len(indicator_labels)],
        ]
    )
    periods = frame["period"].to_numpy(dtype=np.int64)
    first = periods.min()
    width = int(periods.max() - first + 1)
    matrix = np.full((len(series_index), width), np.nan)
    matrix[series_codes, periods - first] = frame["value"].to_numpy(dtype=float)
    present = ~np.isnan(matrix)
    latest = width - 1 - np.argmax(present[:, ::-1], axis=1)
    rows = np.arange(len(series_index))
    latest_value = matrix[rows, latest]
    places = series_index.get_level_values(0)
    series = pd.DataFrame(
        {
            "series": rows,
            "place": places,
            "indicator": series_index.get_level_values(1),
            "city_class": pd.Series(places).map(classes).astype(object).fillna("").to_numpy(),
        }
    )
    rules = rules.drop(columns=["periods_per_year"])
    matched = series.merge(rules, on="indicator", suffixes=("", "_rule"))
    matched = matched.loc[
        (matched["city_class_rule"] == "") | (matched["city_class_rule"] == matched["city_class"])
    ]
    matched = matched.drop(columns="city_class").rename(columns={"city_class_rule": "city_class"})
    matched = _pick_class(matched)
    s = matched["series"].to_numpy()
    out = pd.DataFrame(
        {
            "rule": matched["code"].to_numpy(),
            "place": matched["place"].to_numpy(),
            "indicator": matched["indicator"].to_numpy(),
            "period": latest[s] + first,
            "value": latest_value[s],
            "reference": np.nan,
            "forecast": np.nan,
            "lower": np.nan,
            "upper": np.nan,
            "periods_ahead": np.nan,
            "level": matched["level"].to_numpy(),
            "department": matched["department"].to_numpy(),
        }
    )
    kind = matched["kind"].to_numpy()
    above = matched["comparison"].to_numpy() == "above"
    threshold = matched["threshold"].to_numpy(dtype=float)
    fires = np.zeros(len(matched), dtype=bool)

    # Threshold: the latest value beyond the limit.
    sel = kind == "threshold"
    value = out["value"].to_numpy()
    fires |= sel & np.where(above, value > threshold, value < threshold)
    out.loc[sel, "reference"] = threshold[sel]

    # Band: outside [low, high]; the reference is the limit crossed.
    sel = kind == "band"
    low = matched["low"].to_numpy(dtype=float)
    high = matched["high"].to_numpy(dtype=float)
    outside_high = value > high
    outside_low = value < low
    fires |= sel & (outside_high | outside_low)
    out.loc[sel, "reference"] = np.where(outside_high, high, low)[sel]

    # Change against the same period a year earlier.
    sel = kind == "yoy"
    if sel.any():
        back = latest[s] - ppy
        has_back = back >= 0
        previous = np.where(has_back, matrix[s, np.clip(back, 0, None)], np.nan)
        change = (value - previous) / np.abs(previous)
        with np.errstate(invalid="ignore"):
            fires |= sel & np.where(above, change > threshold, change < threshold)
        out.loc[sel, "reference"] = previous[sel]
        out.loc[sel, "forecast"] = change[sel]  # the relative change, in the forecast column

    # Forecast: the trend of the last `window` periods crosses within `horizon`.
    sel_forecast = kind == "forecast"
    if sel_forecast.any():
        _forecast_rules(matched, out, fires, sel_forecast, matrix, latest, above, threshold)
    return out.loc[fires].reset_index(drop=True)


def _forecast_rules(matched, out, fires, selected, matrix, latest, above, threshold) -> None:
    settings = matched.loc[selected, ["window", "horizon", "method", "coverage"]].astype(
        {"window": int, "horizon": int}
    )
    for (window, horizon, method, coverage), block in settings.groupby(
        ["window", "horizon", "method", "coverage"]
    ):
        positions = matched.index.get_indexer(block.index)
        s = matched["series"].to_numpy()[positions]
        end = latest[s]
        ok = end + 1 >= window
        columns = end[:, np.newaxis] - window + 1 + np.arange(window)
        windows = matrix[s[:, np.newaxis], np.clip(columns, 0, None)]
        ok &= ~np.isnan(windows).any(axis=1)
        if not ok.any():
            continue
        row = matched.iloc[positions[ok][0]]
        result = forecast(
            windows[ok],
            horizon=horizon,
            method=method,
            coverage=float(coverage),
            **(
                {
                    "smoothing_level": float(row["smoothing_level"]),
                    "smoothing_trend": float(row["smoothing_trend"]),
                }
                if method == "holt"
                else {}
            ),
        )
        targets = positions[ok]
        limit = threshold[targets][:, np.newaxis]
        up = above[targets][:, np.newaxis]
        crossing = np.where(up, result["forecast"] > limit, result["forecast"] < limit)
        now = windows[ok][:, -1]
        already = np.where(above[targets], now > threshold[targets], now < threshold[targets])
        crosses = crossing.any(axis=1) & ~already
        step = np.argmax(crossing, axis=1)
        pick = np.arange(len(targets))
        hit = targets[crosses]
        fires[hit] = True
        for name in ("forecast", "lower", "upper"):
            out.loc[hit, name] = result[name][pick, step][crosses]
        out.loc[hit, "periods_ahead"] = step[crosses] + 1
        out.loc[hit, "reference"] = threshold[hit]


def _all_of(found: pd.DataFrame, combined: pd.DataFrame) -> pd.DataFrame:
    """Warnings of rules that fire where every component rule fired for the place."""
    parts = []
    for _, rule in combined.iterrows():
        components = [c for c in (rule["components"] or ()) if c]
        if not components:
            raise ParameterError("components", "at least one rule code", rule["code"])
        fired = found.loc[found["rule"].isin(components)]
        counts = fired.groupby("place")["rule"].nunique()
        places = counts.index[counts == len(set(components))]
        if rule["city_class"]:
            raise ParameterError("city_class", "empty for an all_of rule", rule["code"])
        first = fired.loc[(fired["rule"] == components[0]) & fired["place"].isin(places)]
        parts.append(
            first.assign(rule=rule["code"], level=rule["level"], department=rule["department"])
        )
    return pd.concat(parts, ignore_index=True) if parts else _empty()
