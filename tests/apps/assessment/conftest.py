"""A small province whose adopted values differ enough to rank, and a fast method spec."""

import pytest

from citycheck.assessment.methods import parse_method
from citycheck.collection.models import RoundStatus
from citycheck.indicators.models import Comparison, Standard
from citycheck.testing import build_small_province

# Adopted 2024 values per county: green_space (higher), built_density (range 8–12),
# waterlogging (lower); 东湖区 is best, 浔阳区 worst.
VALUES_2024 = {
    "county": (16.0, 10.0, 0.0),
    "sibling_county": (12.5, 13.0, 2.0),
    "other_county": (9.0, 7.0, 3.0),
    "other_county_2": (7.0, 15.0, 6.0),
}

METHOD = """
code: test-index
version: 1
name_zh: 测试评价方法
place_levels: [county]
steps:
  impute: {method: mean}
  screen: {min_availability: 0.5}
  treat: {method: none}
  normalise: {method: minmax, low: 1, high: 100}
  weights:
    indicators: {method: product, of: [expert, entropy], expert: {green_space: 2}}
    dimensions: {method: equal}
  aggregate: {dimension: arithmetic, index: geometric}
uncertainty:
  draws: 40
  random_state: 7
  normalisation: [minmax, percentile_rank]
  aggregation: [arithmetic, geometric]
"""


@pytest.fixture
def method():
    return parse_method(METHOD, source="test-index.yaml")


@pytest.fixture
def province(db):
    """The small province with the 2024 round closed (its releases may be published)."""
    province = build_small_province()
    province.open_round.status = RoundStatus.CLOSED
    province.open_round.save(update_fields=["status"])
    Standard.objects.create(
        indicator=province.indicators["built_density"],
        comparison=Comparison.BETWEEN,
        value=8,
        value_high=12,
        warning_band=2,
    )
    codes = ("green_space", "built_density", "waterlogging")
    for label, numbers in VALUES_2024.items():
        for code, number in zip(codes, numbers, strict=True):
            province.adopt(province.open_round, label, code, number)
    return province
