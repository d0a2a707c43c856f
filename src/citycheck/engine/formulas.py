"""The indicator expression language: parse, evaluate and order formulas, never ``eval``.

A formula combines base figures (底数) and other indicators by their codes::

    park_green_area / urban_resident_population
    100 * (built_up_area - max(0, water_area)) / district_area

Grammar (numbers, names, ``+ - * /``, parentheses, unary minus and the functions
``min``, ``max``, ``abs``)::

    expression := term (("+" | "-") term)*
    term       := factor (("*" | "/") factor)*
    factor     := ("-" | "+") factor | primary
    primary    := NUMBER | NAME | NAME "(" expression ("," expression)* ")"
                | "(" expression ")"

The parser is a hand-written precedence-climbing (Pratt) parser rather than a ``lark``
grammar: the language is a dozen tokens, a hand parser gives exact character positions
in every error message, and evaluation walks our own tree with numpy, so nothing from
the text is ever compiled or executed.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "FUNCTIONS",
    "MAX_NESTING",
    "Binary",
    "Call",
    "CycleError",
    "DivisionByZeroWarning",
    "EvaluationIssue",
    "Formula",
    "FormulaError",
    "Name",
    "Number",
    "ParseError",
    "Unary",
    "dependency_order",
    "evaluate",
    "parse",
]

# Function name -> (minimum, maximum) number of arguments.
FUNCTIONS = {"min": (2, None), "max": (2, None), "abs": (1, 1)}
# Deepest nesting of parentheses, function arguments and signs: far above any real
# formula, far below Python's recursion limit (parsing and evaluation recurse).
MAX_NESTING = 100

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>[-+*/(),])
    """,
    re.VERBOSE,
)
# Binding power of the binary operators: higher binds tighter.
_BINARY_POWER = {"+": 10, "-": 10, "*": 20, "/": 20}
_UNARY_POWER = 30


class FormulaError(ValueError):
    """A formula that cannot be parsed, evaluated or ordered."""


class ParseError(FormulaError):
    """A syntax error or unknown name; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, text: str, position: int):
        self.detail = message
        self.text = text
        self.position = position
        super().__init__(f"{message} at position {position + 1} in {text!r}")


class CycleError(FormulaError):
    """Formulas that refer to each other in a circle; ``cycle`` lists it, first code last too."""

    def __init__(self, cycle: list[str]):
        self.cycle = cycle
        super().__init__("circular reference: " + " → ".join(cycle))


class DivisionByZeroWarning(RuntimeWarning):
    """Some rows divided by zero; their result is NaN."""


@dataclass(frozen=True)
class EvaluationIssue:
    """Rows of an evaluation that divided by zero (their result is NaN)."""

    formula: str
    position: int
    rows: tuple

    def __str__(self):
        shown = ", ".join(map(str, self.rows[:5])) + (" …" if len(self.rows) > 5 else "")
        return (
            f"division by zero at position {self.position + 1} in {self.formula!r} "
            f"for {len(self.rows)} row(s): {shown}"
        )


@dataclass(frozen=True)
class Number:
    value: float
    position: int


@dataclass(frozen=True)
class Name:
    name: str
    position: int


@dataclass(frozen=True)
class Unary:
    op: str
    operand: object
    position: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object
    position: int


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple
    position: int


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text, syntax tree and the names it uses.

    Attributes
    ----------
    text : str
        The formula as written.
    tree : Number, Name, Unary, Binary or Call
        The syntax tree.
    names : tuple of str
        The names used, each once, in order of first appearance.
    """

    text: str
    tree: object = field(repr=False)
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ParseError(f"unexpected character {text[position]!r}", text, position)
        if match.lastgroup != "space":
            tokens.append(_Token(match.lastgroup, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0  # expressions open (parentheses, arguments, signs): see MAX_NESTING

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> ParseError:
        token = token or self.current
        return ParseError(message, self.text, token.position)

    def expect(self, text: str) -> _Token:
        if self.current.text != text or self.current.kind != "op":
            found = self.current.text or "end of formula"
            raise self.error(f"expected {text!r}, found {found!r}")
        return self.advance()

    def expression(self, min_power: int = 0):
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"formula nested more than {MAX_NESTING} levels deep")
        left = self.prefix()
        while self.current.kind == "op" and _BINARY_POWER.get(self.current.text, -1) > min_power:
            operator = self.advance()
            right = self.expression(_BINARY_POWER[operator.text])
            left = Binary(operator.text, left, right, operator.position)
        self.depth -= 1
        return left

    def prefix(self):
        token = self.advance()
        if token.kind == "number":
            return Number(float(token.text), token.position)
        if token.kind == "name":
            if self.current.text == "(" and self.current.kind == "op":
                return self.call(token)
            if token.text in FUNCTIONS:
                raise self.error(f"function {token.text!r} needs arguments in parentheses")
            return Name(token.text, token.position)
        if token.kind == "op" and token.text in "+-":
            return Unary(token.text, self.expression(_UNARY_POWER), token.position)
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        found = token.text or "end of formula"
        raise self.error(f"expected a number, name or '(', found {found!r}", token)

    def call(self, name: _Token) -> Call:
        if name.text not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise self.error(f"unknown function {name.text!r} (allowed: {allowed})", name)
        self.expect("(")
        args = [self.expression()]
        while self.current.text == "," and self.current.kind == "op":
            self.advance()
            args.append(self.expression())
        self.expect(")")
        low, high = FUNCTIONS[name.text]
        if len(args) < low or (high is not None and len(args) > high):
            wanted = str(low) if low == high else f"at least {low}"
            raise self.error(f"{name.text}() takes {wanted} argument(s), got {len(args)}", name)
        return Call(name.text, tuple(args), name.position)


def _names_in(tree) -> list[Name]:
    if isinstance(tree, Name):
        return [tree]
    if isinstance(tree, Unary):
        return _names_in(tree.operand)
    if isinstance(tree, Binary):
        return _names_in(tree.left) + _names_in(tree.right)
    if isinstance(tree, Call):
        return [name for arg in tree.args for name in _names_in(arg)]
    return []


def parse(text: str, *, known_names=None) -> Formula:
    """Parse a formula; optionally refuse names outside ``known_names``.

    Parameters
    ----------
    text : str
        The formula, e.g. ``"park_green_area / urban_resident_population"``.
    known_names : collection of str, optional
        When given, a name not in it raises :class:`ParseError` at its position.

    Returns
    -------
    Formula

    Raises
    ------
    ParseError
        With ``position``, the 0-based offset of the offending character.

    Examples
    --------
    >>> formula = parse("100 * (a - b) / -c")
    >>> formula.names
    ('a', 'b', 'c')
    >>> parse("a +* b")
    Traceback (most recent call last):
    ...
    citycheck.engine.formulas.ParseError: expected a number, name or '(', found '*' at position 4 in 'a +* b'
    >>> parse("a / d", known_names={"a", "b"}).names
    Traceback (most recent call last):
    ...
    citycheck.engine.formulas.ParseError: unknown name 'd' at position 5 in 'a / d'
    """
    if not isinstance(text, str):
        raise TypeError(f"parse(text): expected str, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty formula", text, 0)
    parser = _Parser(text)
    tree = parser.expression()
    if parser.current.kind != "end":
        raise parser.error(f"unexpected {parser.current.text!r} after a complete expression")
    name_nodes = _names_in(tree)
    if known_names is not None:
        for node in name_nodes:
            if node.name not in known_names:
                raise ParseError(f"unknown name {node.name!r}", text, node.position)
    return Formula(text, tree, tuple(dict.fromkeys(node.name for node in name_nodes)))


def _evaluate_node(node, columns: Mapping[str, np.ndarray], zero_divisions: list):
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        return columns[node.name]
    if isinstance(node, Unary):
        operand = _evaluate_node(node.operand, columns, zero_divisions)
        return -operand if node.op == "-" else operand
    if isinstance(node, Call):
        args = [_evaluate_node(arg, columns, zero_divisions) for arg in node.args]
        if node.function == "abs":
            return np.abs(args[0])
        combine = np.minimum if node.function == "min" else np.maximum  # both propagate NaN
        result = args[0]
        for arg in args[1:]:
            result = combine(result, arg)
        return result
    left = _evaluate_node(node.left, columns, zero_divisions)
    right = _evaluate_node(node.right, columns, zero_divisions)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    denominator = np.asarray(right, dtype=float)
    is_zero = denominator == 0
    if np.any(is_zero):
        zero_divisions.append((node.position, is_zero))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            is_zero, np.nan, np.asarray(left, dtype=float) / np.where(is_zero, 1.0, denominator)
        )


def evaluate(
    formula: Formula | str, frame: pd.DataFrame, *, issues: list | None = None
) -> pd.Series:
    """Evaluate a formula on every row of a frame whose columns are the formula's names.

    NaN in an input gives NaN in the result. A division by zero gives NaN, not inf, and is
    reported: appended to ``issues`` as an :class:`EvaluationIssue` when a list is given,
    otherwise as a :class:`DivisionByZeroWarning`.

    Parameters
    ----------
    formula : Formula or str
        A parsed formula, or its text.
    frame : DataFrame
        One row per place (or place-year); a numeric column per name the formula uses.
    issues : list, optional
        Receives one :class:`EvaluationIssue` per division that met a zero.

    Returns
    -------
    Series of float
        Indexed like ``frame``; ``frame`` is not changed.

    Raises
    ------
    FormulaError
        If ``frame`` lacks a column the formula uses.

    Examples
    --------
    >>> frame = pd.DataFrame({"green": [30.0, 12.0, 5.0], "people": [2.0, 0.0, np.nan]})
    >>> found = []
    >>> evaluate("green / people", frame, issues=found).tolist()
    [15.0, nan, nan]
    >>> print(found[0])
    division by zero at position 7 in 'green / people' for 1 row(s): 1
    """
    if isinstance(formula, str):
        formula = parse(formula)
    missing = [name for name in formula.names if name not in frame.columns]
    if missing:
        raise FormulaError(
            f"evaluate(frame): no column for {', '.join(missing)} used by {formula.text!r}"
        )
    columns = {name: frame[name].to_numpy(dtype=float) for name in formula.names}
    zero_divisions: list = []
    result = _evaluate_node(formula.tree, columns, zero_divisions)
    values = np.broadcast_to(np.asarray(result, dtype=float), (len(frame),)).copy()
    for position, is_zero in zero_divisions:
        rows = tuple(frame.index[np.broadcast_to(is_zero, (len(frame),))])
        issue = EvaluationIssue(formula.text, position, rows)
        if issues is None:
            warnings.warn(str(issue), DivisionByZeroWarning, stacklevel=2)
        else:
            issues.append(issue)
    return pd.Series(values, index=frame.index, dtype=float)


def dependency_order(formulas: Mapping[str, Formula]) -> list[str]:
    """Order formula codes so that every formula comes after the formulas it uses.

    Names that are not keys of ``formulas`` (base figures, measured indicators) are inputs
    and impose no order.

    Parameters
    ----------
    formulas : mapping of str to Formula
        Indicator code -> its parsed formula.

    Returns
    -------
    list of str
        The codes, dependencies first; ties keep the mapping's order.

    Raises
    ------
    CycleError
        Naming the cycle, e.g. ``circular reference: a → b → a``.

    Examples
    --------
    >>> dependency_order({"c": parse("a + b"), "a": parse("x * 2"), "b": parse("a / y")})
    ['a', 'b', 'c']
    >>> dependency_order({"a": parse("b + 1"), "b": parse("2 * a")})
    Traceback (most recent call last):
    ...
    citycheck.engine.formulas.CycleError: circular reference: a → b → a
    """
    order: list[str] = []
    state: dict[str, str] = {}  # "visiting" while on the current path, then "done"

    def visit(code: str, path: list[str]) -> None:
        if state.get(code) == "done":
            return
        if state.get(code) == "visiting":
            raise CycleError([*path[path.index(code) :], code])
        state[code] = "visiting"
        for name in formulas[code].names:
            if name in formulas:
                visit(name, [*path, code])
        state[code] = "done"
        order.append(code)

    for code in formulas:
        visit(code, [])
    return order
