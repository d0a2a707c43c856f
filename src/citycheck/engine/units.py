"""Units as officials write them (%, 万人, 平方米/人, 张/千人 …) and unit checks of formulas.

A unit is a scale factor and a dimension vector over seven base dimensions: length (米),
mass (千克), time (秒), persons (人), counted items (个, 处, 座, 辆, 张, 户 …), money (元)
and energy (千瓦时). ``万人`` is ``10^4 人``, ``%`` is ``1/100``, ``公顷`` is
``10^4 平方米``.

Why a small table of our own rather than ``pint``: the units in the indicator systems are a
closed list of Chinese words, each of which pint would need a custom definition for anyway;
persons and counted items must be dimensions of their own (pint treats counts as
dimensionless, so 个/万人 would silently equal %); and a dictionary lookup has no registry
start-up cost and gives error messages in the words the files use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from .formulas import Binary, Call, Formula, Name, Number, Unary, parse

__all__ = [
    "DIMENSIONS",
    "Unit",
    "UnitError",
    "UnitMismatch",
    "conversion_factor",
    "english_unit",
    "formula_unit",
    "parse_unit",
]

DIMENSIONS = ("length", "mass", "time", "person", "item", "money", "energy")


def _dims(**powers: int) -> tuple[int, ...]:
    return tuple(powers.get(name, 0) for name in DIMENSIONS)


_NONE = _dims()
_AREA = _dims(length=2)
# Word -> (factor to the base unit, dimension vector).
_WORDS: dict[str, tuple[float, tuple[int, ...]]] = {
    "1": (1.0, _NONE),
    "倍": (1.0, _NONE),
    "分": (1.0, _NONE),  # a score (满意度得分); minutes are written 分钟
    "%": (0.01, _NONE),
    "％": (0.01, _NONE),
    "‰": (0.001, _NONE),
    "米": (1.0, _dims(length=1)),
    "m": (1.0, _dims(length=1)),
    "千米": (1e3, _dims(length=1)),
    "公里": (1e3, _dims(length=1)),
    "km": (1e3, _dims(length=1)),
    "平方米": (1.0, _AREA),
    "万平方米": (1e4, _AREA),
    "m²": (1.0, _AREA),
    "亩": (10000 / 15, _AREA),
    "公顷": (1e4, _AREA),
    "平方千米": (1e6, _AREA),
    "平方公里": (1e6, _AREA),
    "km²": (1e6, _AREA),
    "立方米": (1.0, _dims(length=3)),
    "万立方米": (1e4, _dims(length=3)),
    "千克": (1.0, _dims(mass=1)),
    "吨": (1e3, _dims(mass=1)),
    "万吨": (1e7, _dims(mass=1)),
    "秒": (1.0, _dims(time=1)),
    "分钟": (60.0, _dims(time=1)),
    "小时": (3600.0, _dims(time=1)),
    "天": (86400.0, _dims(time=1)),
    "日": (86400.0, _dims(time=1)),
    "年": (365.25 * 86400, _dims(time=1)),
    "岁": (365.25 * 86400, _dims(time=1)),
    "人": (1.0, _dims(person=1)),
    "人次": (1.0, _dims(person=1)),
    "百人": (1e2, _dims(person=1)),
    "千人": (1e3, _dims(person=1)),
    "万人": (1e4, _dims(person=1)),
    "万人次": (1e4, _dims(person=1)),
    "元": (1.0, _dims(money=1)),
    "万元": (1e4, _dims(money=1)),
    "亿元": (1e8, _dims(money=1)),
    "千瓦时": (1.0, _dims(energy=1)),
    "万千瓦时": (1e4, _dims(energy=1)),
    "吨标准煤": (8.14e3, _dims(energy=1)),  # 1 kgce = 8.14 kWh (GB/T 2589-2020, 29.3076 MJ)
    "万个": (1e4, _dims(item=1)),
    "万户": (1e4, _dims(item=1)),
    "万辆": (1e4, _dims(item=1)),
    "万套": (1e4, _dims(item=1)),
}
# Words for counted things: one item each.
for _word in [
    "个",
    "处",
    "座",
    "辆",
    "张",
    "床",
    "栋",
    "幢",
    "套",
    "条",
    "所",
    "家",
    "件",
    "项",
    "户",
    "起",
    "次",
    "宗",
    "块",
    "间",
    "台",
    "根",
    "盏",
    "棵",
]:
    _WORDS[_word] = (1.0, _dims(item=1))

_SEPARATORS = re.compile(r"([/·*×])")


class UnitError(ValueError):
    """A unit that is not in the table, or a formula whose units do not combine."""


class UnitMismatch(UnitError):
    """A formula's result unit has other dimensions than the unit it is declared in."""


@dataclass(frozen=True)
class Unit:
    """A unit: its text, its factor to the base units and its dimension vector.

    Examples
    --------
    >>> parse_unit("张/千人").factor
    0.001
    >>> parse_unit("公顷") / parse_unit("万人") == parse_unit("平方米/人")
    True
    """

    text: str
    factor: float
    dimensions: tuple[int, ...]

    def __eq__(self, other):  # the same quantity, whatever it is called
        return (
            isinstance(other, Unit)
            and self.dimensions == other.dimensions
            and math.isclose(self.factor, other.factor, rel_tol=1e-12)
        )

    def __hash__(self):
        return hash(self.dimensions)

    def __mul__(self, other: Unit) -> Unit:
        return Unit(
            _join(self.text, "·", other.text),
            self.factor * other.factor,
            tuple(a + b for a, b in zip(self.dimensions, other.dimensions, strict=True)),
        )

    def __truediv__(self, other: Unit) -> Unit:
        return Unit(
            _join(self.text, "/", other.text),
            self.factor / other.factor,
            tuple(a - b for a, b in zip(self.dimensions, other.dimensions, strict=True)),
        )

    @property
    def is_dimensionless(self) -> bool:
        return not any(self.dimensions)


_ONE = Unit("1", 1.0, _NONE)


def _join(left: str, separator: str, right: str) -> str:
    if right == "1":
        return left
    wrapped = f"({right})" if _SEPARATORS.search(right) else right
    return f"{left}{separator}{wrapped}"


@cache
def parse_unit(text: str) -> Unit:
    """Read a unit as written in an indicator system, e.g. ``"个/万人"``.

    Words are joined by ``/`` (divide) or ``·``, ``*``, ``×`` (multiply), left to right.
    An empty text is a pure number.

    Raises
    ------
    UnitError
        Naming the unknown word.

    Examples
    --------
    >>> unit = parse_unit("公里/平方公里")
    >>> unit.factor, unit.dimensions[0]
    (0.001, -1)
    >>> parse_unit("头/万人")
    Traceback (most recent call last):
    ...
    citycheck.engine.units.UnitError: unknown unit '头' in '头/万人'
    """
    text = (text or "").strip()
    if not text:
        return _ONE
    parts = _SEPARATORS.split(text.replace(" ", ""))
    unit, operator = None, None
    for part in parts:
        if part in "/·*×" and part:
            operator = part
            continue
        if part not in _WORDS:
            raise UnitError(f"unknown unit {part!r} in {text!r}")
        factor, dimensions = _WORDS[part]
        word = Unit(part, factor, dimensions)
        unit = word if unit is None else (unit / word if operator == "/" else unit * word)
    return Unit(text, unit.factor, unit.dimensions)


# How each word reads in English; words read alike in both (%, m², km) are left out.
_ENGLISH = {
    "倍": "times", "分": "points", "米": "m", "千米": "km", "公里": "km", "平方米": "m²",
    "万平方米": "10,000 m²", "亩": "mu", "公顷": "ha", "平方千米": "km²", "平方公里": "km²",
    "立方米": "m³", "万立方米": "10,000 m³", "千克": "kg", "吨": "t", "万吨": "10,000 t",
    "秒": "s", "分钟": "min", "小时": "h", "天": "days", "日": "days", "年": "years",
    "岁": "years of age", "人": "persons", "人次": "person-times", "百人": "100 persons",
    "千人": "1,000 persons", "万人": "10,000 persons", "万人次": "10,000 person-times",
    "元": "yuan", "万元": "10,000 yuan", "亿元": "100 million yuan", "千瓦时": "kWh",
    "万千瓦时": "10,000 kWh", "吨标准煤": "tce", "万个": "10,000 items",
    "万户": "10,000 households", "万辆": "10,000 vehicles", "万套": "10,000 dwellings",
    "个": "items", "处": "sites", "座": "facilities", "辆": "vehicles", "张": "beds",
    "床": "beds", "栋": "buildings", "幢": "buildings", "套": "dwellings", "条": "lines",
    "所": "institutions", "家": "establishments", "件": "cases", "项": "items",
    "户": "households", "起": "incidents", "次": "times", "宗": "cases", "块": "plots",
    "间": "rooms", "台": "units", "根": "poles", "盏": "lamps", "棵": "trees",
}  # fmt: skip
# After "/", a single counted thing: m²/person, not m²/persons.
_ENGLISH_SINGULAR = {
    "人": "person", "户": "household", "辆": "vehicle", "个": "item", "张": "bed",
    "床": "bed", "套": "dwelling", "栋": "building", "幢": "building", "座": "facility",
    "处": "site", "天": "day", "日": "day", "年": "year",
}  # fmt: skip


def english_unit(text: str) -> str:
    """The unit in English words, for an English page: ``"个/万人"`` → ``"items/10,000
    persons"``. Words without an English reading are kept as written.

    >>> english_unit("公里/小时")
    'km/h'
    """
    parts = [p for p in _SEPARATORS.split((text or "").strip().replace(" ", "")) if p]
    return "".join(
        _ENGLISH_SINGULAR.get(part) or _ENGLISH.get(part, part)
        if position and parts[position - 1] == "/"
        else _ENGLISH.get(part, part)
        for position, part in enumerate(parts)
    )


def conversion_factor(result: Unit | str, declared: Unit | str) -> float:
    """The factor that turns a value in ``result`` units into ``declared`` units.

    Raises
    ------
    UnitMismatch
        If the dimensions differ.

    Examples
    --------
    >>> conversion_factor("公顷/万人", "平方米/人")
    1.0
    >>> conversion_factor("1", "%")
    100.0
    >>> conversion_factor("平方米/人", "公里")
    Traceback (most recent call last):
    ...
    citycheck.engine.units.UnitMismatch: unit mismatch: formula gives 平方米/人, indicator declares 公里
    """
    result = parse_unit(result) if isinstance(result, str) else result
    declared = parse_unit(declared) if isinstance(declared, str) else declared
    if result.dimensions != declared.dimensions:
        raise UnitMismatch(
            f"unit mismatch: formula gives {result.text}, indicator declares {declared.text}"
        )
    factor = result.factor / declared.factor
    rounded = float(f"{factor:.12g}")  # 0.01 / 0.0001 should read 100, not 99.99999999999999
    return rounded


def _is_constant(node) -> bool:
    if isinstance(node, Number):
        return True
    if isinstance(node, Unary):
        return _is_constant(node.operand)
    if isinstance(node, Binary):
        return _is_constant(node.left) and _is_constant(node.right)
    if isinstance(node, Call):
        return all(_is_constant(arg) for arg in node.args)
    return False


def _same_units(operands: list, units: list[Unit], what: str, text: str) -> Unit:
    """Units of operands that are added, subtracted or compared: equal, or a bare number."""
    measured = [unit for node, unit in zip(operands, units, strict=True) if not _is_constant(node)]
    if not measured:
        return _ONE
    first = measured[0]
    for unit in measured[1:]:
        if unit.dimensions != first.dimensions:
            raise UnitError(
                f"unit mismatch in {text!r}: cannot {what} {first.text} and {unit.text}"
            )
        if unit != first:
            raise UnitError(
                f"unit mismatch in {text!r}: cannot {what} {first.text} and {unit.text} "
                "without converting one of them first"
            )
    return first


def formula_unit(formula: Formula | str, units: Mapping[str, str | Unit]) -> Unit:
    """The unit of a formula's result, given the unit of each name it uses.

    ``+``, ``-``, ``min`` and ``max`` need operands in the same unit (a bare number takes
    the unit of the other side); ``*`` and ``/`` combine units; numbers are pure.

    Parameters
    ----------
    formula : Formula or str
    units : mapping of str to str or Unit
        Unit of every name in the formula (base figures and indicators).

    Raises
    ------
    UnitError
        When operands cannot be combined, or a name has no unit.

    Examples
    --------
    >>> unit = formula_unit("park_green_area / population", {"park_green_area": "公顷", "population": "万人"})
    >>> unit.text, conversion_factor(unit, "平方米/人")
    ('公顷/万人', 1.0)
    >>> formula_unit("a + b", {"a": "万人", "b": "平方公里"})
    Traceback (most recent call last):
    ...
    citycheck.engine.units.UnitError: unit mismatch in 'a + b': cannot add 万人 and 平方公里
    """
    formula = parse(formula) if isinstance(formula, str) else formula
    parsed = {}
    for name in formula.names:
        if name not in units:
            raise UnitError(f"no unit known for {name!r} in {formula.text!r}")
        unit = units[name]
        parsed[name] = parse_unit(unit) if isinstance(unit, str) else unit

    def unit_of(node) -> Unit:
        if isinstance(node, Number):
            return _ONE
        if isinstance(node, Name):
            return parsed[node.name]
        if isinstance(node, Unary):
            return unit_of(node.operand)
        if isinstance(node, Call):
            args = [unit_of(arg) for arg in node.args]
            if node.function == "abs":
                return args[0]
            return _same_units(list(node.args), args, f"take {node.function}() of", formula.text)
        left, right = unit_of(node.left), unit_of(node.right)
        if node.op in "+-":
            verb = "add" if node.op == "+" else "subtract"
            return _same_units([node.left, node.right], [left, right], verb, formula.text)
        return left * right if node.op == "*" else left / right

    return unit_of(formula.tree)
