"""The formula language: precedence, errors with positions, evaluation, order, no eval."""

import builtins
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citycheck.engine.formulas import (
    MAX_NESTING,
    CycleError,
    DivisionByZeroWarning,
    FormulaError,
    ParseError,
    dependency_order,
    evaluate,
    parse,
)


def value_of(text, **columns):
    frame = pd.DataFrame({name: [float(value)] for name, value in columns.items()} or {"_": [0.0]})
    return evaluate(parse(text), frame).iloc[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("8 / 4 / 2", 1.0),  # left-associative
        ("10 - 4 - 3", 3.0),
        ("-2 * 3", -6.0),
        ("2 * -3", -6.0),
        ("--2", 2.0),
        ("-(1 + 2) * 2", -6.0),
        ("1 - -1", 2.0),
        ("+4 / 2", 2.0),
        ("2.5e1 + .5", 25.5),
        ("max(1, 5, 3) - min(4, 2)", 3.0),
        ("abs(1 - 4) * 2", 6.0),
    ],
)
def test_precedence_and_unary_minus(text, expected):
    assert value_of(text) == expected


def test_names_are_listed_once_in_order_of_appearance():
    formula = parse("b / a + b * c")
    assert formula.names == ("b", "a", "c")
    assert value_of("b / a + b * c", a=2, b=4, c=0.5) == 4.0


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a +", 3, "found 'end of formula'"),
        ("a + * b", 4, "found '*'"),
        ("(a + b", 6, "expected ')'"),
        ("a + b)", 5, "unexpected ')'"),
        ("a $ b", 2, "unexpected character '$'"),
        ("sum(a, b)", 0, "unknown function 'sum'"),
        ("abs(a, b)", 0, "abs() takes 1 argument"),
        ("min(a)", 0, "min() takes at least 2"),
        ("a b", 2, "unexpected 'b'"),
        ("max + 1", 4, "needs arguments"),
        ("", 0, "empty formula"),
    ],
)
def test_errors_carry_the_position(text, position, fragment):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.position == position
    assert fragment in str(caught.value)


def test_unknown_names_are_refused_at_their_position():
    with pytest.raises(ParseError) as caught:
        parse("park / population", known_names={"park", "people"})
    assert caught.value.position == 7
    assert "unknown name 'population'" in str(caught.value)


def test_evaluation_is_vectorised_and_propagates_nan():
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [2.0, 2.0, np.nan]}, index=["x", "y", "z"])
    result = evaluate("a * 10 + max(a, b)", frame)
    assert list(result.index) == ["x", "y", "z"]
    assert result["x"] == 12.0
    assert np.isnan(result["y"]) and np.isnan(result["z"])


def test_division_by_zero_gives_nan_and_an_issue_not_inf():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 0.0, 0.0]}, index=[10, 11, 12])
    issues = []
    result = evaluate("a / b", frame, issues=issues)
    assert result.tolist()[0] == 1.0 and result.isna().tolist() == [False, True, True]
    assert not np.isinf(result).any()
    assert issues[0].rows == (11, 12) and issues[0].position == 2
    with pytest.warns(DivisionByZeroWarning, match="2 row"):
        evaluate("a / b", frame)


def test_evaluation_does_not_change_the_frame_and_needs_every_column():
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    before = frame.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate("-a", frame)
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(FormulaError, match="no column for b"):
        evaluate("a + b", frame)


def test_a_constant_formula_fills_every_row():
    assert evaluate("2 * 3", pd.DataFrame(index=range(3))).tolist() == [6.0, 6.0, 6.0]


def test_dependency_order_puts_dependencies_first():
    formulas = {
        "index": parse("density * 2 + green"),
        "density": parse("people / area"),
        "green": parse("park / people"),
    }
    order = dependency_order(formulas)
    assert order.index("density") < order.index("index")
    assert order.index("green") < order.index("index")


def test_cycles_are_refused_naming_the_cycle():
    formulas = {
        "x": parse("y + 1"),
        "a": parse("b + 1"),
        "b": parse("c * 2"),
        "c": parse("a / 3"),
        "y": parse("z"),
    }
    with pytest.raises(CycleError) as caught:
        dependency_order(formulas)
    assert caught.value.cycle == ["a", "b", "c", "a"]
    assert "a → b → c → a" in str(caught.value)
    with pytest.raises(CycleError, match="s → s"):
        dependency_order({"s": parse("s + 1")})


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="abc_()+-*/., 0123456789eE'\"[]:;=!@#$%^&|~`\\{}\n\tximportos", max_size=40)
)
def test_random_text_never_executes_code(text):
    """Any text either parses or raises ParseError; eval, exec and import are never reached."""
    called = []
    originals = {
        name: getattr(builtins, name) for name in ("eval", "exec", "compile", "__import__")
    }

    def trap(name):
        def refuse(*args, **kwargs):
            called.append(name)
            return originals[name](*args, **kwargs)

        return refuse

    for name in originals:
        setattr(builtins, name, trap(name))
    try:
        try:
            formula = parse(text)
        except ParseError:
            formula = None
    finally:
        for name, original in originals.items():
            setattr(builtins, name, original)
    assert called == []
    if formula is not None:
        frame = pd.DataFrame({name: [1.0, 2.0] for name in formula.names} or {"_": [0.0, 0.0]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivisionByZeroWarning)
            assert len(evaluate(formula, frame)) == 2


@pytest.mark.parametrize(
    "text",
    ["(" * 5_000 + "a" + ")" * 5_000, "-" * 5_000 + "a", "abs(" * 5_000 + "a" + ")" * 5_000],
)
def test_deep_nesting_is_refused_with_a_parse_error_not_a_recursion_error(text):
    with pytest.raises(ParseError, match=f"nested more than {MAX_NESTING} levels"):
        parse(text)


def test_nesting_a_real_formula_would_use_is_fine():
    depth = 30
    formula = parse("(" * depth + "a + 1" + ")" * depth)
    assert evaluate(formula, pd.DataFrame({"a": [1.0]})).tolist() == [2.0]
