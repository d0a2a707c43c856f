"""Weights (OECD/JRC handbook step 6): expert, equal, entropy, CRITIC, AHP and combinations.

Every function returns weights that sum to 1: a Series by indicator code when it was given a
frame (or labelled pairwise matrix), an array otherwise.

Conventions (see docs/engine/index.md):

* **Entropy** works on min-max normalised data ([0, 1], direction-aware, no shift
  constant) and takes ``0 ln 0 = 0``, as scikit-criteria (``scipy.stats.entropy``) does.
  pymcdm instead uses shares of the raw values and gives a column containing a zero an
  entropy of 0; ``normalisation="sum"`` reproduces pymcdm on strictly positive data.
* **CRITIC** (Diakoulaki et al. 1995): min-max normalise direction-aware,
  ``C_j = s_j * sum_k (1 - r_jk)``; the standard deviation convention cancels out.
* **AHP**: principal eigenvector (Saaty) or row geometric means; Saaty's consistency ratio
  ``CR = (lambda_max - n) / (n - 1) / RI_n``; CR above ``max_cr`` (0.1) is an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import xlogy

from ._validation import (
    DataError,
    ParameterError,
    Values,
    check_choice,
    check_directions,
    check_min_rows,
    check_no_missing,
    check_not_constant,
    check_positive,
    check_values,
    check_weights,
)

__all__ = [
    "RANDOM_INDEX",
    "InconsistentJudgementsError",
    "ahp",
    "combine",
    "consistency_ratio",
    "critic",
    "entropy",
    "equal",
    "expert",
]

# Saaty's random consistency index RI_n for n = 1..15 (Saaty 1980, table 1)
RANDOM_INDEX = (
    0.0,
    0.0,
    0.58,
    0.90,
    1.12,
    1.24,
    1.32,
    1.41,
    1.45,
    1.49,
    1.51,
    1.48,
    1.56,
    1.57,
    1.59,
)


class InconsistentJudgementsError(DataError):
    """An AHP pairwise matrix whose consistency ratio is above the limit; ``cr`` holds it."""

    def __init__(self, cr: float, max_cr: float):
        self.cr, self.max_cr = cr, max_cr
        super().__init__(
            f"the pairwise comparisons are inconsistent: consistency ratio CR = {cr:.3f} "
            f"> {max_cr:g}; revise the judgements"
        )


def _wrap_weights(checked: Values, weights: np.ndarray):
    return weights if checked.is_array else pd.Series(weights, index=checked.frame.columns)


def _unit_minmax(frame: pd.DataFrame, directions, *, method: str) -> np.ndarray:
    """Direction-aware min-max to [0, 1] as a plain array (the fast path of ``minmax``)."""
    oriented = frame.to_numpy() * check_directions(directions, frame.columns)
    low, high = oriented.min(axis=0), oriented.max(axis=0)
    if not (high > low).all():
        check_not_constant(frame, method=method)
    # (in place: the same numbers as (oriented - low) / (high - low), one array not three)
    np.subtract(oriented, low, out=oriented)
    return np.divide(oriented, high - low, out=oriented)


def equal(values):
    """Equal weights, one per indicator column of ``values``.

    Examples
    --------
    >>> equal(np.zeros((2, 4))).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    checked = check_values(values)
    n_indicators = checked.frame.shape[1]
    return _wrap_weights(checked, np.full(n_indicators, 1.0 / n_indicators))


def expert(weights):
    """Expert (given) weights, scaled to sum to 1.

    Parameters
    ----------
    weights : mapping, Series or sequence of non-negative numbers

    Examples
    --------
    >>> expert({"park": 3, "transit": 1}).tolist()
    [0.75, 0.25]
    """
    if isinstance(weights, dict | pd.Series):
        labels = pd.Index(list(weights.keys()) if isinstance(weights, dict) else weights.index)
        return pd.Series(check_weights(weights, labels), index=labels)
    array = np.asarray(weights, dtype=float).ravel()
    return check_weights(array, pd.RangeIndex(len(array)))


def entropy(X, directions, *, normalisation: str = "minmax"):
    """Objective weights from the information entropy of each indicator.

    With ``normalisation="minmax"``: ``x'`` min-max normalised to [0, 1] (direction-aware),
    ``p_ij = x'_ij / sum_i x'_ij``, ``e_j = -sum_i p_ij ln p_ij / ln n`` (``0 ln 0 = 0``),
    ``w_j = (1 - e_j) / sum_k (1 - e_k)``. With ``normalisation="sum"`` the shares are taken
    of the raw (non-negative) values and the direction does not matter.

    Parameters
    ----------
    X : DataFrame or ndarray of shape (n_places, n_indicators)
        No missing values; at least 2 places.
    directions : mapping, Series or sequence of +1/-1
    normalisation : {"minmax", "sum"}

    Returns
    -------
    Series or ndarray of shape (n_indicators,)

    Examples
    --------
    >>> values = pd.DataFrame({"green_space": [0.3, 0.5, 0.4], "transit": [10.0, 10.0, 30.0]})
    >>> entropy(values, directions=[1, 1]).round(3).tolist()
    [0.296, 0.704]
    """
    checked = check_values(X, name="X", copy=False)  # read only
    check_choice("normalisation", normalisation, ("minmax", "sum"))
    frame = checked.frame
    check_no_missing(frame, name="X", method="entropy weights")
    check_min_rows(frame, 2, method="entropy weights")
    if normalisation == "minmax":
        scaled = _unit_minmax(frame, directions, method="entropy weights")
    else:
        check_positive(frame, method="entropy weights on shares", strict=False)
        check_not_constant(frame, method="entropy weights")
        scaled = frame.to_numpy()
    if normalisation == "sum":
        scaled = scaled.copy(order="K")  # (the caller's values, same layout; below works in place)
    shares = np.divide(scaled, scaled.sum(axis=0), out=scaled)
    entropies = -xlogy(shares, shares, out=shares).sum(axis=0) / np.log(len(frame))
    divergence = 1.0 - entropies
    return _wrap_weights(checked, divergence / divergence.sum())


def critic(X, directions):
    """CRITIC weights: contrast (standard deviation) times conflict (1 - correlation).

    ``x'`` min-max normalised to [0, 1] (direction-aware), ``s_j`` its standard deviation,
    ``r_jk`` Pearson correlations, ``C_j = s_j sum_k (1 - r_jk)``, ``w_j = C_j / sum C``.

    Parameters
    ----------
    X : DataFrame or ndarray of shape (n_places, n_indicators)
        No missing values; at least 3 places; no constant indicator.
    directions : mapping, Series or sequence of +1/-1

    Returns
    -------
    Series or ndarray of shape (n_indicators,)

    Examples
    --------
    >>> values = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 1.0, 4.0, 3.0]})
    >>> critic(values, [1, 1]).round(3).tolist()
    [0.5, 0.5]
    """
    checked = check_values(X, name="X")
    frame = checked.frame
    check_no_missing(frame, name="X", method="CRITIC weights")
    check_min_rows(frame, 3, method="CRITIC weights")
    scaled = _unit_minmax(frame, directions, method="CRITIC weights")
    spread = scaled.std(axis=0, ddof=1)
    conflict = (1.0 - np.corrcoef(scaled, rowvar=False).reshape(len(spread), -1)).sum(axis=0)
    information = spread * conflict
    if not information.sum() > 0:
        raise DataError("CRITIC weights are undefined: all indicators are perfectly correlated")
    return _wrap_weights(checked, information / information.sum())


def ahp(pairwise, *, method: str = "eigenvector", max_cr: float = 0.1):
    """Weights and consistency ratio from an AHP pairwise comparison matrix.

    Parameters
    ----------
    pairwise : DataFrame or ndarray of shape (n, n)
        ``a_ij`` = how much more important i is than j (Saaty's 1-9 scale); positive,
        ``a_ii = 1`` and ``a_ji = 1 / a_ij``.
    method : {"eigenvector", "geometric"}
        Principal right eigenvector, or normalised row geometric means (``lambda_max`` for
        the CR is then ``mean((A w) / w)``).
    max_cr : float
        The largest acceptable consistency ratio (Saaty: 0.1).

    Returns
    -------
    weights : Series (by the frame's labels) or ndarray, summing to 1
    cr : float
        Saaty's consistency ratio (0 for n <= 2).

    Raises
    ------
    InconsistentJudgementsError
        If ``cr > max_cr``; the message shows the CR.

    Examples
    --------
    >>> A = np.array([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    >>> weights, cr = ahp(A)
    >>> weights.round(3).tolist(), round(cr, 3)
    ([0.637, 0.258, 0.105], 0.033)
    """
    check_choice("method", method, ("eigenvector", "geometric"))
    if isinstance(max_cr, bool) or not isinstance(max_cr, int | float) or max_cr < 0:
        raise ParameterError("max_cr", "a non-negative number", max_cr)
    labels = pairwise.index if isinstance(pairwise, pd.DataFrame) else None
    matrix = np.asarray(pairwise, dtype=float)
    _check_pairwise(matrix, labels)
    n = len(matrix)
    if method == "eigenvector":
        eigenvalues, eigenvectors = np.linalg.eig(matrix)
        principal = int(np.argmax(eigenvalues.real))
        weights = np.abs(eigenvectors[:, principal].real)
        weights = weights / weights.sum()
        lambda_max = float(eigenvalues[principal].real)
    else:
        weights = np.exp(np.log(matrix).mean(axis=1))
        weights = weights / weights.sum()
        lambda_max = float(np.mean(matrix @ weights / weights))
    cr = consistency_ratio(lambda_max, n)
    if cr > max_cr:
        raise InconsistentJudgementsError(cr, max_cr)
    return (weights if labels is None else pd.Series(weights, index=labels)), cr


def consistency_ratio(lambda_max: float, n: int) -> float:
    """Saaty's CR = ((lambda_max - n) / (n - 1)) / RI_n; 0 when n <= 2.

    Examples
    --------
    >>> round(consistency_ratio(3.0385, 3), 4)
    0.0332
    """
    if n <= 2:
        return 0.0
    if n > len(RANDOM_INDEX):
        raise ParameterError("pairwise", f"at most {len(RANDOM_INDEX)} criteria", n)
    return max(0.0, (lambda_max - n) / (n - 1) / RANDOM_INDEX[n - 1])


def _check_pairwise(matrix: np.ndarray, labels) -> None:
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 1:
        raise ParameterError("pairwise", "a square matrix", f"shape {matrix.shape}")
    name = (lambda i: labels[i]) if labels is not None else (lambda i: i)
    if not np.isfinite(matrix).all() or (matrix <= 0).any():
        i, j = np.argwhere(~(np.isfinite(matrix) & (matrix > 0)))[0]
        raise DataError(
            f"pairwise comparisons must be positive; got {matrix[i, j]!r} at row {name(i)!r}, "
            f"column {name(j)!r}"
        )
    off = ~np.isclose(matrix * matrix.T, 1.0, rtol=1e-6, atol=1e-9)
    if off.any():
        i, j = np.argwhere(off)[0]
        raise DataError(
            f"pairwise comparisons must be reciprocal (a_ji = 1 / a_ij); row {name(i)!r}, "
            f"column {name(j)!r} has {matrix[i, j]:g} but the mirror entry is {matrix[j, i]:g}"
        )


def combine(*weight_sets, method: str = "product", coefficients=None):
    """Combine several weight sets over the same indicators into one.

    ``"product"``: ``w_j ∝ prod_s w_sj`` (e.g. expert x entropy, the usual
    subjective-objective combination); ``"linear"``: ``w_j = sum_s c_s w_sj`` with
    ``coefficients`` ``c_s`` summing to 1 (default equal).

    Parameters
    ----------
    *weight_sets : Series (by indicator code) or arrays of equal length
    method : {"product", "linear"}
    coefficients : sequence of float, optional
        One per weight set, for ``"linear"``.

    Examples
    --------
    >>> combine(np.array([0.5, 0.5]), np.array([0.2, 0.8])).tolist()
    [0.2, 0.8]
    >>> combine(np.array([0.5, 0.5]), np.array([0.2, 0.8]), method="linear").tolist()
    [0.35, 0.65]
    """
    check_choice("method", method, ("product", "linear"))
    if len(weight_sets) < 2:
        raise ParameterError("weight_sets", "at least two weight sets", len(weight_sets))
    labelled = isinstance(weight_sets[0], pd.Series)
    labels = weight_sets[0].index if labelled else pd.RangeIndex(len(weight_sets[0]))
    stacked = np.vstack(
        [check_weights(w, labels, name=f"weight_sets[{i}]") for i, w in enumerate(weight_sets)]
    )
    if method == "product":
        combined = stacked.prod(axis=0)
        if not combined.sum() > 0:
            raise DataError("the product of the weight sets is zero for every indicator")
    else:
        share = (
            np.full(len(weight_sets), 1.0 / len(weight_sets))
            if coefficients is None
            else np.asarray(coefficients, dtype=float)
        )
        if (
            share.shape != (len(weight_sets),)
            or (share < 0).any()
            or not np.isclose(share.sum(), 1)
        ):
            raise ParameterError(
                "coefficients",
                f"{len(weight_sets)} non-negative numbers summing to 1",
                coefficients,
            )
        combined = share @ stacked
    combined = combined / combined.sum()
    return pd.Series(combined, index=labels) if labelled else combined
