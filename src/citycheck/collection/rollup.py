"""County → city roll-up check: a city's own self-check values beside the roll-up of
its counties' values, by each indicator's ``rollup`` rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from citycheck.core.access import check_place
from citycheck.core.choices import Action
from citycheck.engine import formulas
from citycheck.indicators.models import Rollup
from citycheck.indicators.services import evaluable_formula, formula_name_units
from citycheck.places.models import Place

from .models import BaseFigureValue, Round, Source, Value

POPULATION_FIGURE = "resident_population"


def rollup_comparison(
    round_: Round, city: Place, *, acting_user, tolerance: float = 0.05
) -> pd.DataFrame:
    """The city's own self-check values beside the roll-up of its counties' values.

    Indicators roll up by their ``rollup`` rule, over the counties that have the inputs:

    - ``sum``: the sum of the counties' values;
    - ``population_weighted_mean``: weights are the counties' ``resident_population``
      base figure of the round's year;
    - ``ratio_of_sums``: the indicator's formula, evaluated exactly as its own value is
      (:func:`citycheck.indicators.services.evaluable_formula`, unit factor included), on
      the base figures summed over the counties that have every figure it uses.

    Columns: indicator, rollup, own, counties, relative_difference (to the roll-up),
    disagrees (``|relative_difference| > tolerance``). ``counties`` is NaN where nothing
    can be rolled up.
    """
    check_place(acting_user, city, Action.VIEW)
    counties = list(city.children.filter(rounds=round_).values_list("pk", flat=True))
    values = Value.objects.filter(round=round_, source=Source.SELF_CHECK)
    own = dict(values.filter(place=city).values_list("indicator__code", "value"))
    county_values = pd.DataFrame.from_records(
        values.filter(place_id__in=counties).values_list("place_id", "indicator__code", "value"),
        columns=["place", "indicator", "value"],
    ).pivot_table(index="place", columns="indicator", values="value", aggfunc="first")
    figures = pd.DataFrame.from_records(
        BaseFigureValue.objects.filter(place_id__in=counties, year=round_.year).values_list(
            "place_id", "figure__code", "value"
        ),
        columns=["place", "figure", "value"],
    ).pivot_table(index="place", columns="figure", values="value", aggfunc="first")
    indicators = list(round_.system.all_indicators())
    name_units = formula_name_units(indicators)
    rows = []
    for indicator in indicators:
        rolled = _roll_up(indicator, county_values, figures, name_units)
        rows.append(
            {
                "indicator": indicator.code,
                "rollup": indicator.rollup,
                "own": own.get(indicator.code),
                "counties": rolled,
            }
        )
    frame = pd.DataFrame(rows, columns=["indicator", "rollup", "own", "counties"])
    frame[["own", "counties"]] = frame[["own", "counties"]].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["relative_difference"] = (frame["own"] - frame["counties"]) / frame["counties"].abs()
    frame["disagrees"] = frame["relative_difference"].abs() > tolerance
    return frame


def _roll_up(indicator, county_values: pd.DataFrame, figures: pd.DataFrame, name_units) -> float:
    """One indicator's roll-up over the counties (NaN when its inputs are missing)."""
    rule, code = indicator.rollup, indicator.code
    column = county_values.get(code)
    if rule == Rollup.SUM and column is not None:
        return float(column.sum(min_count=1))
    if rule == Rollup.POPULATION_WEIGHTED_MEAN and column is not None:
        weights = figures.get(POPULATION_FIGURE, pd.Series(dtype=float)).reindex(column.index)
        usable = column.notna() & (weights > 0)
        return (
            float(np.average(column[usable], weights=weights[usable])) if usable.any() else np.nan
        )
    if rule == Rollup.RATIO_OF_SUMS and indicator.formula:
        names = formulas.parse(indicator.formula).names
        if not set(names) <= set(figures.columns):
            return np.nan
        complete = figures[list(names)].dropna()
        if complete.empty:
            return np.nan
        text, _factor = evaluable_formula(indicator, name_units)
        totals = complete.sum().to_frame().T
        return float(formulas.evaluate(text, totals, issues=[]).iloc[0])
    return np.nan
