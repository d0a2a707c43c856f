"""A deterministic synthetic Jiangxi-like dataset for demonstrations and tests.

Every number made here is synthetic and must be labelled so wherever it is shown. The
generator gives later steps something real to find: values that are plausible for the
unit and the standard, trends over the years, indicators of one dimension that move
together, some places clearly weak in some dimensions, and a third-party source that
mostly agrees with the self-check but not always.

Model, per place p, dimension d and year t::

    f[p, d, t] = g[p] + h[p, d] + slope[p, d] * (t - t0) - weakness[p, d]
    z[p, i, t] = 0.75 f[p, d(i), t] + 0.45 e[p, i] + 0.2 noise[p, i, t]
    value      = centre[i] + direction[i] * spread[i] * z[p, i, t]

where ``centre`` and ``spread`` come from the indicator's plausible range (or its
standard). County values are generated; cities and the province are rolled up from
the units below them with each indicator's roll-up rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import formulas

__all__ = ["DemoData", "generate_demo"]

_SOURCE_SELF, _SOURCE_THIRD = "self_check", "third_party"


@dataclass(frozen=True)
class DemoData:
    """The generated dataset, in long form.

    Attributes
    ----------
    base_figures : DataFrame
        Columns ``place, year, figure, value``.
    values : DataFrame
        Columns ``place, indicator, year, source, value``.
    weak_dimensions : DataFrame
        Columns ``place, dimension``: the planted weaknesses, for tests and the docs.
    """

    base_figures: pd.DataFrame
    values: pd.DataFrame
    weak_dimensions: pd.DataFrame


def _plausible_range(indicator: pd.Series, standard: pd.Series | None) -> tuple[float, float]:
    """The range in which most county values fall."""
    if pd.notna(indicator.get("range_low")) and pd.notna(indicator.get("range_high")):
        return float(indicator["range_low"]), float(indicator["range_high"])
    if standard is not None:
        value = float(standard["value"])
        high = standard.get("value_high")
        if standard["comparison"] == "between" and pd.notna(high):
            width = float(high) - value
            return value - 0.5 * width, float(high) + 0.5 * width
        # Centre a little on the good side of the standard, so most places meet it.
        sign = 1.0 if standard["comparison"] == ">=" else -1.0
        if value == 0:  # "none allowed" counts: zero for most places, one or two for some
            return -1.5, 1.0
        scale = abs(value)
        centre = value + sign * 0.25 * scale
        return centre - 0.6 * scale, centre + 0.6 * scale
    if indicator["unit"] in ("%", "％"):
        return 40.0, 90.0
    return 10.0, 100.0


def _hard_limits(unit: str, low: float) -> tuple[float, float]:
    """Bounds no generated value crosses: shares stay within 0–100 %, and a quantity
    whose plausible range is positive stays clearly above zero."""
    floor = low - abs(low) if low < 0 else 0.3 * low
    ceiling = {"%": 100.0, "％": 100.0, "‰": 1000.0}.get(unit, np.inf)
    return floor, ceiling


def generate_demo(
    places: pd.DataFrame,
    indicators: pd.DataFrame,
    standards: pd.DataFrame,
    base_figures: pd.DataFrame,
    years,
    *,
    parts_of_totals=(),
    random_state: int = 2021,
) -> DemoData:
    """Generate base figures and indicator values for every place and year.

    Parameters
    ----------
    places : DataFrame
        Columns ``code, level, parent_code, unit_type``; levels ``province``, ``city``,
        ``county``.
    indicators : DataFrame
        One row per indicator: ``code, dimension, direction, unit, formula, rollup,
        decimals`` and optionally ``range_low, range_high`` (plausible county range).
    standards : DataFrame
        Columns ``indicator, city_class, comparison, value, value_high``; the row with
        an empty city class (or the first) is used to place values around it.
    base_figures : DataFrame
        Columns ``code, unit`` and optionally ``range_low, range_high``: the figures the
        formulas use. Figures with a range are generated; the others are solved from the
        formulas that use them, so that formula indicators are consistent with their inputs.
    years : iterable of int
    parts_of_totals : iterable of (part, total) figure codes
        Pairs where the part cannot exceed the total (urban within resident population,
        built-up within district area, …): generated parts are kept below their totals,
        so that the data passes the check step's consistency rules.
    random_state : int
        Seed; the same seed gives the same dataset.

    Returns
    -------
    DemoData
    """
    rng = np.random.default_rng(random_state)
    years = list(years)
    counties = places.loc[places["level"] == "county", "code"].to_numpy()
    dimensions = sorted(indicators["dimension"].unique())
    n_p, n_d, n_t = len(counties), len(dimensions), len(years)

    general = rng.normal(0.0, 0.6, n_p)[:, None]
    specific = rng.normal(0.0, 0.8, (n_p, n_d))
    slope = rng.normal(0.08, 0.06, (n_p, n_d))
    slope[rng.random((n_p, n_d)) < 0.08] = -0.12  # a few places get worse
    weakness = np.zeros((n_p, n_d))
    weak_places = rng.choice(n_p, size=max(1, n_p // 4), replace=False)
    for p in weak_places:
        weakness[p, rng.choice(n_d, size=rng.integers(1, 3), replace=False)] = 2.2
    # An urban district starts ahead in services and transport, behind in ecology.
    is_district = places.set_index("code").loc[counties, "unit_type"].eq("district").to_numpy()
    t = np.arange(n_t)
    dim_factor = (general + specific - weakness)[:, :, None] + slope[:, :, None] * t
    dim_factor += np.where(is_district, 0.3, -0.1)[:, None, None]

    std_by_indicator = _first_standard(standards)
    dim_pos = {d: k for k, d in enumerate(dimensions)}

    generated = {}
    for _, ind in indicators.iterrows():
        persistent = rng.normal(0.0, 1.0, n_p)[:, None]
        noise = rng.normal(0.0, 1.0, (n_p, n_t))
        z = 0.75 * dim_factor[:, dim_pos[ind["dimension"]], :] + 0.45 * persistent + 0.2 * noise
        low, high = _plausible_range(ind, std_by_indicator.get(ind["code"]))
        centre, spread = (low + high) / 2, (high - low) / 4
        if ind["direction"] == "range":
            values = centre + spread * np.abs(z) * rng.choice([-1, 1], size=z.shape)
        else:
            sign = 1.0 if ind["direction"] == "higher" else -1.0
            values = centre + sign * spread * z
        declared_low = ind.get("range_low")
        floor_basis = float(declared_low) if pd.notna(declared_low) else max(low, 0.0)
        generated[ind["code"]] = np.clip(values, *_hard_limits(ind["unit"], floor_basis))

    figures = _generate_figures(rng, counties, is_district, base_figures, n_t)
    for part, total in parts_of_totals:
        if part in figures and total in figures:
            figures[part] = np.minimum(figures[part], 0.95 * figures[total])
    figures, generated = _solve_formula_inputs(indicators, base_figures, figures, generated)

    county_values = _to_long(generated, counties, years, "indicator")
    county_figures = _to_long(figures, counties, years, "figure")
    all_figures = _roll_up_figures(county_figures, places)
    all_values = _roll_up_values(county_values, all_figures, places, indicators)

    ceilings = {
        code: _hard_limits(unit, 0.0)[1]
        for code, unit in zip(indicators["code"], indicators["unit"], strict=True)
    }
    values = _with_third_party(all_values, ceilings, rng)
    decimals = values["indicator"].map(indicators.set_index("code")["decimals"]).astype(int)
    values["value"] = [round(v, d) for v, d in zip(values["value"], decimals, strict=True)]
    weak = pd.DataFrame(
        [(counties[p], dimensions[d]) for p, d in zip(*np.nonzero(weakness), strict=True)],
        columns=["place", "dimension"],
    )
    return DemoData(base_figures=all_figures, values=values, weak_dimensions=weak)


def _first_standard(standards: pd.DataFrame) -> dict[str, pd.Series]:
    if standards.empty:
        return {}
    ordered = standards.assign(_generic=standards["city_class"].fillna("").eq("")).sort_values(
        "_generic", ascending=False
    )
    return {code: rows.iloc[0] for code, rows in ordered.groupby("indicator", sort=False)}


def _generate_figures(rng, counties, is_district, base_figures, n_t) -> dict[str, np.ndarray]:
    """Figures with a plausible range: a common size per place, an own spread per figure,
    and urban districts that are small in land but large in built-up area and urban
    population (so that ratios differ between cities with more or fewer districts)."""
    figures = {}
    size = np.exp(rng.normal(0.0, 0.45, len(counties)))[:, None]
    growth = 1.0 + rng.normal(0.01, 0.005, len(counties))[:, None] * np.arange(n_t)
    for _, fig in base_figures.iterrows():
        if pd.isna(fig.get("range_low")) or pd.isna(fig.get("range_high")):
            continue
        low, high = float(fig["range_low"]), float(fig["range_high"])
        own = np.exp(rng.normal(0.0, 0.3, len(counties)))[:, None]
        base = (np.sqrt(low * high) if low > 0 else (low + high) / 2) * size * own
        scope = str(fig.get("spatial_scope") or "")
        if "城区" in scope or "建成区" in scope:
            base = base * np.where(is_district, 1.8, 0.7)[:, None]
        elif scope == "市辖区":
            base = base * np.where(is_district, 0.4, 1.2)[:, None]
        figures[fig["code"]] = np.clip(base * growth, low, high)
    return figures


def _solve_formula_inputs(indicators, base_figures, figures, generated):
    """Fill figures no range was given for so that formula indicators come out as
    generated, then evaluate every formula so inputs and outputs agree exactly."""
    parsed = {
        row["code"]: formulas.parse(row["formula"])
        for _, row in indicators.iterrows()
        if isinstance(row["formula"], str) and row["formula"].strip()
    }
    known_figures = set(base_figures["code"])
    for code, formula in parsed.items():
        unknown = [n for n in formula.names if n in known_figures and n not in figures]
        if len(unknown) != 1:
            continue
        missing = unknown[0]
        # The formula is linear in most inputs (a ratio with the unknown on top): solve
        # f(x) = a x + b from two evaluations; fall back to a plausible value otherwise.
        frame0 = _frame(formula, figures, generated, missing, 0.0)
        frame1 = _frame(formula, figures, generated, missing, 1.0)
        if frame0 is None:
            continue
        b = formulas.evaluate(formula, frame0).to_numpy()
        a = formulas.evaluate(formula, frame1).to_numpy() - b
        target = generated[code].ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            solved = np.where(a != 0, (target - b) / a, np.nan)
        figures[missing] = np.clip(solved, 0.0, None).reshape(generated[code].shape)
    for code, formula in parsed.items():
        frame = _frame(formula, figures, generated)
        if frame is not None:
            result = formulas.evaluate(formula, frame).to_numpy()
            generated[code] = result.reshape(generated[code].shape)
    return figures, generated


def _frame(formula, figures, generated, override=None, override_value=None):
    columns = {}
    for name in formula.names:
        if name == override:
            shape = next(iter(figures.values())).shape if figures else None
            if shape is None:
                return None
            columns[name] = np.full(shape, override_value).ravel()
        elif name in figures:
            columns[name] = figures[name].ravel()
        elif name in generated:
            columns[name] = generated[name].ravel()
        else:
            return None
    return pd.DataFrame(columns)


def _to_long(arrays: dict[str, np.ndarray], places, years, name: str) -> pd.DataFrame:
    frames = []
    for code, array in arrays.items():
        frame = pd.DataFrame(array, index=places, columns=years).stack().rename("value")
        frames.append(frame.rename_axis(["place", "year"]).reset_index().assign(**{name: code}))
    if not frames:
        return pd.DataFrame(columns=["place", "year", name, "value"])
    return pd.concat(frames, ignore_index=True)[["place", name, "year", "value"]]


def _parents(places: pd.DataFrame) -> pd.Series:
    return places.set_index("code")["parent_code"]


def _roll_up_figures(county_figures: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Base figures are extensive (counts, areas): a city's is the sum of its counties'."""
    parent = _parents(places)
    levels = [county_figures]
    current = county_figures
    for _ in range(2):
        current = (
            current.assign(place=current["place"].map(parent))
            .dropna(subset=["place"])
            .groupby(["place", "figure", "year"], as_index=False)["value"]
            .sum()
        )
        levels.append(current)
    return pd.concat(levels, ignore_index=True)


def _roll_up_values(county_values, figures, places, indicators) -> pd.DataFrame:
    parent = _parents(places)
    meta = indicators.set_index("code")
    population_code = _population_figure(figures)
    levels = [county_values]
    current = county_values
    for _ in range(2):
        rows = []
        current = current.assign(parent=current["place"].map(parent)).dropna(subset=["parent"])
        if population_code:
            population = figures.loc[
                figures["figure"] == population_code, ["place", "year", "value"]
            ]
            current = current.merge(
                population.rename(columns={"value": "weight"}), on=["place", "year"], how="left"
            ).fillna({"weight": 1.0})
        else:
            current = current.assign(weight=1.0)
        for code, group in current.groupby("indicator"):
            rule = meta.loc[code, "rollup"]
            keys = ["parent", "year"]
            if rule == "sum":
                rolled = group.groupby(keys)["value"].sum()
            elif (
                rule == "ratio_of_sums"
                and isinstance(meta.loc[code, "formula"], str)
                and meta.loc[code, "formula"]
            ):
                rolled = _formula_at_level(meta.loc[code, "formula"], figures, group, keys)
            else:
                # Population-weighted mean; also used as the demo's estimate where a city
                # measures an indicator itself ("none"), so the city sits among its counties.
                weighted = group.assign(wv=group["value"] * group["weight"])
                sums = weighted.groupby(keys)[["wv", "weight"]].sum()
                rolled = sums["wv"] / sums["weight"]
            rows.append(rolled.rename("value").reset_index().assign(indicator=code))
        current = pd.concat(rows, ignore_index=True).rename(columns={"parent": "place"})[
            ["place", "indicator", "year", "value"]
        ]
        levels.append(current)
    return pd.concat(levels, ignore_index=True)


def _formula_at_level(formula_text, figures, group, keys) -> pd.Series:
    formula = formulas.parse(formula_text)
    wide = figures.pivot_table(index=["place", "year"], columns="figure", values="value")
    targets = group[keys].drop_duplicates().rename(columns={"parent": "place"})
    index = pd.MultiIndex.from_frame(targets)
    frame = wide.reindex(index)
    if not set(formula.names) <= set(frame.columns):
        weighted = group.assign(wv=group["value"] * group["weight"])
        sums = weighted.groupby(keys)[["wv", "weight"]].sum()
        return sums["wv"] / sums["weight"]
    result = formulas.evaluate(formula, frame[list(formula.names)])
    result.index = pd.MultiIndex.from_frame(targets.rename(columns={"place": "parent"}))
    return result


def _population_figure(figures: pd.DataFrame) -> str | None:
    for code in ("resident_population", "population", "permanent_population"):
        if (figures["figure"] == code).any():
            return code
    return None


def _with_third_party(values: pd.DataFrame, ceilings: dict[str, float], rng) -> pd.DataFrame:
    """The third party mostly confirms the self-check; about 6 % of its values differ by
    10–30 %, and the self-check is the optimistic one more often than not."""
    third = values.copy()
    differs = rng.random(len(third)) < 0.06
    factor = 1.0 + rng.uniform(0.1, 0.3, len(third)) * rng.choice([-1, 1], len(third), p=[0.7, 0.3])
    third.loc[differs, "value"] = third.loc[differs, "value"] * factor[differs]
    third["value"] = np.minimum(third["value"], third["indicator"].map(ceilings))
    return pd.concat(
        [values.assign(source=_SOURCE_SELF), third.assign(source=_SOURCE_THIRD)], ignore_index=True
    )[["place", "indicator", "year", "source", "value"]]
