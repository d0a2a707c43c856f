"""Satisfaction against the index: ranks, quadrants and the gap table."""

import json

import pytest
from django.urls import reverse

from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.core.choices import Role
from citycheck.survey.comparison import compare
from citycheck.survey.weighting import weight_survey

from .conftest import enter, synthetic_rows

COUNTIES = ["360102", "360103", "360402", "360403"]
# The index: tidiness best in 360102 and worst in 360403; ecology the other way round.
INDEX = {
    "360102": (90.0, 20.0),
    "360103": (70.0, 40.0),
    "360402": (40.0, 70.0),
    "360403": (20.0, 90.0),
}


@pytest.fixture
def compared(surveyed):
    rows = []
    for number, county in enumerate(COUNTIES):
        # 360102 residents rate tidiness lowest of all, although its index is best.
        low = "tidiness" if county == "360102" else "innovation"
        rows += synthetic_rows([county], 30, seed=number, low_dimension=low)
    enter(surveyed, rows)
    weight_survey(surveyed.survey, acting_user=surveyed.admin)
    release = Release.objects.create(
        round=surveyed.open_round,
        scope=surveyed.places["province"],
        status=ReleaseStatus.PUBLISHED,
        method_code="test",
        method_version=1,
        method_text="",
        code_version="test",
        input_digest="0" * 64,
    )
    places = {p.code: p for p in surveyed.places.values()}
    for code, (tidiness, ecology) in INDEX.items():
        for dimension, score in (("tidiness", tidiness), ("ecology", ecology)):
            Result.objects.create(
                release=release,
                place=places[code],
                level=Level.DIMENSION,
                code=dimension,
                name_zh=dimension,
                score=score,
            )
    return surveyed


def test_felt_but_not_measured_is_found(compared):
    frame = compare(compared.survey, compared.admin)
    row = frame[(frame["place"] == "360102") & (frame["dimension"] == "tidiness")].iloc[0]
    assert row["index_rank"] == 1.0 and row["satisfaction_rank"] == 0.25
    assert row["quadrant"] == "felt"
    assert set(frame["dimension"]) == {"tidiness", "ecology"}
    assert set(frame["level"]) == {"county"}  # cities have no index rows here


def test_comparison_page_shows_chart_data_and_gaps(compared, client):
    client.force_login(compared.users[Role.CITY_ADMIN])
    page = client.get(reverse("survey:comparison", args=[compared.survey.pk])).content.decode()
    assert 'id="quadrant-points"' in page and "感受到但指标未反映" in page
    points = json.loads(
        page.split('id="quadrant-points" type="application/json">')[1].split("</script>")[0]
    )
    names = {point["name"].split(" · ")[0] for point in points}
    assert names == {"东湖区", "西湖区"}  # the city sees its own counties
    frame = compare(compared.survey, compared.users[Role.CITY_ADMIN])
    assert set(frame["place"]) == {"360102", "360103"}
    assert (
        frame.loc[frame["place"] == "360102", "index_rank"].max() == 1.0
    )  # ranked in the province
