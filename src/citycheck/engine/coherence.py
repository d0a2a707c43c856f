"""Statistical coherence of the indicator tree (OECD/JRC handbook step 4, multivariate analysis).

For each dimension: Cronbach's alpha of its indicators and their mean pairwise
correlation; for each indicator: its correlation with its own dimension's score. Weak
dimensions (alpha below ``min_alpha``) and weak or negative indicators (correlation with
the dimension below ``min_correlation``) are flagged; they are signs that an indicator
does not measure what its dimension claims, or that its direction is wrong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._tree import Tree
from ._validation import DataError, check_fraction, check_min_rows, check_values

__all__ = ["coherence", "cronbach_alpha"]


def cronbach_alpha(values) -> float:
    """Cronbach's alpha of the columns of ``values`` (rows with a missing value are dropped).

    ``alpha = k / (k - 1) * (1 - sum_j var(x_j) / var(sum_j x_j))``.

    Examples
    --------
    >>> values = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 2.0, 4.0, 3.0]})
    >>> round(cronbach_alpha(values), 3)
    0.889
    """
    frame = check_values(values).frame.dropna()
    if frame.shape[1] < 2:
        raise DataError("Cronbach's alpha needs at least 2 indicators")
    check_min_rows(frame, 3, method="Cronbach's alpha")
    total_variance = frame.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        raise DataError("Cronbach's alpha is undefined: the summed score is constant")
    k = frame.shape[1]
    return float(k / (k - 1) * (1 - frame.var(ddof=1).sum() / total_variance))


def coherence(normalised, scores, *, tree, min_alpha: float = 0.6, min_correlation: float = 0.3):
    """Coherence checks of each dimension and each indicator.

    Parameters
    ----------
    normalised : DataFrame
        Normalised indicator values (higher is better), e.g. ``IndexResult.normalised``.
    scores : DataFrame
        Aggregate scores by node, e.g. ``IndexResult.scores``.
    tree : mapping child -> parent or frame
    min_alpha : float
        Flag a dimension whose Cronbach's alpha is below this.
    min_correlation : float in [-1, 1]
        Flag an indicator whose Pearson correlation with its dimension is below this.

    Returns
    -------
    dimensions : DataFrame
        By dimension: ``n_indicators, cronbach_alpha, mean_correlation, weak``.
    indicators : DataFrame
        By indicator: ``dimension, correlation_with_dimension, weak``.

    Examples
    --------
    >>> normalised = pd.DataFrame({"a": [0.0, 50.0, 100.0, 20.0], "b": [10.0, 60.0, 90.0, 0.0],
    ...                            "c": [100.0, 50.0, 0.0, 70.0]})
    >>> tree = {"a": "d", "b": "d", "c": "d", "d": "index"}
    >>> scores = pd.DataFrame({"d": normalised.mean(axis=1)})
    >>> dimensions, indicators = coherence(normalised, scores, tree=tree)
    >>> indicators["weak"].tolist()
    [False, False, True]
    """
    frame = check_values(normalised, name="normalised").frame
    score_frame = check_values(scores, name="scores").frame
    check_fraction("min_alpha", min_alpha, low=-np.inf, high=1.0)
    check_fraction("min_correlation", min_correlation, low=-1.0, high=1.0)
    structure = Tree.from_any(tree)
    dimension_rows, indicator_rows = {}, {}
    for dimension in structure.aggregates:
        children = [c for c in structure.children(dimension) if c in frame.columns]
        if not children:
            continue
        if dimension not in score_frame.columns:
            raise DataError("`scores` has no column for a dimension", indicator=dimension)
        block = frame[children]
        correlations = block.corrwith(score_frame[dimension])
        for code in children:
            indicator_rows[code] = {
                "dimension": dimension,
                "correlation_with_dimension": correlations[code],
                "weak": not correlations[code] >= min_correlation,
            }
        if len(children) >= 2:
            try:
                alpha = cronbach_alpha(block)
            except DataError:  # too few complete places, or a constant sum
                alpha = np.nan
            pairwise = block.corr().to_numpy()[np.triu_indices(len(children), 1)]
            mean_correlation = float(np.nanmean(pairwise))
        else:
            alpha = mean_correlation = np.nan
        dimension_rows[dimension] = {
            "n_indicators": len(children),
            "cronbach_alpha": alpha,
            "mean_correlation": mean_correlation,
            "weak": bool(len(children) >= 2 and not alpha >= min_alpha),
        }
    return pd.DataFrame.from_dict(dimension_rows, orient="index"), pd.DataFrame.from_dict(
        indicator_rows, orient="index"
    )
