"""The composite index: the OECD/JRC handbook steps over a tree indicator → dimension → index.

:class:`CompositeIndex` stores the method (tree, directions and the choices of every
step); :meth:`CompositeIndex.compute` runs it on a wide frame of values and returns an
:class:`IndexResult` holding every stage, like COINr's "coin": the values as they enter,
imputed, screened, treated and normalised values, scores of every node, ranks and peer
ranks, weights, obstacle degrees, rank intervals, coherence, what was imputed, who was
screened out, which indicators left the index and why, and a method log.
:func:`compute_index` is the same as a function. It is the only code that turns a method
and values into scores: the platform's releases and the what-if page both call it.

The choices are a plain dict (the platform stores it as YAML), one entry per step::

    {
        "impute": {"method": "group_mean"},             # impute.impute
        "screen": {"min_availability": 0.9, "basis": "imputed"},   # screening.screen
        "treat": {"method": "winsorise_then_log", "winmax": 5,
                  "skew_threshold": 2.0, "kurtosis_threshold": 3.5,
                  "if_constant": "untreated"},          # outliers.treat
        "normalise": {"method": "minmax", "low": 0, "high": 100},     # normalise.on_scale
        "weights": {"indicators": {"method": "entropy"},               # within each dimension
                    "dimensions": {"method": "expert", "expert": {...}}},  # higher levels
        "aggregate": {"dimension": "arithmetic", "index": "arithmetic",
                      "topsis_normalisation": "vector"},
        "uncertainty": {"draws": 0, "random_state": None, "weight_spread": 0.25,
                        "normalisation": [], "aggregation": []},      # uncertainty.monte_carlo
        "coherence": {"min_alpha": 0.6, "min_correlation": 0.3},       # coherence.coherence
    }

* **Ranges.** An indicator whose direction is ``0`` (best inside a band) enters as its
  distance outside the place's band ``[low, high]`` (0 inside; lower is better), from
  ``bands``.
* **Screening** keeps the places whose share of values is at least ``min_availability``;
  ``basis: "imputed"`` (COINr's example) measures it after imputation, ``"values"`` on the
  values as given, before imputation (so a place that reported nothing is not ranked on
  imputed numbers alone); the places screened out are not imputed, ranked or scored.
* **Imputation** ``previous_year`` on a single year takes each place's latest value from
  ``history`` (rows ``(place, year)``, earlier years).
* **Indicators leaving the index** are listed in ``IndexResult.left_out`` with the reason:
  ``excluded`` (the method's ``exclude``), ``no_values`` (no ranked place has a value),
  ``constant`` (one value for every ranked place: it cannot tell them apart), and
  ``constant_after_treatment`` when ``treat.if_constant`` is ``"drop"``. With the default
  ``"untreated"`` an indicator that outlier treatment would make constant is kept
  untreated (``treatment.kept_untreated``). An aggregate left with no indicator leaves
  too (``no_indicators``).
* **Weights.** A weighting is ``{"method": m}`` with ``m`` one of ``equal, expert,
  entropy, critic, ahp``, or a combination ``{"method": "product" | "linear", "of": [m1,
  m2, ...], "coefficients": [...]}``. ``expert`` gives ``{code: weight}``; a child it does
  not list weighs 1 (the tree's ``weight`` column when no ``expert`` is given). AHP gives
  ``order`` (codes) and ``pairwise`` (a matrix in that order, optionally
  ``ahp_variant``); the weights of a parent's children come from the sub-matrix of those
  children, whose consistency ratio is in ``IndexResult.consistency``. Entropy and
  CRITIC weigh indicators only (on the treated values of the places with all of that
  dimension's values); ``weights.dimensions`` with them is refused.
* **Aggregation.** ``aggregate.dimension`` aggregates indicators into dimensions and
  ``aggregate.index`` every higher level; a missing value is skipped and the place's
  remaining weights re-scaled (COINr). TOPSIS closeness ``C`` in [0, 1] is put on the
  normalisation's scale: ``low + C (high - low)``.
* **Uncertainty** (``draws > 0``): :func:`citycheck.engine.uncertainty.monte_carlo`
  around the published model, with the published normalisation first in its
  alternatives and the published aggregation of each level; the intervals hold the
  published ranks.

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

from . import aggregate, impute, normalise, outliers, screening, uncertainty
from . import coherence as coherence_module
from ._tree import Tree
from ._tree_steps import (
    OBJECTIVE_WEIGHTINGS,
    WEIGHTINGS,
    aggregate_tree,
    local_weights,
    resolve_weighting,
)
from ._validation import (
    DataError,
    EngineError,
    ParameterError,
    check_choice,
    check_directions,
    check_groups,
    check_values,
)

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_STEPS",
    "LEAVING_REASONS",
    "OBJECTIVE_WEIGHTINGS",
    "WEIGHTINGS",
    "CompositeIndex",
    "IndexResult",
    "Tree",
    "compute_index",
]

AGGREGATIONS = ("arithmetic", "geometric", "topsis")
SCREEN_BASES = ("imputed", "values")
IF_CONSTANT = ("untreated", "drop")
# Why an indicator (or an aggregate) is not in the index.
LEAVING_REASONS = (
    "excluded",
    "no_values",
    "constant",
    "constant_after_treatment",
    "no_indicators",
)
# Outlier treatment needs this many values of an indicator (skewness and kurtosis).
MIN_TREATED_VALUES = 4

DEFAULT_STEPS: dict[str, dict[str, Any]] = {
    "impute": {"method": "none"},
    "screen": {"min_availability": 0.0, "basis": "imputed"},
    "treat": {
        "method": "none",
        "winmax": 5,
        "skew_threshold": 2.0,
        "kurtosis_threshold": 3.5,
        "if_constant": "untreated",
    },
    "normalise": {"method": "minmax", "low": 0.0, "high": 100.0},
    "weights": {"indicators": {"method": "equal"}, "dimensions": {"method": "equal"}},
    "aggregate": {
        "dimension": "arithmetic",
        "index": "arithmetic",
        "topsis_normalisation": "vector",
    },
    "uncertainty": {
        "draws": 0,
        "random_state": None,
        "weight_spread": 0.25,
        "normalisation": [],
        "aggregation": [],
    },
    "coherence": {"min_alpha": 0.6, "min_correlation": 0.3},
}


@dataclass(frozen=True)
class IndexResult:
    """Every stage of a composite index computation.

    Attributes
    ----------
    entered : DataFrame
        The values as they enter the index: range indicators as their distance outside
        the band; every place and indicator given.
    imputed, screened, treated, normalised : DataFrame
        The indicator values after each step; rows = the places kept by screening (for
        ``imputed`` with ``screen.basis = "imputed"``: every place), columns = the
        indicators in the index (``imputed``, ``screened``: every indicator not excluded).
    imputations : DataFrame
        What imputation filled, one row per cell: ``place, indicator, value, method``.
    screened_out : Series
        Share of values (availability) of each place left out by screening.
    left_out : Series
        The reason (:data:`LEAVING_REASONS`) of every indicator or aggregate not in the
        index, by code.
    treatment : DataFrame
        What outlier treatment did to each indicator (see :func:`outliers.treatment_details`),
        plus ``kept_untreated`` and ``too_few_values``.
    scores : DataFrame
        One column per aggregate node (dimensions, ..., the index), rows = places.
    index : Series
        The index score of each place.
    ranks, peer_ranks : Series
        Rank of each place (1 = best; within year for panel data); ``peer_ranks`` within
        the place's peer group (None without groups).
    score_ranks, score_peer_ranks : DataFrame
        The same for every aggregate node (``score_peer_ranks`` None without groups).
    weights : Series
        Weight of every node within its parent (each parent's children sum to 1).
    effective_weights : Series
        Each indicator's weight in the index.
    consistency : Series
        The AHP consistency ratio of each parent whose children AHP weighed.
    obstacle_degrees : DataFrame
        Share of each place's shortfall due to each indicator (rows sum to 1; missing
        where the place has no value).
    coherence : tuple of DataFrame
        ``(dimensions, indicators)`` of :func:`citycheck.engine.coherence.coherence`.
    uncertainty : UncertaintyResult or None
        The Monte Carlo rank intervals (None with ``uncertainty.draws = 0``).
    log : list of str
        What each step did, in order.
    steps : dict
        The complete choices used, defaults filled (store this to reproduce the result).
    """

    entered: pd.DataFrame
    imputed: pd.DataFrame
    screened: pd.DataFrame
    imputations: pd.DataFrame
    screened_out: pd.Series
    left_out: pd.Series
    treated: pd.DataFrame
    treatment: pd.DataFrame
    normalised: pd.DataFrame
    scores: pd.DataFrame
    index: pd.Series
    ranks: pd.Series
    peer_ranks: pd.Series | None
    score_ranks: pd.DataFrame
    score_peer_ranks: pd.DataFrame | None
    weights: pd.Series
    effective_weights: pd.Series
    consistency: pd.Series
    obstacle_degrees: pd.DataFrame
    coherence: tuple
    uncertainty: uncertainty.UncertaintyResult | None
    log: list = field(default_factory=list)
    steps: dict = field(default_factory=dict)


class CompositeIndex:
    """A composite index method: the tree, directions and the choices of each step.

    Only stores its arguments; :meth:`compute` does the work. See the module docstring for
    the form of each step.

    Parameters
    ----------
    tree : mapping child -> parent, or DataFrame with ``code, parent[, weight]``
    directions : mapping, Series or sequence of +1/-1 per indicator (0: best inside a band)
    impute, screen, treat, normalise, weights, aggregate, uncertainty, coherence : dict or str
        The step's choices (a str is short for ``{"method": str}``); missing entries take
        :data:`DEFAULT_STEPS`.
    groups : Series or mapping by place, optional
        Peer group (e.g. city class) of each place: for ``group_mean`` imputation and
        peer ranks. For panel data, by the place level of the index.
    targets : mapping, optional
        Target per indicator, for ``normalise.method = "distance_to_target"``.
    bands : DataFrame, optional
        ``place, indicator, low, high``: the band of each range indicator (direction 0)
        for each place.
    history : DataFrame, optional
        Earlier values, rows ``(place, year)``, for ``previous_year`` imputation of a
        single year.
    exclude : sequence of str
        Indicators kept out of the index (``left_out`` reason ``excluded``).
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
        uncertainty=None,
        coherence=None,
        groups=None,
        targets=None,
        bands=None,
        history=None,
        exclude=(),
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
        self.uncertainty = uncertainty
        self.coherence = coherence
        self.groups = groups
        self.targets = targets
        self.bands = bands
        self.history = history
        self.exclude = exclude
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
            resolved["weights"][level] = resolve_weighting(resolved["weights"][level], level)
        for key in ("dimension", "index"):
            check_choice(f"aggregate.{key}", resolved["aggregate"][key], AGGREGATIONS)
        check_choice("screen.basis", resolved["screen"]["basis"], SCREEN_BASES)
        check_choice("treat.if_constant", resolved["treat"]["if_constant"], IF_CONSTANT)
        draws = resolved["uncertainty"]["draws"]
        if isinstance(draws, bool) or not isinstance(draws, int) or draws < 0:
            raise ParameterError("uncertainty.draws", "0 (none) or an integer >= 10", draws)
        return resolved

    def compute(self, values) -> IndexResult:
        """Run every step on ``values`` (a wide frame: rows = places or place-years)."""
        steps = self.resolved_steps()
        checked = check_values(values)
        if checked.is_array:
            raise ParameterError("values", "a DataFrame with indicator codes as columns", "ndarray")
        full_tree = Tree.from_any(self.tree)
        frame = _check_columns(checked.frame, full_tree)
        signs, ranged = _check_signs(self.directions, frame.columns)
        groups = self._row_groups(frame) if self.groups is not None else None
        log = _Log()

        entered = _enter_ranges(frame, ranged, self.bands)
        if ranged:
            log.add("enter", f"{len(ranged)} range indicator(s) as distance outside the band")
        left_out = {code: "excluded" for code in self.exclude if code in frame.columns}
        unknown = [code for code in self.exclude if code not in frame.columns]
        if unknown:
            raise DataError(
                "`exclude` names an indicator that is not in the tree", indicator=unknown[0]
            )
        candidates = entered.drop(columns=list(left_out))

        imputed, screened, availability = self._impute_and_screen(candidates, steps, groups)
        # (isin, not drop: dropping 30,000 (place, year) labels looks each up one by one)
        screened_out = availability[~availability.index.isin(screened.index)]
        imputations = _imputations(candidates, imputed, screened.index, steps["impute"]["method"])
        log.add("impute", f"{len(imputations)} value(s) imputed ({steps['impute']['method']})")
        log.add(
            "screen",
            f"{len(screened)} of {len(candidates)} place(s) kept "
            f"(availability >= {steps['screen']['min_availability']:g} "
            f"on the {steps['screen']['basis']})",
        )

        usable = screened
        lowest, highest = _range(usable)
        for code, least, most in zip(usable.columns, lowest, highest, strict=True):
            if np.isnan(least):
                left_out[code] = "no_values"
            elif least == most:
                left_out[code] = "constant"
        usable = usable.drop(columns=[c for c in usable.columns if c in left_out])
        treated, treatment = _treat(usable, steps["treat"])
        if steps["treat"]["if_constant"] == "drop":
            for code in treatment.index[treatment["kept_untreated"]]:
                left_out[code] = "constant_after_treatment"
            treated = treated.drop(columns=[c for c in treated.columns if c in left_out])
        log.add(
            "treat",
            f"{int((treatment['n_winsorised'] > 0).sum())} winsorised, "
            f"{int(treatment['log_transformed'].sum())} log-transformed, "
            f"{int(treatment['kept_untreated'].sum())} kept untreated (treatment made them constant)",
        )
        tree, emptied = full_tree.without(left_out)
        for node in emptied:
            left_out[node] = "no_indicators"
        if left_out:
            log.add("leave", ", ".join(f"{code} ({why})" for code, why in left_out.items()))
        treated = treated[list(tree.indicators)]
        kept_signs = signs[tree.indicators]

        options = steps["normalise"]
        normalised = normalise.on_scale(
            treated,
            kept_signs,
            method=options["method"],
            low=options["low"],
            high=options["high"],
            targets=self.targets,
        )
        local, consistency = local_weights(tree, treated, kept_signs, steps["weights"])
        scores = aggregate_tree(tree, normalised, local, steps["aggregate"], options)
        index_scores = scores[tree.root].rename("index")
        log.add("aggregate", f"{len(index_scores)} place(s) scored")

        kept_groups = groups.reindex(index_scores.index) if groups is not None else None
        score_ranks = scores.apply(lambda column: self._ranks(column, None))
        score_peer_ranks = (
            scores.apply(lambda column: self._ranks(column, kept_groups))
            if kept_groups is not None
            else None
        )
        effective = tree.effective_weights(local)
        unit_scale = normalise.minmax(treated, kept_signs, low=0.0, high=1.0)
        present, filled = unit_scale.notna(), unit_scale.fillna(1.0)
        del unit_scale  # (three frames of every value at most alive, not four)
        obstacles = aggregate.obstacle_degree(filled, effective).where(present)
        del filled
        coherence = _coherence(normalised, scores, tree, steps["coherence"])
        intervals = None
        if steps["uncertainty"]["draws"]:
            if index_scores.index.nlevels > 1:
                raise ParameterError(
                    "uncertainty.draws", "0 for panel data", steps["uncertainty"]["draws"]
                )
            intervals = _monte_carlo(
                treated, tree, kept_signs, local, score_ranks[tree.root], steps, self.targets
            )
            log.add(
                "uncertainty",
                f"{steps['uncertainty']['draws']} draws; "
                f"{int(intervals.summary['widened'].sum())} interval(s) widened to the published rank",
            )
        return IndexResult(
            entered=entered,
            imputed=imputed,
            screened=screened,
            imputations=imputations,
            screened_out=screened_out,
            left_out=pd.Series(left_out, dtype=object),
            treated=treated,
            treatment=treatment,
            normalised=normalised,
            scores=scores,
            index=index_scores,
            ranks=score_ranks[tree.root].rename("rank"),
            peer_ranks=score_peer_ranks[tree.root].rename("peer_rank")
            if score_peer_ranks is not None
            else None,
            score_ranks=score_ranks,
            score_peer_ranks=score_peer_ranks,
            weights=local,
            effective_weights=effective,
            consistency=consistency,
            obstacle_degrees=obstacles,
            coherence=coherence,
            uncertainty=intervals,
            log=log.entries,
            steps=steps,
        )

    def _impute_and_screen(self, candidates: pd.DataFrame, steps: dict, groups):
        """Imputed and screened values, and every place's availability on the screen's basis."""
        threshold = steps["screen"]["min_availability"]
        if steps["screen"]["basis"] == "values":
            availability = screening.data_availability(candidates)
            kept = _screen(candidates, threshold)
            imputed = self._impute(kept, steps["impute"]["method"], groups)
            return imputed, imputed, availability
        imputed = self._impute(candidates, steps["impute"]["method"], groups)
        return imputed, _screen(imputed, threshold), screening.data_availability(imputed)

    def _impute(self, frame: pd.DataFrame, method: str, groups) -> pd.DataFrame:
        keys = groups.reindex(frame.index) if groups is not None else None
        if method == "previous_year" and self.history is not None and frame.index.nlevels == 1:
            return _carry_forward(frame, self.history, self.year_level)
        return impute.impute(frame, method=method, groups=keys, year_level=self.year_level)

    def _row_groups(self, frame: pd.DataFrame) -> pd.Series:
        if frame.index.nlevels > 1 and isinstance(self.groups, Mapping | pd.Series):
            places = frame.index.droplevel(self.year_level)
            keys = check_groups(self.groups, pd.Index(places.unique()))
            return pd.Series(keys.reindex(places).to_numpy(), index=frame.index)
        return check_groups(self.groups, frame.index)

    def _ranks(self, scores: pd.Series, groups: pd.Series | None) -> pd.Series:
        """Ranks (1 = best) within year and group; a missing score has no rank."""
        present = scores.dropna()
        keys = []
        if present.index.nlevels > 1:
            keys.append(present.index.get_level_values(self.year_level))
        if groups is not None:
            keys.append(groups.reindex(present.index).astype(str).to_numpy())
        if not keys:
            ranks = aggregate.rank_places(present)
        else:
            # One integer per (year, group), not a joined string per row: the same groups.
            combined = np.zeros(len(present), dtype=np.int64)
            for key in keys:
                codes, uniques = pd.factorize(np.asarray(key), use_na_sentinel=False)
                combined = combined * len(uniques) + codes
            ranks = aggregate.rank_places(present, groups=pd.Series(combined, index=present.index))
        return ranks if len(present) == len(scores) else ranks.reindex(scores.index)


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


class _Log:
    def __init__(self):
        self.entries: list[str] = []

    def add(self, step: str, text: str) -> None:
        self.entries.append(f"{step}: {text}")


def _check_columns(frame: pd.DataFrame, tree: Tree) -> pd.DataFrame:
    unknown = [code for code in frame.columns if code not in tree.indicators]
    if unknown:
        raise DataError("`values` has an indicator that is not in the tree", indicator=unknown[0])
    missing = [code for code in tree.indicators if code not in frame.columns]
    if missing:
        raise DataError("`values` has no column for an indicator of the tree", indicator=missing[0])
    if frame.columns.equals(tree.indicators):  # already in the tree's order: no copy
        return frame
    return frame[list(tree.indicators)]


def _check_signs(directions, columns: pd.Index) -> tuple[pd.Series, list]:
    """+1/-1 per indicator (range indicators: -1, lower distance is better) and the
    range indicators (direction 0)."""
    if isinstance(directions, Mapping | pd.Series):
        given = pd.Series(dict(directions), dtype=object)
        ranged = [c for c in columns if c in given.index and given[c] == 0]
        plain = given.where(given != 0, -1)
    elif directions is None or isinstance(directions, str):
        raise ParameterError("directions", "+1/-1 (or 0 for a range) per indicator", directions)
    else:
        given = np.asarray(directions).ravel()
        if len(given) != len(columns):
            raise ParameterError(
                "directions", f"{len(columns)} values (one per indicator)", len(given)
            )
        ranged = [c for c, d in zip(columns, given, strict=True) if d == 0]
        plain = np.where(given == 0, -1, given)
    return pd.Series(check_directions(plain, columns), index=columns), ranged


def _enter_ranges(frame: pd.DataFrame, ranged: list, bands) -> pd.DataFrame:
    """Range indicators become their distance outside each place's band (0 inside)."""
    if not ranged:
        return frame
    if not isinstance(bands, pd.DataFrame) or not {"place", "indicator", "low", "high"} <= set(
        bands.columns
    ):
        raise ParameterError(
            "bands", "a frame with place, indicator, low, high", type(bands).__name__
        )
    entered = frame.copy()
    places = frame.index.get_level_values(0) if frame.index.nlevels > 1 else frame.index
    table = bands.set_index(["indicator", "place"])[["low", "high"]].astype(float)
    for code in ranged:
        column = frame[code]
        band = (
            table.xs(code, level="indicator").reindex(places)
            if code in table.index.get_level_values("indicator")
            else pd.DataFrame({"low": np.nan, "high": np.nan}, index=places)
        )
        low, high = band["low"].to_numpy(), band["high"].to_numpy()
        unbanded = column.notna().to_numpy() & (np.isnan(low) | np.isnan(high))
        if unbanded.any():
            raise DataError(
                "a range indicator has no band", place=frame.index[unbanded][0], indicator=code
            )
        distance = np.maximum(np.maximum(low - column.to_numpy(), column.to_numpy() - high), 0.0)
        entered[code] = np.where(column.notna(), distance, np.nan)
    return entered


def _screen(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    return screening.screen(frame, min_availability=threshold)


def _carry_forward(frame: pd.DataFrame, history, year_level: str) -> pd.DataFrame:
    """``previous_year`` for one year: each gap takes the place's latest earlier value."""
    earlier = check_values(history, name="history").frame
    if earlier.index.nlevels != 2:
        raise ParameterError("history", "a frame indexed by (place, year)", earlier.index.names)
    earlier = earlier.reindex(columns=frame.columns)
    earlier = earlier[earlier.index.get_level_values(0).isin(frame.index)]
    if earlier.empty:
        return frame
    year = earlier.index.get_level_values(year_level).max() + 1
    current = frame.set_axis(
        pd.MultiIndex.from_arrays(
            [frame.index, np.full(len(frame), year)], names=earlier.index.names
        ),
        axis=0,
    )
    filled = impute.impute(
        pd.concat([earlier, current]), method="previous_year", year_level=year_level
    )
    return filled.loc[current.index].set_axis(frame.index, axis=0)


def _imputations(before: pd.DataFrame, after: pd.DataFrame, places, method: str) -> pd.DataFrame:
    """The cells imputation filled (of the places kept), one row each."""
    filled = after.to_numpy()
    was_missing = before.reindex(index=after.index, columns=after.columns).isna().to_numpy()
    kept = after.index.isin(places)
    rows, columns = np.nonzero(was_missing & ~np.isnan(filled) & kept[:, None])  # row by row
    names = [
        name or ("place" if i == 0 else f"level_{i}") for i, name in enumerate(after.index.names)
    ]
    table = after.index[rows].set_names(names).to_frame(index=False)
    table["indicator"] = after.columns[columns]
    table["value"] = filled[rows, columns]
    return table.assign(method=method)


def _treat(frame: pd.DataFrame, options: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outlier treatment of the indicators with enough values; an indicator treatment
    would make constant is kept untreated (``kept_untreated``)."""
    counts = frame.notna().sum()
    eligible = list(counts.index[counts >= MIN_TREATED_VALUES])
    settings = {k: v for k, v in options.items() if k != "if_constant"}
    treated = frame.copy()
    details = pd.DataFrame(index=frame.columns)
    if eligible:
        result, found = outliers._treat_frame(frame[eligible], **settings)
        treated[eligible] = result
        details = found.reindex(frame.columns)
    details["too_few_values"] = counts < MIN_TREATED_VALUES
    treated_low, treated_high = _range(treated)
    given_low, given_high = _range(frame)
    constant = ~(treated_low < treated_high)  # one value or none
    details["kept_untreated"] = constant & (given_low < given_high)
    restore = list(details.index[details["kept_untreated"]])
    treated[restore] = frame[restore]
    for column in ("n_winsorised",):
        details[column] = (
            details.get(column, pd.Series(0, index=frame.columns)).fillna(0).astype(int)
        )
    for column in ("log_transformed",):
        details[column] = (
            details.get(column, pd.Series(False, index=frame.columns)).fillna(False).astype(bool)
            & ~details["kept_untreated"]
        )
    return treated, details


def _range(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest value of each column, missing values skipped (NaN for a column
    with none): a column is constant where they are equal (one distinct value)."""
    values = frame.to_numpy(dtype=float)
    return np.fmin.reduce(values, axis=0), np.fmax.reduce(values, axis=0)


def _coherence(normalised, scores, tree: Tree, options: dict) -> tuple:
    """Coherence tables; empty when the data cannot give them (e.g. too few places)."""
    try:
        return coherence_module.coherence(
            normalised,
            scores,
            tree=tree.parent.to_dict(),
            min_alpha=options["min_alpha"],
            min_correlation=options["min_correlation"],
        )
    except EngineError:
        return pd.DataFrame(), pd.DataFrame()


def _monte_carlo(treated, tree: Tree, signs, local, nominal_ranks, steps, targets):
    settings, scale = steps["uncertainty"], steps["normalise"]
    published = steps["aggregate"]
    return uncertainty.monte_carlo(
        treated,
        tree=tree.parent.to_dict(),
        directions=signs,
        weights=local,
        draws=settings["draws"],
        weight_spread=settings["weight_spread"],
        normalisation=[scale["method"], *settings["normalisation"]],
        aggregation=settings["aggregation"] or [published["dimension"]],
        nominal_aggregation={"dimension": published["dimension"], "index": published["index"]},
        low=scale["low"],
        high=scale["high"],
        targets=targets,
        topsis_normalisation=published["topsis_normalisation"],
        nominal_ranks=nominal_ranks,
        random_state=settings["random_state"],
    )
