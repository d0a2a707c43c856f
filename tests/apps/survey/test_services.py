"""Sample design, answers, quality flags, imports, overrides and weighting."""

import math

import pytest
from django.core.exceptions import PermissionDenied

from citycheck.collection.adoption import adopted_values
from citycheck.collection.models import Source, Value
from citycheck.collection.services import adjudicate
from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.survey import services
from citycheck.survey.models import Flag, Response, Score, SurveyLink
from citycheck.survey.weighting import weight_survey

from .conftest import answers_row, enter, synthetic_rows

COUNTIES = ["360102", "360103", "360402", "360403"]


def test_sample_design_splits_city_targets_by_census_population(surveyed):
    design = surveyed.survey.sample_design = services.sample_design(surveyed.survey)
    census = services.census()
    per_county = design.groupby("county")["quota"].sum()
    # Nanchang's two districts: max(60, 3 per 10,000 residents) split by population, and
    # rounded up in each of the ten sex x age cells.
    east, west = census.loc["360102", "population"], census.loc["360103", "population"]
    target = max(60, math.ceil((east + west) * 3 / 10_000))
    assert target > 60
    assert 0 <= per_county["360102"] - target * east / (east + west) <= 10
    assert set(design["sex"]) == {"male", "female"} and design["age_band"].nunique() == 5
    assert (design["quota"] >= 1).all()


def test_every_city_gets_a_link_token(surveyed):
    links = SurveyLink.objects.filter(survey=surveyed.survey)
    assert sorted(link.place.code for link in links) == ["360100", "360400"]
    assert len({link.token for link in links}) == 2


def test_free_text_is_masked():
    text = "我的电话是 138-1234-5678，身份证 360102199001011234。"
    masked = services.mask_identifiers(text)
    assert "5678" not in masked and "1234" not in masked.replace("*", "")
    assert masked.startswith("我的电话是 ")


def test_import_reports_every_problem_by_row_and_column_and_stores_nothing(surveyed):
    rows = synthetic_rows(["360102"], 3)
    rows[0]["place"] = "999999"  # unknown place
    rows[1]["eco_parks"] = "7"  # out of range
    del rows[2]["sex"]  # missing required item
    rows.append(dict(rows[1], reference=rows[0]["reference"], eco_parks="3"))  # duplicate id
    stored, issues = enter(surveyed, rows, dry_run=True)
    found = {(issue.row, issue.column) for issue in issues}
    assert {(2, "place"), (3, "eco_parks"), (4, "sex"), (5, "reference")} <= found
    stored, issues = enter(surveyed, rows)
    assert stored == 0 and issues
    assert not Response.objects.exists()


def test_quality_flags_exclude_and_the_province_overrides_with_a_reason(surveyed):
    good = synthetic_rows(["360102"], 2)
    speeder = answers_row("360102", "male", "30_39", lambda item: 4, seconds="20")
    straight = answers_row("360103", "female", "18_29", lambda item: 5)
    stored, issues = enter(surveyed, [*good, speeder, straight, dict(good[0], reference="")])
    assert issues == [] and stored == 5
    flags = [r.flags for r in Response.objects.order_by("pk")]
    assert flags[0] == [] and flags[1] == []
    assert Flag.SPEEDER in flags[2] and Flag.STRAIGHT in flags[3]
    assert flags[4] == [Flag.DUPLICATE]
    assert Response.objects.counted().count() == 2
    flagged = Response.objects.order_by("pk")[2]
    with pytest.raises(PermissionDenied):
        services.override_flags(
            flagged, counted=True, reason="x", acting_user=surveyed.users[Role.CITY_ADMIN]
        )
    services.override_flags(
        flagged, counted=True, reason="电话访问，用时为补录", acting_user=surveyed.admin
    )
    assert Response.objects.counted().count() == 3
    assert ChangeRecord.objects.filter(event="override", note="电话访问，用时为补录").exists()


def test_weighting_meets_census_margins_and_scores_follow_answers(surveyed):
    stored, issues = enter(surveyed, synthetic_rows(COUNTIES, 60))
    assert issues == [] and stored == 240
    summary = weight_survey(surveyed.survey, acting_user=surveyed.admin)
    assert summary["counted"] == 240 and summary["collapsed_counties"] == []
    controls = services.adult_controls(["360102"])
    weights = Response.objects.filter(place__code="360102", sex="female").values_list(
        "weight", flat=True
    )
    female = controls[controls["sex"] == "female"]["population"].sum()
    assert sum(weights) == pytest.approx(female, rel=1e-6)
    scores = {(s.place.code, s.kind, s.code): s for s in Score.objects.select_related("place")}
    low = scores[("360100", "dimension", "tidiness")]
    high = scores[("360100", "dimension", "ecology")]
    assert low.score < 40 < 60 < high.score
    assert low.low < low.score < low.high
    assert scores[("360000", "overall", "overall")].n == 240
    # bus/metro for everyone: the green travel share is 100 %
    assert scores[("360102", "indicator", "green_travel_share")].score == pytest.approx(100)


def test_weighting_writes_survey_values_that_the_province_may_adopt(surveyed):
    enter(surveyed, synthetic_rows(COUNTIES, 40))
    weight_survey(surveyed.survey, acting_user=surveyed.admin)
    value = Value.objects.get(
        round=surveyed.open_round,
        place__code="360100",
        indicator__code="street_parking_order",
        source=Source.SURVEY,
    )
    assert value.value < 40  # tidiness items were rated low
    assert "有效答卷 80 份" in value.note and "置信区间" in value.note
    adjudicate(
        surveyed.open_round,
        value.place,
        value.indicator,
        chosen_source=Source.SURVEY,
        reason="采用满意度调查结果",
        acting_user=surveyed.admin,
    )
    adopted = adopted_values(surveyed.open_round, place_codes=["360100"])
    row = adopted[adopted["indicator"] == "street_parking_order"].iloc[0]
    assert row["value"] == value.value and row["source"] == Source.SURVEY


def test_only_the_province_weights(surveyed):
    enter(surveyed, synthetic_rows(["360102"], 20))
    with pytest.raises(PermissionDenied):
        weight_survey(surveyed.survey, acting_user=surveyed.users[Role.CITY_ADMIN])
