"""County → city roll-up check: a city's own self-check values beside the roll-up of
its counties' values, by each indicator's ``rollup`` rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from citycheck.core.access import check_place
from citycheck.core.choices import Action
from citycheck.indicators.models import Rollup
from citycheck.places.models import Place

from .models import BaseFigureValue, Round, Source, Value


def rollup_comparison(
    round_: Round, city: Place, *, acting_user, tolerance: float = 0.05
) -> pd.DataFrame:
    """The city's own self-check values beside the roll-up of its counties' values.

    Indicators roll up by their ``rollup`` rule: ``sum``; ``population_weighted_mean``
    (weights: the counties' resident population base figure of the round's year);
    ``ratio_of_sums`` (the indicator's formula evaluated on the counties' summed base
    figures). Columns: indicator, rollup, own, counties, relative_difference, disagrees.
    """
    from citycheck.engine import formulas

    check_place(acting_user, city, Action.VIEW)
    counties = list(city.children.filter(rounds=round_).values_list("pk", flat=True))
    values = Value.objects.filter(round=round_, source=Source.SELF_CHECK)
    own = dict(values.filter(place=city).values_list("indicator__code", "value"))
    county_frame = pd.DataFrame.from_records(
        values.filter(place_id__in=counties).values_list("place_id", "indicator__code", "value"),
        columns=["place", "indicator", "value"],
    )
    wide = county_frame.pivot_table(
        index="place", columns="indicator", values="value", aggfunc="first"
    )
    figures = pd.DataFrame.from_records(
        BaseFigureValue.objects.filter(place_id__in=counties, year=round_.year).values_list(
            "place_id", "figure__code", "value"
        ),
        columns=["place", "figure", "value"],
    ).pivot_table(index="place", columns="figure", values="value", aggfunc="first")
    population = figures.get("resident_population")
    rows = []
    for indicator in round_.system.all_indicators():
        code, rule = indicator.code, indicator.rollup
        rolled = np.nan
        column = wide[code] if code in wide.columns else None
        if rule == Rollup.SUM and column is not None:
            rolled = column.sum(min_count=1)
        elif (
            rule == Rollup.POPULATION_WEIGHTED_MEAN
            and column is not None
            and population is not None
        ):
            weights = population.reindex(column.index)
            usable = column.notna() & weights.notna()
            if usable.any():
                rolled = float(np.average(column[usable], weights=weights[usable]))
        elif rule == Rollup.RATIO_OF_SUMS and indicator.formula and not figures.empty:
            parsed = formulas.parse(indicator.formula)
            if set(parsed.names) <= set(figures.columns):
                totals = figures[list(parsed.names)].sum(min_count=1).to_frame().T
                rolled = float(formulas.evaluate(parsed, totals, issues=[]).iloc[0])
        rows.append({"indicator": code, "rollup": rule, "own": own.get(code), "counties": rolled})
    frame = pd.DataFrame(rows, columns=["indicator", "rollup", "own", "counties"])
    frame[["own", "counties"]] = frame[["own", "counties"]].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["relative_difference"] = (frame["own"] - frame["counties"]) / frame["counties"].abs()
    frame["disagrees"] = frame["relative_difference"].abs() > tolerance
    return frame
