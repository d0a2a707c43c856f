"""City class per place and year."""

import pytest

from citycheck.engine.city_class import CITY_CLASSES
from citycheck.places import services
from citycheck.places.models import CityClass, PlaceYear


def test_engine_codes_agree_with_the_model_choices():
    assert set(CITY_CLASSES) == set(CityClass.values)


def test_classify_places_writes_and_reloads_idempotently(jiangxi):
    populations = {"360100": 380.0, "360700": 100.0, "360281": 19.9}
    counts = services.classify_places(2023, populations)
    assert counts.created == 3
    classes = dict(PlaceYear.objects.filter(year=2023).values_list("place__code", "city_class"))
    assert classes == {"360100": "large_1", "360700": "large_2", "360281": "small_2"}
    again = services.classify_places(2023, populations)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = services.classify_places(2023, {"360281": 20.0})
    assert changed.updated == 1
    assert PlaceYear.objects.get(place__code="360281", year=2023).city_class == "small_1"


@pytest.mark.parametrize(
    ("populations", "message"),
    [
        ({"360100": 380.0, "369999": 5.0}, "369999"),
        ({"360100": float("nan")}, "360100"),
        ({"360100": -1.0}, "urban_population_10k"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(jiangxi, populations, message):
    with pytest.raises(services.PlacesDataError, match=message):
        services.classify_places(2023, populations)
    assert not PlaceYear.objects.exists()
