"""Screening by data availability (OECD/JRC handbook step 2).

A place is kept when its share of non-missing indicator values is at least
``min_availability``, as COINr's ``Screen(unit_screen = "byNA")`` (which drops a unit when
``Dat_Avail < dat_thresh``). Indicators can be screened the same way with ``axis="indicators"``.
"""

from __future__ import annotations

from ._validation import DataError, check_choice, check_fraction, check_values

__all__ = ["data_availability", "screen"]

AXES = ("places", "indicators")


def data_availability(values, *, axis: str = "places"):
    """Share of non-missing values of each place (or each indicator).

    Parameters
    ----------
    values : DataFrame or ndarray of shape (n_places, n_indicators)
    axis : {"places", "indicators"}

    Returns
    -------
    Series or ndarray
        Shares in [0, 1], by place (row label) or by indicator code.

    Examples
    --------
    >>> import pandas as pd
    >>> values = pd.DataFrame({"a": [1.0, None], "b": [2.0, 3.0]}, index=["p", "q"])
    >>> data_availability(values).tolist()
    [1.0, 0.5]
    """
    checked = check_values(values)
    check_choice("axis", axis, AXES)
    available = checked.frame.notna()
    return checked.wrap(available.mean(axis=1 if axis == "places" else 0))


def screen(values, *, min_availability: float = 2 / 3, axis: str = "places"):
    """Keep the places (or indicators) with enough data.

    Parameters
    ----------
    values : DataFrame or ndarray of shape (n_places, n_indicators)
    min_availability : float in [0, 1]
        Keep when the share of non-missing values is ``>= min_availability``.
    axis : {"places", "indicators"}

    Returns
    -------
    DataFrame or ndarray
        The kept rows (or columns), in their original order.

    Examples
    --------
    >>> import pandas as pd
    >>> values = pd.DataFrame({"a": [1.0, None], "b": [2.0, 3.0]}, index=["p", "q"])
    >>> screen(values, min_availability=0.9).index.tolist()
    ['p']
    """
    checked = check_values(values)
    check_fraction("min_availability", min_availability)
    check_choice("axis", axis, AXES)
    frame = checked.frame
    share = frame.notna().mean(axis=1 if axis == "places" else 0)
    keep = share >= min_availability
    if not keep.any():
        raise DataError(f"no {axis} have data availability >= {min_availability:g}")
    if keep.all():  # nothing screened out: the values as they are (shared until written)
        return checked.wrap(frame.copy(deep=False))
    result = frame.loc[keep] if axis == "places" else frame.loc[:, keep]
    return checked.wrap(result)
