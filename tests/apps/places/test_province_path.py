"""The province of a place as lists and dashboards scope by it (``in_shown_province``),
kept per process by the place's path instead of a query on every page."""

from citycheck.places import models
from citycheck.places.models import Place, province_path


def test_province_path_is_the_provinces_and_asked_once(tiny_province, django_assert_num_queries):
    models._PROVINCE_PATHS.clear()  # another test of this process may have kept it
    county, province = Place.objects.get(code="360102"), Place.objects.get(code="360000")
    with django_assert_num_queries(1):
        assert province_path(county) == province.path
    with django_assert_num_queries(0):
        assert province_path(county) == province.path
    assert province_path(province) == province.path
