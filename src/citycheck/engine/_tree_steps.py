"""Weighting and aggregating over the index tree, level by level.

:func:`resolve_weighting` checks one level's weighting choices, :func:`local_weights`
gives every node's weight within its parent (each parent's children summing to 1, with
the AHP consistency ratio of each parent's sub-matrix), and :func:`aggregate_tree` scores
every aggregate node, children first. Used by :class:`citycheck.engine.index.CompositeIndex`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import aggregate, weights
from ._tree import Tree
from ._validation import DataError, ParameterError, check_choice

WEIGHTINGS = ("equal", "expert", "entropy", "critic", "ahp")
OBJECTIVE_WEIGHTINGS = ("entropy", "critic")
WEIGHTING_FIELDS = ("method", "of", "coefficients", "expert", "ahp_variant", "order", "pairwise")


def resolve_weighting(spec, level: str) -> dict:
    name = f"weights.{level}"
    if isinstance(spec, str):
        spec = {"method": spec}
    if not isinstance(spec, Mapping):
        raise ParameterError(name, "a mapping with a method", spec)
    unknown = sorted(set(spec) - set(WEIGHTING_FIELDS))
    if unknown:
        raise ParameterError(
            f"{name}.{unknown[0]}", "one of " + ", ".join(WEIGHTING_FIELDS), unknown[0]
        )
    resolved = {key: spec.get(key) for key in WEIGHTING_FIELDS}
    resolved["method"] = resolved["method"] or "equal"
    check_choice(f"{name}.method", resolved["method"], (*WEIGHTINGS, "product", "linear"))
    parts = [resolved["method"]]
    if resolved["method"] in ("product", "linear"):
        parts = resolved["of"] or []
        if len(parts) < 2:
            raise ParameterError(f"{name}.of", "at least two weighting methods to combine", parts)
        for i, part in enumerate(parts):
            check_choice(f"{name}.of[{i}]", part, WEIGHTINGS)
    if level == "dimensions" and set(parts) & set(OBJECTIVE_WEIGHTINGS):
        raise ParameterError(
            f"{name}.method", "equal, expert or ahp above the indicator level", resolved["method"]
        )
    return resolved


def local_weights(tree: Tree, treated, signs, weighting: dict) -> tuple[pd.Series, pd.Series]:
    """Weight of every node within its parent, and the AHP consistency ratio per parent."""
    local = pd.Series(np.nan, index=tree.parent.index)
    consistency = {}
    for node in tree.aggregates:
        children = tree.children(node)
        leaf_level = tree.aggregation_level(node) == "dimension"
        spec = weighting["indicators" if leaf_level else "dimensions"]
        data = treated[children] if leaf_level else None
        local[children], cr = _weigh(children, spec, tree, data, signs)
        if cr is not None:
            consistency[node] = cr
    return local, pd.Series(consistency, dtype=float)


def _weigh(children: pd.Index, spec: dict, tree: Tree, data, signs):
    """Weights of a parent's children (summing to 1) under one weighting spec, and the
    AHP consistency ratio when AHP took part."""
    combined = spec["method"] in ("product", "linear")
    parts = spec["of"] if combined else [spec["method"]]
    sets, cr = [], None
    for part in parts:
        found, ratio = _single_weights(part, children, spec, tree, data, signs)
        sets.append(pd.Series(found, index=children))
        cr = ratio if ratio is not None else cr
    if len(sets) == 1:
        return sets[0].to_numpy(), cr
    how = spec["method"]
    return weights.combine(*sets, method=how, coefficients=spec["coefficients"]).to_numpy(), cr


def _single_weights(method: str, children: pd.Index, spec: dict, tree: Tree, data, signs):
    if len(children) == 1:
        return np.ones(1), None
    if method == "equal":
        return np.full(len(children), 1.0 / len(children)), None
    if method == "expert":
        given = spec["expert"]
        source = tree.weight if given is None else pd.Series(given, dtype=float)
        return weights.expert(source.reindex(children).fillna(1.0)).to_numpy(), None
    if method == "ahp":
        order = list(spec["order"] or [])
        if spec["pairwise"] is None or not order:
            raise ParameterError(
                "weights.*.pairwise", "an order and a pairwise matrix for AHP", None
            )
        matrix = pd.DataFrame(np.asarray(spec["pairwise"], dtype=float), index=order, columns=order)
        missing = [c for c in children if c not in order]
        if missing:
            raise DataError("the AHP order does not list a node", indicator=missing[0])
        result, cr = weights.ahp(
            matrix.loc[children, children], method=spec["ahp_variant"] or "eigenvector"
        )
        return result.to_numpy(), float(cr)
    if data is None:
        raise ParameterError(
            "weights.dimensions.method", "equal, expert or ahp above the indicator level", method
        )
    objective = weights.entropy if method == "entropy" else weights.critic
    return objective(data.dropna(), signs[children]).to_numpy(), None


def aggregate_tree(
    tree: Tree, normalised: pd.DataFrame, local: pd.Series, options: dict, scale: dict
) -> pd.DataFrame:
    """Scores of every aggregate node, children first."""
    scores: dict = {}
    for node in tree.aggregates:
        children = tree.children(node)
        method = options[tree.aggregation_level(node)]
        data = pd.DataFrame({c: normalised[c] if c in normalised else scores[c] for c in children})
        node_weights = local[children]
        if method == "topsis":
            closeness = aggregate.topsis(
                data,
                node_weights,
                np.ones(len(children)),
                normalisation=options["topsis_normalisation"],
            )
            result = scale["low"] + closeness * (scale["high"] - scale["low"])
        else:
            # a place with no value under this node has no score here; the next level
            # skips it and re-scales the place's weights
            scored = data.notna().any(axis=1)
            result = pd.Series(np.nan, index=data.index)
            if scored.any():
                result[scored] = aggregate.METHODS[method](data[scored], node_weights)
        scores[node] = result
    return pd.DataFrame(scores, index=normalised.index)
