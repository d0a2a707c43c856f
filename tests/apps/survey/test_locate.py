"""The public form's "locate" button: the browser's WGS84 position → the county of the
link's city whose (GCJ-02) boundary contains it."""

import shapely.geometry
from django.urls import reverse

from citycheck.engine.datum import gcj02_to_wgs84
from citycheck.places.models import Place
from citycheck.survey.models import SurveyLink
from citycheck.survey.services import close_survey


def _link(province, city="360100"):
    return SurveyLink.objects.get(survey=province.survey, place__code=city)


def _locate(client, link, lon, lat):
    return client.get(reverse("survey:locate", args=[link.token]), {"lon": lon, "lat": lat})


def _county_and_box(city="360100"):
    county = Place.objects.filter(parent__code=city, boundary__isnull=False).first()
    return county, shapely.geometry.shape(county.boundary.geojson).bounds


def test_a_position_picks_the_county_whose_boundary_holds_it(surveyed, client):
    link = _link(surveyed)
    county, (west, south, east, north) = _county_and_box()
    middle = gcj02_to_wgs84((west + east) / 2, (south + north) / 2)
    answer = _locate(client, link, float(middle[0]), float(middle[1]))
    assert answer.status_code == 200
    assert answer.json()["county"] == county.code
    assert county.name_zh in answer.json()["message"]

    # Just inside the west edge on the map: the browser's WGS84 reading lies ~500 m
    # further west, outside the polygon when compared raw. The datum is converted.
    lon, lat = (float(v) for v in gcj02_to_wgs84(west + 0.001, (south + north) / 2))
    assert lon < west
    assert _locate(client, link, lon, lat).json()["county"] == county.code


def test_a_position_outside_the_city_or_malformed_is_answered_not_guessed(surveyed, client):
    link = _link(surveyed)
    outside = _locate(client, link, 121.47, 31.23)  # Shanghai
    assert outside.status_code == 404 and "county" not in outside.json()
    assert _locate(client, link, "east", 28).status_code == 400
    assert _locate(client, link, 116, 95).status_code == 400
    assert client.get(reverse("survey:locate", args=[link.token])).status_code == 400
    assert (
        client.get(reverse("survey:locate", args=["forged"]), {"lon": 1, "lat": 1}).status_code
        == 404
    )
    close_survey(surveyed.survey, acting_user=surveyed.admin)
    assert _locate(client, link, 116, 28).status_code == 410


def test_the_form_offers_the_button(surveyed, client):
    page = client.get(reverse("survey:public_form", args=[_link(surveyed).token])).content.decode()
    assert 'data-locate="place"' in page and "survey/locate" in page
