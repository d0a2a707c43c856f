"""The hierarchy of a composite index: indicators → dimensions → … → the index.

:class:`Tree` checks a mapping child → parent (or a frame ``code, parent[, weight]``) and
gives the order of aggregation; :mod:`citycheck.engine.index`,
:mod:`citycheck.engine.uncertainty` and :mod:`citycheck.engine.coherence` share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from ._validation import DataError, ParameterError

__all__ = ["Tree"]


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

    def aggregation_level(self, node) -> str:
        """``"dimension"`` for a node whose children are all indicators, else ``"index"``:
        the key of ``aggregate`` (and of the uncertainty draws) that aggregates it."""
        return "dimension" if self.children(node).isin(self.indicators).all() else "index"

    def without(self, indicators: Iterable) -> tuple[Tree, list]:
        """The tree without ``indicators`` and without the aggregates left with no child;
        also the list of those aggregates (the root is never removed)."""
        parent = self.parent.drop(index=list(indicators))
        emptied = []
        while True:
            childless = [
                node
                for node in parent.index
                if node not in self.indicators and node not in set(parent)
            ]
            if not childless:
                break
            emptied += childless
            parent = parent.drop(index=childless)
        if parent.empty:
            raise DataError("no indicator of the tree is left to compute the index")
        pruned = Tree.from_any(parent.to_dict())
        kept_weight = self.weight.reindex(pruned.parent.index)
        return Tree(
            pruned.parent, kept_weight, pruned.root, pruned.indicators, pruned.aggregates
        ), emptied
