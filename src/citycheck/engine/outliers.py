"""Outlier treatment (OECD/JRC handbook step 4), exactly as COINr's ``Treat`` default.

For each indicator:

1. pass if ``|skew| < skew_threshold`` **or** ``kurtosis < kurtosis_threshold``
   (COINr's ``check_SkewKurt``: an indicator fails only when both are high);
2. if it fails, winsorise: while failing and fewer than ``winmax`` points are winsorised,
   replace the highest value(s) by the next highest when skew >= 0, else the lowest by the
   next lowest (tied extremes move together and all count);
3. if it still fails, discard the winsorisation and apply COINr's ``log_CT`` to the
   original values: ``log(x - min(x) + 0.01 (max(x) - min(x)))``.

Skewness and kurtosis are the sample-adjusted ("type 2", Excel's SKEW and KURT)
estimators COINr uses; missing values are skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import DataError, ParameterError, check_choice, check_values

__all__ = ["METHODS", "kurtosis", "skewness", "treat", "treatment_details"]

METHODS = ("none", "winsorise", "winsorise_then_log")


def skewness(values):
    """Sample skewness of each indicator (Excel SKEW, e1071 type 2), missing values skipped.

    ``G1 = sqrt(n (n - 1)) / (n - 2) * m3 / m2^(3/2)`` with central moments ``m_k``.

    Examples
    --------
    >>> import pandas as pd
    >>> round(float(skewness(pd.DataFrame({"a": [1.0, 2.0, 3.0, 10.0]}))["a"]), 6)
    1.763633
    """
    checked = check_values(values)
    return checked.wrap(checked.frame.apply(lambda col: _skew_kurt(col.dropna().to_numpy())[0]))


def kurtosis(values):
    """Sample excess kurtosis of each indicator (Excel KURT, e1071 type 2).

    Examples
    --------
    >>> import pandas as pd
    >>> round(float(kurtosis(pd.DataFrame({"a": [1.0, 2.0, 3.0, 10.0]}))["a"]), 6)
    3.228
    """
    checked = check_values(values)
    return checked.wrap(checked.frame.apply(lambda col: _skew_kurt(col.dropna().to_numpy())[1]))


def treat(
    values,
    *,
    method: str = "winsorise_then_log",
    winmax: int = 5,
    skew_threshold: float = 2.0,
    kurtosis_threshold: float = 3.5,
):
    """Treat outliers of each indicator as COINr's ``Treat`` does by default.

    Parameters
    ----------
    values : DataFrame or ndarray of shape (n_places, n_indicators)
    method : {"winsorise_then_log", "winsorise", "none"}
        ``"winsorise"`` stops after step 2 (an indicator may still fail).
    winmax : int
        Most points winsorised per indicator (COINr ``winmax``, default 5).
    skew_threshold, kurtosis_threshold : float
        COINr's ``skew_thresh`` (2) and ``kurt_thresh`` (3.5).

    Returns
    -------
    DataFrame or ndarray
        Treated values, same shape and labels. See :func:`treatment_details` for what
        was done to each indicator.

    Examples
    --------
    >>> values = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100]})
    >>> treat(values)["x"].tolist()[-3:]
    [10.0, 30.0, 30.0]
    """
    treated, _ = _treat_frame(values, method, winmax, skew_threshold, kurtosis_threshold)
    return treated


def treatment_details(
    values,
    *,
    method: str = "winsorise_then_log",
    winmax: int = 5,
    skew_threshold: float = 2.0,
    kurtosis_threshold: float = 3.5,
) -> pd.DataFrame:
    """What :func:`treat` did to each indicator, one row per indicator code.

    Columns: ``passed_before, skew_before, kurtosis_before, n_winsorised,
    passed_after_winsorising, skew_after, kurtosis_after, log_transformed, passed``
    (``skew_after``/``kurtosis_after`` describe the final values).

    Examples
    --------
    >>> values = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100]})
    >>> int(treatment_details(values).loc["x", "n_winsorised"])
    1
    """
    _, details = _treat_frame(values, method, winmax, skew_threshold, kurtosis_threshold)
    return details


def _treat_frame(values, method, winmax, skew_threshold, kurtosis_threshold):
    """Treated values (the caller's kind) and the details frame, in one pass."""
    checked = check_values(values)
    check_choice("method", method, METHODS)
    _check_positive_number("winmax", winmax, integer=True)
    _check_positive_number("skew_threshold", skew_threshold)
    _check_positive_number("kurtosis_threshold", kurtosis_threshold)
    frame = checked.frame
    treated = frame.to_numpy(copy=True)
    rows = []
    for position, code in enumerate(frame.columns):
        column = treated[:, position]
        present = ~np.isnan(column)
        if present.sum() < 4 and method != "none":
            raise DataError("outlier treatment needs at least 4 values", indicator=code)
        new, row = _treat_column(
            column[present], method, winmax, skew_threshold, kurtosis_threshold
        )
        column[present] = new
        rows.append(row)
    details = pd.DataFrame(rows, index=frame.columns)
    result = pd.DataFrame(treated, index=frame.index, columns=frame.columns)
    return checked.wrap(result), details


def _check_positive_number(name, value, *, integer=False):
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise ParameterError(name, "a positive " + ("integer" if integer else "number"), value)


def _treat_column(x, method, winmax, skew_threshold, kurtosis_threshold):
    def passes(skew, kurt):
        # a constant indicator has no skew: nothing to treat (COINr returns it untreated)
        return bool(np.isnan(skew) or abs(skew) < skew_threshold or kurt < kurtosis_threshold)

    skew, kurt = _skew_kurt(x)
    row = {
        "passed_before": passes(skew, kurt),
        "skew_before": skew,
        "kurtosis_before": kurt,
        "n_winsorised": 0,
        "passed_after_winsorising": True,
        "log_transformed": False,
    }
    result = x
    if not row["passed_before"] and method != "none":
        winsorised, n_winsorised = _winsorise(x, passes, winmax)
        row["n_winsorised"] = n_winsorised
        row["passed_after_winsorising"] = passes(*_skew_kurt(winsorised))
        result = winsorised
        if not row["passed_after_winsorising"] and method == "winsorise_then_log":
            result = np.log(x - x.min() + 0.01 * (x.max() - x.min()))
            row["log_transformed"] = True
        skew, kurt = _skew_kurt(result)
    row.update(skew_after=skew, kurtosis_after=kurt, passed=passes(skew, kurt))
    return result, row


def _winsorise(x, passes, winmax):
    """COINr's ``winsorise``: its counter is the size of the latest tied group at each end."""
    x = x.copy()
    at_high = at_low = np.array([], dtype=int)
    n_winsorised = 0
    passing = False
    skew = _skew_kurt(x)[0]
    while not passing and n_winsorised < winmax:
        if skew >= 0:
            at_high = np.flatnonzero(x == x.max())
            x[at_high] = np.delete(x, at_high).max()
        else:
            at_low = np.flatnonzero(x == x.min())
            x[at_low] = np.delete(x, at_low).min()
        n_winsorised = len(at_high) + len(at_low)
        skew, kurt = _skew_kurt(x)
        passing = passes(skew, kurt)
    return x, n_winsorised


def _skew_kurt(x: np.ndarray) -> tuple[float, float]:
    """Type-2 sample skewness and excess kurtosis (NaN when undefined)."""
    n = len(x)
    centred = x - x.mean()
    squared = centred * centred
    m2 = squared.sum()
    if n < 3 or m2 == 0:
        return np.nan, np.nan
    skew = float(np.sqrt(n) * (squared * centred).sum() / m2**1.5 * np.sqrt(n * (n - 1)) / (n - 2))
    if n < 4:
        return skew, np.nan
    r = n * (squared * squared).sum() / m2**2
    return skew, float(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))
