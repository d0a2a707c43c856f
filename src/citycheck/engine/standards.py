"""Standards (达标): compare each value with its indicator's standard for the place's city class.

Kept apart from the index. For each (place[, year], indicator) with a standard:

* ``meets``: the comparison holds (``>=`` target, ``<=`` target, or ``between`` [low, high]);
* ``shortfall``: how far the value misses the standard (0 when it meets it);
* ``margin``: signed distance to the standard, positive = better than required
  (for ``between``: distance to the nearer bound inside, minus the shortfall outside);
* ``colour``: ``green`` when met, ``yellow`` when the shortfall is at most the
  ``warning_band``, ``red`` beyond, ``missing`` when there is no value;
* ``bottom_line_failed``: a bottom-line (底线) indicator that is not met.

A standard row with ``city_class`` ``""`` applies to every class; a row for the place's
class takes precedence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import DataError, ParameterError, check_values

__all__ = [
    "COLOURS",
    "COMPARISONS",
    "COMPARISON_SIGNS",
    "STANDARD_COLUMNS",
    "TYPES",
    "assess_standards",
    "describe",
]

COMPARISONS = (">=", "<=", "between")
# How officials write a comparison.
COMPARISON_SIGNS = {">=": "≥", "<=": "≤"}
TYPES = ("guiding", "bottom_line")
COLOURS = ("green", "yellow", "red", "missing")
STANDARD_COLUMNS = (
    "indicator",
    "city_class",
    "comparison",
    "value",
    "value_high",
    "warning_band",
    "type",
)
LONG_COLUMNS = ("place", "indicator", "value")


def assess_standards(values, standards: pd.DataFrame, city_classes=None) -> pd.DataFrame:
    """Meets-standard, shortfall, margin and warning colour of every value with a standard.

    Parameters
    ----------
    values : DataFrame
        Wide (rows = places or (place, year); columns = indicator codes) or long (columns
        ``place, indicator, value`` and optionally ``year``).
    standards : DataFrame
        Columns ``indicator, city_class, comparison, value, value_high, warning_band, type``;
        ``comparison`` in ``>=, <=, between``; ``type`` in ``guiding, bottom_line``.
    city_classes : Series or mapping place -> class, optional
        Needed when a standard is specific to a class.

    Returns
    -------
    DataFrame
        Long: ``place, [year,] indicator, value, city_class, comparison, target, target_high,
        warning_band, type, meets, shortfall, margin, colour, bottom_line_failed``. Values of
        indicators without a standard are left out. ``city_class``, ``type`` and ``colour``
        are categorical (a few labels repeated on every row: one byte each).

    Examples
    --------
    >>> values = pd.DataFrame({"green_rate": [0.42, 0.37, 0.30]}, index=["a", "b", "c"])
    >>> standards = pd.DataFrame({"indicator": ["green_rate"], "city_class": [""],
    ...     "comparison": [">="], "value": [0.40], "value_high": [None],
    ...     "warning_band": [0.05], "type": ["bottom_line"]})
    >>> result = assess_standards(values, standards)
    >>> result["colour"].tolist(), result["bottom_line_failed"].tolist()
    (['green', 'yellow', 'red'], [False, True, True])
    """
    long = _long(values)
    table = _check_standards(standards)
    long["city_class"] = _classes(long["place"], city_classes, table)
    matched, taken = _match(long, table)
    del long  # (the matched rows are the long frame or a copy of it: one reference left)
    # Per-row comparison and type as small codes taken from the table: no text per row
    # to compare (the type is kept as these codes, a categorical).
    comparison = pd.Index(COMPARISONS).get_indexer(table["comparison"]).astype(np.int8)[taken]
    at_least, at_most, between = comparison == 0, comparison == 1, comparison == 2
    value = matched["value"].to_numpy()
    target = matched["target"].to_numpy()
    present = ~np.isnan(value)
    # Filled in place, each row by its comparison's formula (the same float operations
    # as writing each formula over every row): few arrays of every row alive at once.
    below, above = target - value, value - target
    shortfall = np.maximum(below, 0)
    np.maximum(above, 0, out=shortfall, where=at_most)
    high = matched["target_high"].to_numpy()[between]
    shortfall[between] += np.maximum(value[between] - high, 0)
    margin = np.where(at_least, above, below)
    inside = np.minimum(above[between], high - value[between])
    missed = shortfall[between]
    margin[between] = np.where(missed > 0, -missed, inside)
    del below, above, high, inside, missed
    meets = present & (shortfall <= 0)
    colour_codes = np.full(len(value), 2, dtype=np.int8)
    colour_codes[shortfall <= matched["warning_band"].fillna(0.0).to_numpy()] = 1
    colour_codes[meets] = 0
    colour_codes[~present] = 3
    shortfall[~present] = np.nan
    margin[~present] = np.nan
    types = pd.Index(TYPES).get_indexer(table["type"]).astype(np.int8)[taken]
    bottom_line = types == TYPES.index("bottom_line")
    matched["type"] = pd.Categorical.from_codes(types, categories=TYPES)
    matched["meets"] = meets
    matched["shortfall"] = shortfall
    matched["margin"] = margin
    matched["colour"] = pd.Categorical.from_codes(colour_codes, categories=COLOURS)
    matched["bottom_line_failed"] = present & ~meets & bottom_line
    return matched.reset_index(drop=True)


def describe(comparison: str, value: float, value_high: float | None = None) -> str:
    """A standard as officials write it.

    >>> describe(">=", 87.5), describe("<=", 50), describe("between", 8, 12)
    ('≥ 87.5', '≤ 50', '8–12')
    """
    if comparison == "between":
        return f"{value:g}–{value_high:g}"
    return f"{COMPARISON_SIGNS[comparison]} {value:g}"


def _long(values) -> pd.DataFrame:
    if not isinstance(values, pd.DataFrame):
        raise ParameterError("values", "a DataFrame (wide or long)", type(values).__name__)
    if set(LONG_COLUMNS) <= set(values.columns):
        keys = [c for c in ("place", "year") if c in values.columns]
        long = values[[*keys, "indicator", "value"]].copy()
        long["value"] = pd.to_numeric(long["value"], errors="raise").astype(float)
        return long
    frame = check_values(values).frame
    names = [
        name or ("place" if i == 0 else f"level_{i}") for i, name in enumerate(frame.index.names)
    ]
    frame.index = frame.index.set_names(names)
    frame.columns = frame.columns.set_names("indicator")
    long = frame.stack(future_stack=True).rename("value").reset_index()
    if "place" not in long:
        raise ParameterError("values", "rows labelled by place (index level 'place')", names)
    return long


def _check_standards(standards) -> pd.DataFrame:
    if not isinstance(standards, pd.DataFrame):
        raise ParameterError("standards", "a DataFrame", type(standards).__name__)
    missing = [c for c in STANDARD_COLUMNS if c not in standards.columns]
    if missing:
        raise ParameterError(
            "standards", "columns " + ", ".join(STANDARD_COLUMNS), f"no {missing[0]!r}"
        )
    table = standards[list(STANDARD_COLUMNS)].copy()
    table["city_class"] = table["city_class"].fillna("").astype(str)
    for column, allowed in (("comparison", COMPARISONS), ("type", TYPES)):
        bad = ~table[column].isin(allowed)
        if bad.any():
            row = table.index[bad][0]
            raise DataError(
                f"`standards` row {row}: {column} must be one of {', '.join(allowed)}; "
                f"got {table.loc[row, column]!r}",
                indicator=table.loc[row, "indicator"],
            )
    for column in ("value", "value_high", "warning_band"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    between = table["comparison"] == "between"
    bad = table["value"].isna() | (between & ~(table["value_high"] >= table["value"]))
    if bad.any():
        row = table.index[bad][0]
        raise DataError(
            f"`standards` row {row}: needs a value (and value_high >= value for 'between')",
            indicator=table.loc[row, "indicator"],
        )
    duplicated = table.duplicated(["indicator", "city_class"])
    if duplicated.any():
        row = table.index[duplicated][0]
        raise DataError(
            f"`standards` row {row}: a second standard for city class {table.loc[row, 'city_class']!r}",
            indicator=table.loc[row, "indicator"],
        )
    return table.rename(columns={"value": "target", "value_high": "target_high"})


def _classes(places: pd.Series, city_classes, table: pd.DataFrame) -> pd.Series:
    if city_classes is None:
        if (table["city_class"] != "").any():
            raise ParameterError(
                "city_classes", "a class per place (some standards are per class)", None
            )
        return pd.Series(
            pd.Categorical.from_codes(np.zeros(len(places), dtype=np.int8), categories=[""]),
            index=places.index,
        )
    lookup = pd.Series(city_classes)
    classes = places.map(lookup)
    if classes.isna().any():
        raise DataError("`city_classes` has no class", place=places[classes.isna()].iloc[0])
    return classes.astype(str).astype("category")


def _match(long: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Each value with its class's standard, else the all-classes standard, and the
    position in ``table`` of the standard of each matched row (the caller adds ``type``).

    Looked up once per (indicator, class) pair present, then taken row by row by integer
    codes: no merge of every value with the table (two copies of the long frame); when
    every value has a standard, the long frame itself gets the standard's columns."""
    indicator_codes, indicators = pd.factorize(long["indicator"], use_na_sentinel=False)
    class_codes, classes = pd.factorize(long["city_class"], use_na_sentinel=False)
    position = {
        key: n for n, key in enumerate(zip(table["indicator"], table["city_class"], strict=True))
    }
    pairs = np.full((len(indicators), len(classes)), -1, dtype=np.int64)
    for i, indicator in enumerate(indicators):
        general = position.get((indicator, ""), -1)
        pairs[i] = [position.get((indicator, c), general) for c in classes]
    taken = pairs[indicator_codes, class_codes]
    del indicator_codes, class_codes
    kept = taken >= 0
    if kept.all():
        matched = long
    else:
        matched, taken = long[kept], taken[kept]
    for column in ("comparison", "target", "target_high", "warning_band"):
        matched[column] = table[column].array.take(taken)
    return matched, taken
