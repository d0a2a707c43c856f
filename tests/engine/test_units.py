"""Unit checks: compatible units give their scale factor, incompatible ones are refused."""

import pytest

from citycheck.engine import units
from citycheck.engine.units import (
    UnitError,
    UnitMismatch,
    conversion_factor,
    formula_unit,
    parse_unit,
)


@pytest.mark.parametrize(
    ("result", "declared", "factor"),
    [
        ("万人", "人", 1e4),
        ("人", "万人", 1e-4),
        ("1", "%", 100.0),
        ("%", "‰", 10.0),
        ("公顷", "平方米", 1e4),
        ("平方公里", "公顷", 100.0),
        ("公顷/万人", "平方米/人", 1.0),
        ("个/人", "个/万人", 1e4),
        ("张/千人", "张/万人", 10.0),
        ("公里/平方公里", "米/平方米", 0.001),
        ("小时", "分钟", 60.0),
        ("万元", "元", 1e4),
    ],
)
def test_compatible_units_give_the_factor(result, declared, factor):
    assert conversion_factor(result, declared) == pytest.approx(factor)


@pytest.mark.parametrize(
    ("result", "declared"),
    [("平方米/人", "公里"), ("个/万人", "%"), ("人", "个"), ("分钟", "公里"), ("元", "万人")],
)
def test_incompatible_units_are_refused(result, declared):
    with pytest.raises(
        UnitMismatch, match=f"formula gives {result}, indicator declares {declared}"
    ):
        conversion_factor(result, declared)


def test_counts_and_persons_are_dimensions_not_pure_numbers():
    assert not parse_unit("个/万人").is_dimensionless
    assert parse_unit("%").is_dimensionless


def test_unknown_unit_words_are_named():
    with pytest.raises(UnitError, match="unknown unit '头'"):
        parse_unit("头/万人")


def test_formula_units_combine_through_multiplication_and_division():
    units = {"park": "公顷", "people": "万人", "area": "平方公里", "roads": "公里"}
    assert conversion_factor(formula_unit("park / people", units), "平方米/人") == 1.0
    assert conversion_factor(formula_unit("roads / area", units), "公里/平方公里") == 1.0
    # a ratio of like quantities is a pure number: 100 × to express it in %
    assert conversion_factor(formula_unit("park / area", units), "%") == pytest.approx(1.0)
    assert conversion_factor(formula_unit("area / area", units), "%") == 100.0


def test_sums_need_the_same_unit():
    units = {"a": "万人", "b": "人", "c": "平方公里"}
    assert formula_unit("a + 1", units) == parse_unit("万人")  # a bare number takes the unit
    assert formula_unit("max(a, a * 2)", units) == parse_unit("万人")
    with pytest.raises(UnitError, match="cannot add 万人 and 平方公里"):
        formula_unit("a + c", units)
    with pytest.raises(UnitError, match="without converting"):
        formula_unit("a - b", units)
    with pytest.raises(UnitError, match="no unit known for 'd'"):
        formula_unit("a / d", units)


@pytest.mark.parametrize(
    ("written", "english"),
    [
        ("%", "%"),
        ("个/万人", "items/10,000 persons"),
        ("平方米/人", "m²/person"),
        ("公里/小时", "km/h"),
        ("人/万辆", "persons/10,000 vehicles"),
        ("亿元", "100 million yuan"),
        ("", ""),
    ],
)
def test_units_read_in_english(written, english):
    assert units.english_unit(written) == english


def test_every_unit_word_reads_in_english():
    """A word added to the unit table without an English reading would show Chinese on
    English pages."""
    same_in_both = {"1", "%", "％", "‰", "m", "km", "m²", "km²"}
    assert set(units._WORDS) - set(units._ENGLISH) == same_in_both
