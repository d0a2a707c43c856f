"""Shared input checks for the engine: one wording for every parameter and data error.

Every public engine function validates at entry with these helpers, so a bad parameter
always reads "``<name>`` must be <allowed>; got <received>" and a data problem always
names the place (row label) and the indicator (column).

Messages are English: the engine is a library; the platform catches :class:`EngineError`
and shows a translated message built from the structured attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DataError",
    "EngineError",
    "ParameterError",
    "Values",
    "check_choice",
    "check_directions",
    "check_fraction",
    "check_groups",
    "check_min_rows",
    "check_no_missing",
    "check_not_constant",
    "check_positive",
    "check_random_state",
    "check_values",
    "check_weights",
]


class EngineError(ValueError):
    """Base class of every error the engine raises on bad input."""


class ParameterError(EngineError):
    """A parameter is outside its allowed values.

    Attributes ``parameter``, ``allowed`` and ``received`` hold the parts of the message.
    """

    def __init__(self, parameter: str, allowed: str, received: Any):
        self.parameter, self.allowed, self.received = parameter, allowed, received
        super().__init__(f"`{parameter}` must be {allowed}; got {received!r}.")


class DataError(EngineError):
    """The data cannot be used by a method; ``place`` and ``indicator`` say where."""

    def __init__(self, message: str, *, place: Any = None, indicator: Any = None):
        self.place, self.indicator = place, indicator
        where = []
        if place is not None:
            where.append(f"place {place!r}")
        if indicator is not None:
            where.append(f"indicator {indicator!r}")
        super().__init__(f"{message} ({', '.join(where)})." if where else f"{message}.")


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise :class:`ParameterError`."""
    allowed = tuple(allowed)
    if not isinstance(value, str | int | float | bool | None) or value not in allowed:
        raise ParameterError(name, "one of " + ", ".join(repr(a) for a in allowed), value)
    return value


def check_fraction(name: str, value: Any, *, low: float = 0.0, high: float = 1.0) -> float:
    """Return ``value`` as a float in [low, high], else raise :class:`ParameterError`."""
    if isinstance(value, bool) or not isinstance(value, Real) or not low <= value <= high:
        raise ParameterError(name, f"a number between {low:g} and {high:g}", value)
    return float(value)


@dataclass(frozen=True)
class Values:
    """A checked copy of a ``values`` argument as a float frame, and how to give results back.

    ``frame`` has the caller's index and columns (0..n-1 for an array). ``wrap`` turns a
    frame or Series computed from it into the kind the caller passed.
    """

    frame: pd.DataFrame
    is_array: bool

    def wrap(self, result: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series | np.ndarray:
        return result.to_numpy() if self.is_array else result


def check_values(
    values: Any, *, name: str = "values", allow_missing: bool = True, copy: bool = True
) -> Values:
    """Check a wide frame or 2-D array of numbers and return a float copy of it.

    Raises :class:`ParameterError` for another type or shape and :class:`DataError` for a
    non-numeric column or (with ``allow_missing=False``) a missing value. ``copy=False``
    (for callers that only read the values): a float array is wrapped as it is, in its
    own memory layout, not copied.
    """
    if isinstance(values, pd.DataFrame):
        non_numeric = [
            c for c, dtype in values.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)
        ]
        if non_numeric:
            raise DataError(f"`{name}` has a non-numeric column", indicator=non_numeric[0])
        frame = values.astype(float)
        is_array = False
    elif isinstance(values, np.ndarray | list):
        array = np.asarray(values)
        if array.ndim != 2:
            raise ParameterError(
                name, "a DataFrame or a 2-D array (places x indicators)", f"{array.ndim}-D array"
            )
        if not np.issubdtype(array.dtype, np.number):
            raise ParameterError(name, "numeric", f"array of dtype {array.dtype}")
        # One column-major copy that the frame takes as it is: the layout pandas would
        # make of it anyway (so results are bit for bit the same), without a second copy.
        if not copy and array.dtype == np.float64:
            frame = pd.DataFrame(array, copy=False)
        else:
            frame = pd.DataFrame(np.array(array, dtype=float, order="F", copy=True), copy=False)
        is_array = True
    else:
        raise ParameterError(
            name, "a DataFrame or a 2-D array (places x indicators)", type(values).__name__
        )
    if frame.shape[1] == 0:
        raise DataError(f"`{name}` has no indicator columns")
    if not frame.columns.is_unique:
        duplicated = frame.columns[frame.columns.duplicated()][0]
        raise DataError(f"`{name}` has a duplicated column", indicator=duplicated)
    if np.isinf(frame.to_numpy()).any():
        row, col = np.argwhere(np.isinf(frame.to_numpy()))[0]
        raise DataError(
            f"`{name}` has an infinite value", place=frame.index[row], indicator=frame.columns[col]
        )
    if not allow_missing:
        check_no_missing(frame, name=name)
    return Values(frame, is_array)


def check_no_missing(frame: pd.DataFrame, *, name: str = "values", method: str = "") -> None:
    """Raise :class:`DataError` at the first missing value, naming place and indicator."""
    missing = np.isnan(frame.to_numpy(dtype=float))
    if missing.any():
        all_missing = missing.all(axis=0)
        purpose = f" for {method}" if method else ""
        if all_missing.any():
            raise DataError(
                f"`{name}` has an indicator with no values at all{purpose}",
                indicator=frame.columns[np.argmax(all_missing)],
            )
        row, col = np.argwhere(missing)[0]
        raise DataError(
            f"`{name}` has a missing value{purpose}; impute or screen first",
            place=frame.index[row],
            indicator=frame.columns[col],
        )


def check_min_rows(frame: pd.DataFrame, minimum: int, *, method: str) -> None:
    """Raise :class:`DataError` if ``frame`` has fewer than ``minimum`` places."""
    if len(frame) < minimum:
        raise DataError(f"{method} needs at least {minimum} places; got {len(frame)}")


def check_not_constant(frame: pd.DataFrame, *, method: str) -> None:
    """Raise :class:`DataError` naming the first indicator whose values are all equal."""
    values = frame.to_numpy()  # missing values skipped, as by frame.max() - frame.min()
    spread = np.fmax.reduce(values, axis=0) - np.fmin.reduce(values, axis=0)
    constant = frame.columns[~(spread > 0)]
    if len(constant):
        raise DataError(
            f"{method} cannot use an indicator whose values are all equal", indicator=constant[0]
        )


def check_positive(frame: pd.DataFrame, *, method: str, strict: bool = True) -> None:
    """Raise :class:`DataError` at the first value that is not > 0 (or >= 0)."""
    array = frame.to_numpy()
    bad = (array <= 0) if strict else (array < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        kind = "positive" if strict else "non-negative"
        raise DataError(
            f"{method} needs {kind} values; got {array[row, col]:g}",
            place=frame.index[row],
            indicator=frame.columns[col],
        )


def check_directions(directions: Any, columns: pd.Index, *, name: str = "directions") -> np.ndarray:
    """Return +1/-1 per column of ``columns`` from a mapping, Series or sequence.

    A mapping or Series is looked up by indicator code; a sequence is taken in column order.
    """
    if isinstance(directions, Mapping | pd.Series):
        lookup = dict(directions)
        missing = [c for c in columns if c not in lookup]
        if missing:
            raise DataError(f"`{name}` has no direction", indicator=missing[0])
        result = np.array([lookup[c] for c in columns])
    else:
        if directions is None or isinstance(directions, str):
            raise ParameterError(name, "+1/-1 per indicator", directions)
        result = np.asarray(directions).ravel()
        if len(result) != len(columns):
            raise ParameterError(name, f"{len(columns)} values (one per indicator)", len(result))
    bad = [d for d in result if d not in (1, -1)]
    if bad:
        raise ParameterError(name, "+1 or -1 for each indicator", bad[0])
    return result.astype(float)


def check_weights(weights: Any, columns: pd.Index, *, name: str = "weights") -> np.ndarray:
    """Return non-negative weights per column, scaled to sum to 1.

    Accepts a mapping or Series by indicator code, or a sequence in column order.
    """
    if isinstance(weights, Mapping | pd.Series):
        lookup = dict(weights)
        missing = [c for c in columns if c not in lookup]
        if missing:
            raise DataError(f"`{name}` has no weight", indicator=missing[0])
        result = np.array([lookup[c] for c in columns], dtype=float)
    else:
        result = np.asarray(weights, dtype=float).ravel()
        if len(result) != len(columns):
            raise ParameterError(name, f"{len(columns)} values (one per indicator)", len(result))
    if not np.isfinite(result).all() or (result < 0).any():
        raise ParameterError(name, "finite and non-negative", result.tolist())
    total = result.sum()
    if total <= 0:
        raise ParameterError(name, "not all zero", result.tolist())
    return result / total


def check_random_state(random_state: Any) -> np.random.Generator:
    """Return a numpy Generator from an int, a Generator or None (fresh entropy)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (
        isinstance(random_state, Integral) and not isinstance(random_state, bool)
    ):
        return np.random.default_rng(random_state)
    raise ParameterError("random_state", "an int, a numpy Generator or None", random_state)


def check_groups(groups: Any, index: pd.Index, *, name: str = "groups") -> pd.Series:
    """Group label of every place in ``index``, from a mapping/Series by place or a sequence."""
    if groups is None or isinstance(groups, str):
        raise ParameterError(name, "a group label per place", groups)
    if isinstance(groups, Mapping | pd.Series):
        keys = pd.Series(dict(groups) if isinstance(groups, Mapping) else groups)
        keys = keys.reindex(index)
    else:
        labels = list(groups)
        if len(labels) != len(index):
            raise ParameterError(name, f"{len(index)} labels (one per place)", len(labels))
        keys = pd.Series(labels, index=index)
    if keys.isna().any():
        raise DataError(f"`{name}` has no group", place=keys.index[keys.isna()][0])
    return keys
