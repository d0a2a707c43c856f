"""The composite index: the OECD/JRC handbook steps over a tree indicator → dimension → index.

:class:`CompositeIndex` stores the choices of every step; :meth:`CompositeIndex.compute`
runs them on a wide frame of values and returns an :class:`IndexResult` holding every
stage. :func:`compute_index` is the same as a function.

The choices are a plain dict (the platform stores it as YAML), one entry per step::

    {
        "impute": {"method": "group_mean"},             # impute.impute
        "screen": {"min_availability": 0.9},            # screening.screen (places)
        "treat": {"method": "winsorise_then_log", "winmax": 5,
                  "skew_threshold": 2.0, "kurtosis_threshold": 3.5},   # outliers.treat
        "normalise": {"method": "minmax", "low": 0, "high": 100},     # normalise.*
        "weights": {"indicators": {"method": "entropy"},               # within each dimension
                    "dimensions": {"method": "expert", "expert": {...}}},  # higher levels
        "aggregate": {"dimension": "arithmetic", "index": "arithmetic",
                      "topsis_normalisation": "vector"},
    }

A weighting is ``{"method": m}`` with ``m`` one of ``equal, expert, entropy, critic, ahp``,
or a combination ``{"method": "product" | "linear", "of": [m1, m2, ...], "coefficients":
[...]}``; ``expert`` gives ``{code: weight}``; AHP gives ``order`` (codes) and ``pairwise``
(a matrix in that order, optionally with ``ahp_variant``); the weights of a parent's
children come from the sub-matrix of those children. ``weights.indicators`` weighs the
indicators of each dimension (entropy and CRITIC on the treated values);
``weights.dimensions`` weighs the children of every higher node. ``aggregate.dimension``
aggregates indicators into dimensions and ``aggregate.index`` every higher level.
``normalise.low``/``high`` set the range of ``minmax``, ``percentile_rank`` and
``distance_to_target`` (which takes ``targets``); ``zscore`` and ``rank`` ignore them.

The tree is a mapping ``child -> parent`` or a frame with columns ``code``, ``parent`` and
optionally ``weight`` (default expert weights); it has one root (the index).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import aggregate, impute, normalise, outliers, screening, weights
from ._validation import (
    DataError,
    ParameterError,
    check_choice,
    check_directions,
    check_groups,
    check_values,
)

__all__ = ["DEFAULT_STEPS", "CompositeIndex", "IndexResult", "Tree", "compute_index"]

WEIGHTINGS = ("equal", "expert", "entropy", "critic", "ahp")
AGGREGATIONS = ("arithmetic", "geometric", "topsis")
RANGED_NORMALISATIONS = ("minmax", "percentile_rank", "distance_to_target")

DEFAULT_STEPS: dict[str, dict[str, Any]] = {
    "impute": {"method": "none"},
    "screen": {"min_availability": 0.0},
    "treat": {
        "method": "none",
        "winmax": 5,
        "skew_threshold": 2.0,
        "kurtosis_threshold": 3.5,
    },
    "normalise": {"method": "minmax", "low": 0.0, "high": 100.0},
    "weights": {"indicators": {"method": "equal"}, "dimensions": {"method": "equal"}},
    "aggregate": {
        "dimension": "arithmetic",
        "index": "arithmetic",
        "topsis_normalisation": "vector",
    },
}
WEIGHTING_FIELDS = ("method", "of", "coefficients", "expert", "ahp_variant", "order", "pairwise")


@dataclass(frozen=True)
class Tree:
    """A checked hierarchy: ``parent`` of every node, leaves (indicators) and the root.

    ``aggregates`` lists the non-leaf nodes children-first, the order of aggregation.
    """

    parent: pd.Series
    weight: pd.Series
    root: str
    indicators: pd.Index
    aggregates: tuple

    @classmethod
    def from_any(cls, tree) -> Tree:
        """Build from a mapping child → parent or a frame with ``code, parent[, weight]``."""
        if isinstance(tree, pd.DataFrame):
            missing = {"code", "parent"} - set(tree.columns)
            if missing:
                raise ParameterError(
                    "tree", "a frame with columns code, parent[, weight]", sorted(missing)
                )
            parents = tree.set_index("code")["parent"]
            node_weight = tree.set_index("code")["weight"] if "weight" in tree else None
        elif isinstance(tree, Mapping):
            parents, node_weight = pd.Series(dict(tree), dtype=object), None
        else:
            raise ParameterError(
                "tree", "a mapping child -> parent or a frame", type(tree).__name__
            )
        parents = parents[parents.notna() & (parents.astype(str) != "")]
        if not parents.index.is_unique:
            raise DataError(
                "`tree` gives a node two parents",
                indicator=parents.index[parents.index.duplicated()][0],
            )
        roots = sorted(set(parents) - set(parents.index))
        if len(roots) != 1:
            raise DataError(f"`tree` must have exactly one root (the index); found {roots}")
        children = parents.groupby(parents).groups
        indicators = pd.Index([code for code in parents.index if code not in children])
        heights: dict = {}

        def height(node, path=()):
            if node in path:
                raise DataError("`tree` has a cycle", indicator=node)
            if node not in heights:
                kids = children.get(node, [])
                heights[node] = (
                    0 if len(kids) == 0 else 1 + max(height(k, (*path, node)) for k in kids)
                )
            return heights[node]

        height(roots[0])
        unreachable = [code for code in parents.index if code not in heights]
        if unreachable:
            raise DataError("`tree` has a node not connected to the root", indicator=unreachable[0])
        aggregates = tuple(
            sorted((n for n in heights if heights[n] > 0), key=lambda n: (heights[n], str(n)))
        )
        weight = pd.Series(1.0, index=parents.index)
        if node_weight is not None:
            weight = node_weight.reindex(parents.index).astype(float).fillna(1.0)
        return cls(parents, weight, roots[0], indicators, aggregates)

    def children(self, node) -> pd.Index:
        return self.parent.index[self.parent == node]

    def effective_weights(self, local: pd.Series) -> pd.Series:
        """Each indicator's weight in the root: the product of local weights up the tree."""
        result = local.reindex(self.indicators).copy()
        for code in self.indicators:
            node = self.parent[code]
            while node != self.root:
                result[code] *= local[node]
                node = self.parent[node]
        return result


@dataclass(frozen=True)
class IndexResult:
    """Every stage of a composite index computation.

    Attributes
    ----------
    imputed, screened, treated, normalised : DataFrame
        The indicator values after each step (rows = places kept by screening from
        ``screened`` on).
    treatment : DataFrame
        What outlier treatment did to each indicator (see :func:`outliers.treatment_details`).
    scores : DataFrame
        One column per aggregate node (dimensions, ..., the index), rows = places.
    index : Series
        The index score of each place.
    ranks, peer_ranks : Series
        Rank of each place (1 = best; within year for panel data); ``peer_ranks`` within
        the place's peer group (None without groups).
    weights : Series
        Weight of every node within its parent (each parent's children sum to 1).
    effective_weights : Series
        Each indicator's weight in the index.
    obstacle_degrees : DataFrame
        Share of each place's shortfall due to each indicator (rows sum to 1).
    steps : dict
        The complete choices used, defaults filled (store this to reproduce the result).
    """

    imputed: pd.DataFrame
    screened: pd.DataFrame
    treated: pd.DataFrame
    treatment: pd.DataFrame
    normalised: pd.DataFrame
    scores: pd.DataFrame
    index: pd.Series
    ranks: pd.Series
    peer_ranks: pd.Series | None
    weights: pd.Series
    effective_weights: pd.Series
    obstacle_degrees: pd.DataFrame
    steps: dict = field(default_factory=dict)


class CompositeIndex:
    """A composite index method: the tree, directions and the choices of each step.

    Only stores its arguments; :meth:`compute` does the work. See the module docstring for
    the form of each step.

    Parameters
    ----------
    tree : mapping child -> parent, or DataFrame with ``code, parent[, weight]``
    directions : mapping, Series or sequence of +1/-1 per indicator
    impute, screen, treat, normalise, weights, aggregate : dict or str, optional
        The step's choices (a str is short for ``{"method": str}``); missing entries take
        :data:`DEFAULT_STEPS`.
    groups : Series or mapping by place, optional
        Peer group (e.g. city class) of each place: for ``group_mean`` imputation and
        peer ranks. For panel data, by the place level of the index.
    targets : mapping, optional
        Target per indicator, for ``normalise.method = "distance_to_target"``.
    year_level : str
        Name of the year level of a panel index (ranks are within year).

    Examples
    --------
    >>> values = pd.DataFrame({"park": [10.0, 20.0, 30.0], "pm25": [50.0, 30.0, 40.0],
    ...                        "bus": [1.0, 3.0, 2.0]}, index=["a", "b", "c"])
    >>> tree = {"park": "green", "pm25": "green", "bus": "transport",
    ...         "green": "index", "transport": "index"}
    >>> model = CompositeIndex(tree, {"park": 1, "pm25": -1, "bus": 1})
    >>> result = model.compute(values)
    >>> result.index.round(2).tolist(), result.ranks.tolist()
    ([0.0, 87.5, 62.5], [3, 1, 2])
    """

    def __init__(
        self,
        tree,
        directions,
        *,
        impute=None,
        screen=None,
        treat=None,
        normalise=None,
        weights=None,
        aggregate=None,
        groups=None,
        targets=None,
        year_level: str = "year",
    ):
        self.tree = tree
        self.directions = directions
        self.impute = impute
        self.screen = screen
        self.treat = treat
        self.normalise = normalise
        self.weights = weights
        self.aggregate = aggregate
        self.groups = groups
        self.targets = targets
        self.year_level = year_level

    @classmethod
    def from_spec(cls, steps: Mapping, tree, directions, **options) -> CompositeIndex:
        """Build from a dict of steps (as stored in YAML); an unknown step is an error."""
        if not isinstance(steps, Mapping):
            raise ParameterError("steps", "a mapping of step name to choices", type(steps).__name__)
        unknown = sorted(set(steps) - set(DEFAULT_STEPS))
        if unknown:
            raise ParameterError("steps", "keys among " + ", ".join(DEFAULT_STEPS), unknown[0])
        return cls(tree, directions, **dict(steps), **options)

    def resolved_steps(self) -> dict:
        """The choices of every step with defaults filled, checked for unknown keys."""
        resolved = {}
        for step, default in DEFAULT_STEPS.items():
            given = getattr(self, step)
            if isinstance(given, str) and step not in ("weights", "aggregate"):
                given = {"method": given}
            if given is None:
                given = {}
            if not isinstance(given, Mapping):
                raise ParameterError(step, "a mapping of choices or a method name", given)
            unknown = sorted(set(given) - set(default))
            if unknown:
                raise ParameterError(
                    f"{step}.{unknown[0]}", "one of " + ", ".join(default), unknown[0]
                )
            merged = {**copy.deepcopy(default), **{k: v for k, v in given.items() if v is not None}}
            resolved[step] = merged
        for level in ("indicators", "dimensions"):
            resolved["weights"][level] = _resolve_weighting(resolved["weights"][level], level)
        for key in ("dimension", "index"):
            check_choice(f"aggregate.{key}", resolved["aggregate"][key], AGGREGATIONS)
        return resolved

    def compute(self, values) -> IndexResult:
        """Run every step on ``values`` (a wide frame: rows = places or place-years)."""
        steps = self.resolved_steps()
        checked = check_values(values)
        if checked.is_array:
            raise ParameterError("values", "a DataFrame with indicator codes as columns", "ndarray")
        tree = Tree.from_any(self.tree)
        frame = _check_columns(checked.frame, tree)
        signs = pd.Series(check_directions(self.directions, frame.columns), frame.columns)
        groups = self._row_groups(frame) if self.groups is not None else None

        imputed = impute.impute(
            frame, method=steps["impute"]["method"], groups=groups, year_level=self.year_level
        )
        screened = screening.screen(imputed, min_availability=steps["screen"]["min_availability"])
        treated, treatment = outliers._treat_frame(screened, **steps["treat"])
        normalised = self._normalise(treated, signs, steps["normalise"])

        local = self._local_weights(tree, treated, signs, steps["weights"])
        scores = _aggregate_tree(tree, normalised, local, steps["aggregate"])
        index_scores = scores[tree.root].rename("index")

        kept_groups = groups.reindex(index_scores.index) if groups is not None else None
        ranks = self._ranks(index_scores, None)
        peer_ranks = self._ranks(index_scores, kept_groups) if kept_groups is not None else None
        effective = tree.effective_weights(local)
        unit_scale = normalise.minmax(treated, signs, low=0.0, high=1.0)
        obstacles = aggregate.obstacle_degree(unit_scale.fillna(1.0), effective)
        return IndexResult(
            imputed=imputed,
            screened=screened,
            treated=treated,
            treatment=treatment,
            normalised=normalised,
            scores=scores,
            index=index_scores,
            ranks=ranks,
            peer_ranks=peer_ranks,
            weights=local,
            effective_weights=effective,
            obstacle_degrees=obstacles,
            steps=steps,
        )

    def _row_groups(self, frame: pd.DataFrame) -> pd.Series:
        if frame.index.nlevels > 1 and isinstance(self.groups, Mapping | pd.Series):
            places = frame.index.droplevel(self.year_level)
            keys = check_groups(self.groups, pd.Index(places.unique()))
            return pd.Series(keys.reindex(places).to_numpy(), index=frame.index)
        return check_groups(self.groups, frame.index)

    def _ranks(self, scores: pd.Series, groups: pd.Series | None) -> pd.Series:
        keys = []
        if scores.index.nlevels > 1:
            keys.append(scores.index.get_level_values(self.year_level).astype(str))
        if groups is not None:
            keys.append(groups.astype(str).to_numpy())
        if not keys:
            return aggregate.rank_places(scores)
        combined = pd.Series(
            ["|".join(parts) for parts in zip(*keys, strict=True)], index=scores.index
        )
        return aggregate.rank_places(scores, groups=combined)

    def _normalise(self, treated: pd.DataFrame, signs: pd.Series, options: dict) -> pd.DataFrame:
        method, low, high = options["method"], options["low"], options["high"]
        check_choice("normalise.method", method, normalise.METHODS)
        if not low < high:
            raise ParameterError("normalise.low, normalise.high", "low < high", (low, high))
        if method == "minmax":
            return normalise.minmax(treated, signs, low=low, high=high)
        if method == "distance_to_target":
            if self.targets is None:
                raise ParameterError(
                    "targets", "a target per indicator for distance_to_target", None
                )
            unit = normalise.distance_to_target(treated, signs, targets=self.targets, scale=1.0)
        elif method == "goalposts":
            raise ParameterError("normalise.method", "a method without per-indicator posts", method)
        else:
            unit = normalise.METHODS[method](treated, signs)
            if method not in RANGED_NORMALISATIONS:
                return unit
        return unit * (high - low) + low

    def _local_weights(self, tree: Tree, treated, signs, weighting: dict) -> pd.Series:
        local = pd.Series(np.nan, index=tree.parent.index)
        for node in tree.aggregates:
            children = tree.children(node)
            leaf_level = children.isin(tree.indicators).all()
            spec = weighting["indicators" if leaf_level else "dimensions"]
            data = treated[children] if leaf_level else None
            local[children] = _weigh(children, spec, tree, data, signs)
        return local


def compute_index(
    values, *, tree, directions, steps: Mapping | None = None, **options
) -> IndexResult:
    """Function form of :class:`CompositeIndex`: ``CompositeIndex.from_spec(...).compute(values)``.

    Examples
    --------
    >>> values = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    >>> compute_index(values, tree={"a": "index", "b": "index"}, directions=[1, 1]).index.tolist()
    [50.0, 25.0, 75.0]
    """
    return CompositeIndex.from_spec(steps or {}, tree, directions, **options).compute(values)


def _check_columns(frame: pd.DataFrame, tree: Tree) -> pd.DataFrame:
    unknown = [code for code in frame.columns if code not in tree.indicators]
    if unknown:
        raise DataError("`values` has an indicator that is not in the tree", indicator=unknown[0])
    missing = [code for code in tree.indicators if code not in frame.columns]
    if missing:
        raise DataError("`values` has no column for an indicator of the tree", indicator=missing[0])
    return frame[list(tree.indicators)]


def _resolve_weighting(spec, level: str) -> dict:
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
    if resolved["method"] in ("product", "linear"):
        parts = resolved["of"] or []
        if len(parts) < 2:
            raise ParameterError(f"{name}.of", "at least two weighting methods to combine", parts)
        for i, part in enumerate(parts):
            check_choice(f"{name}.of[{i}]", part, WEIGHTINGS)
    return resolved


def _weigh(children: pd.Index, spec: dict, tree: Tree, data, signs) -> np.ndarray:
    """Weights of a parent's children (summing to 1) under one weighting spec."""
    combined = spec["method"] in ("product", "linear")
    parts = spec["of"] if combined else [spec["method"]]
    sets = [
        pd.Series(_single_weights(part, children, spec, tree, data, signs), index=children)
        for part in parts
    ]
    if len(sets) == 1:
        return sets[0].to_numpy()
    how = spec["method"]
    return weights.combine(*sets, method=how, coefficients=spec["coefficients"]).to_numpy()


def _single_weights(method: str, children: pd.Index, spec: dict, tree: Tree, data, signs):
    if len(children) == 1:
        return np.ones(1)
    if method == "equal":
        return np.full(len(children), 1.0 / len(children))
    if method == "expert":
        given = spec["expert"]
        source = tree.weight if given is None else pd.Series(given, dtype=float)
        missing = [c for c in children if c not in source.index]
        if missing:
            raise DataError("expert weights have no weight", indicator=missing[0])
        return weights.expert(source.reindex(children)).to_numpy()
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
        result, _ = weights.ahp(
            matrix.loc[children, children], method=spec["ahp_variant"] or "eigenvector"
        )
        return result.to_numpy()
    if data is None:
        raise ParameterError(
            "weights.dimensions.method", "equal, expert or ahp above the indicator level", method
        )
    objective = weights.entropy if method == "entropy" else weights.critic
    return objective(data, signs[children]).to_numpy()


def _aggregate_tree(
    tree: Tree, normalised: pd.DataFrame, local: pd.Series, options: dict
) -> pd.DataFrame:
    """Scores of every aggregate node, children first."""
    scores: dict = {}
    for node in tree.aggregates:
        children = tree.children(node)
        leaf_level = children.isin(tree.indicators).all()
        method = options["dimension" if leaf_level else "index"]
        data = pd.DataFrame({c: normalised[c] if c in normalised else scores[c] for c in children})
        node_weights = local[children]
        if method == "topsis":
            result = aggregate.topsis(
                data,
                node_weights,
                np.ones(len(children)),
                normalisation=options["topsis_normalisation"],
            )
        else:
            result = aggregate.METHODS[method](data, node_weights)
        scores[node] = result
    return pd.DataFrame(scores, index=normalised.index)
