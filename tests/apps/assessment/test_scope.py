"""The scope of a release is the place whose subtree holds the whole round."""

import pytest

from citycheck.assessment.inputs import scope_of

pytestmark = pytest.mark.django_db


def test_scope_is_the_province_even_when_it_does_not_report(small_province):
    round_ = small_province.open_round
    province = next(p for p in small_province.places.values() if p.parent_id is None)
    round_.places.set([p for p in small_province.places.values() if p.parent_id is not None])
    assert scope_of(round_) == province


def test_scope_of_one_city_and_its_counties_is_the_city(small_province):
    round_ = small_province.open_round
    city = next(p for p in small_province.places.values() if p.level == "city")
    round_.places.set([p for p in small_province.places.values() if p.path.startswith(city.path)])
    assert scope_of(round_) == city
