"""Imputation of missing values (OECD/JRC handbook step 3).

Methods: ``"none"`` (leave gaps), ``"mean"`` (indicator mean), ``"group_mean"`` (indicator
mean within the place's peer group, as COINr's ``i_mean_grp``) and ``"previous_year"``
(carry the place's latest earlier value forward in panel data).
"""

from __future__ import annotations

import pandas as pd

from ._validation import ParameterError, check_choice, check_groups, check_values

__all__ = ["METHODS", "impute"]

METHODS = ("none", "mean", "group_mean", "previous_year")


def impute(values, *, method: str = "mean", groups=None, year_level: str | int = "year"):
    """Fill missing values of each indicator.

    Parameters
    ----------
    values : DataFrame or ndarray of shape (n_places, n_indicators)
        One row per place (or place-year), one column per indicator code.
    method : {"none", "mean", "group_mean", "previous_year"}
        ``"group_mean"`` fills a gap with the mean of the same indicator over the places of
        the same group; a gap in a group with no value stays missing.
        ``"previous_year"`` needs a frame whose index has a year level (``year_level``);
        a gap with no earlier value stays missing.
    groups : Series, mapping or sequence, optional
        The peer group of each row (by row label, or in row order), for ``"group_mean"``.
    year_level : str or int
        Name or position of the year level of a panel index, for ``"previous_year"``.

    Returns
    -------
    DataFrame or ndarray
        The same shape and labels as ``values``, gaps filled.

    Examples
    --------
    >>> values = pd.DataFrame({"green": [1.0, None, 3.0, 5.0]}, index=list("abcd"))
    >>> impute(values, method="group_mean", groups=["x", "x", "y", "y"])["green"].tolist()
    [1.0, 1.0, 3.0, 5.0]
    """
    checked = check_values(values)
    check_choice("method", method, METHODS)
    frame = checked.frame
    if method == "none":
        result = frame
    elif method == "mean":
        result = frame.fillna(frame.mean())
    elif method == "group_mean":
        keys = check_groups(groups, frame.index)
        result = frame.fillna(frame.groupby(keys, dropna=True).transform("mean"))
    else:
        result = _previous_year(frame, year_level)
    return checked.wrap(result)


def _previous_year(frame: pd.DataFrame, year_level: str | int) -> pd.DataFrame:
    index = frame.index
    if index.nlevels < 2:
        raise ParameterError(
            "values", "a frame indexed by (place, year) for method='previous_year'", index.names
        )
    level_names = list(index.names)
    if year_level not in level_names and not (
        isinstance(year_level, int) and 0 <= year_level < index.nlevels
    ):
        raise ParameterError("year_level", f"one of {level_names}", year_level)
    year_position = level_names.index(year_level) if year_level in level_names else year_level
    other_levels = [i for i in range(index.nlevels) if i != year_position]
    order = pd.MultiIndex.from_arrays(
        [index.get_level_values(i) for i in [*other_levels, year_position]]
    ).argsort()
    ordered = frame.iloc[order]
    place_keys = [ordered.index.get_level_values(i) for i in other_levels]
    filled = ordered.groupby(place_keys, dropna=False).ffill()
    return filled.loc[frame.index] if frame.index.is_unique else filled.sort_index()
