"""Incomplete rounds assess: imputation and screening as the method says, what was done is
stored and shown, no NaN reaches stored JSON, and an open round gives a provisional draft
that cannot be published until the round closes."""

import json

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from citycheck.assessment import services
from citycheck.assessment.methods import MethodError, parse_method
from citycheck.assessment.models import Level, ReleaseStatus
from citycheck.collection.models import RoundStatus, Source, Value
from citycheck.core.choices import Role

from .conftest import METHOD


def run(province, method):
    return services.run_assessment(
        province.open_round, method, acting_user=province.users[Role.PROVINCE_ADMIN]
    )


def stored_json(release) -> str:
    """The release's details as stored; refuses NaN and infinities."""
    release.refresh_from_db()
    return json.dumps(release.details, allow_nan=False)


@pytest.mark.parametrize("indicator", ["green_space", "waterlogging", "built_density"])
def test_one_missing_value_is_imputed_and_listed(province, method, indicator):
    province.adopt(province.open_round, "sibling_county", indicator, None)
    release = run(province, method)
    stored_json(release)
    county = release.details["levels"]["county"]
    assert county["ranked"] == 4 and county["screened_out"] == []
    [imputed] = county["imputations"]
    assert (imputed["place"], imputed["indicator"], imputed["method"]) == (
        "360103",
        indicator,
        "mean",
    )
    row = release.results.get(level=Level.INDICATOR, code=indicator, place__code="360103")
    assert row.value is None and row.warning == "" and row.score is not None
    assert row.note.startswith("缺失值已插补为")


def test_a_county_that_reported_nothing_is_screened_out_not_ranked(province, method):
    Value.objects.filter(
        round=province.open_round, place=province.places["other_county_2"], source=Source.ADOPTED
    ).update(value=None)
    release = run(province, method)
    stored_json(release)
    county = release.details["levels"]["county"]
    assert county["screened_out"] == ["360403"] and county["availability"] == {"360403": 0.0}
    assert county["imputations"] == []
    assert not release.results.filter(level=Level.INDEX, place__code="360403").exists()
    assert set(release.results.filter(level=Level.INDEX).values_list("rank", flat=True)) == {
        1,
        2,
        3,
    }
    notes = release.results.filter(level=Level.INDICATOR, place__code="360403")
    assert {row.note for row in notes} == {"数据可得性不足，未参与指数排名"}
    assert release.provisional  # reported nothing: its data is not accepted
    assert release.details["provisional"]["pending_places"] == ["360403"]


def test_ten_percent_missing_at_random_assesses(province, method):
    rows = list(
        Value.objects.filter(round=province.open_round, source=Source.ADOPTED).order_by("pk")
    )
    missing = np.random.default_rng(5).choice(
        len(rows), size=max(1, len(rows) // 10), replace=False
    )
    Value.objects.filter(pk__in=[rows[i].pk for i in missing]).update(value=None)
    release = run(province, method)
    text = stored_json(release)
    assert "NaN" not in text
    county = release.details["levels"]["county"]
    assert len(county["imputations"]) + 3 * len(county["screened_out"]) >= 1
    assert services.release_problems(release) == []


def test_an_indicator_nobody_reported_leaves_the_index_with_its_reason(province, method):
    Value.objects.filter(
        round=province.open_round,
        indicator=province.indicators["waterlogging"],
        source=Source.ADOPTED,
    ).update(value=None)
    release = run(province, method)
    county = release.details["levels"]["county"]
    assert county["left_out"] == {"waterlogging": "no_values", "safe": "no_indicators"}
    decisions = services.data_decisions(release)
    assert [item["name"] for item in decisions[0].left_out] == ["城市内涝积水点数量", "安全韧性"]
    assert release.results.filter(level=Level.DIMENSION, code="safe").count() == 0


def test_an_open_round_gives_a_provisional_draft_that_cannot_be_published(province, method, client):
    province.open_round.status = RoundStatus.OPEN
    province.open_round.save(update_fields=["status"])
    release = run(province, method)
    assert release.provisional and release.details["provisional"]["round_open"]
    admin = province.users[Role.PROVINCE_ADMIN]
    with pytest.raises(services.PublishError, match="仍在填报中"):
        services.publish_release(release, acting_user=admin)
    client.force_login(admin)
    page = client.get(reverse("assessment:release", args=[release.pk])).content.decode()
    assert "暂定结果" in page and "轮次截止后方可发布" in page
    client.cookies.load({"django_language": "en"})
    english = client.get(reverse("assessment:release", args=[release.pk])).content.decode()
    assert "Provisional result" in english and "can be published once the round closes" in english
    province.open_round.status = RoundStatus.CLOSED
    province.open_round.save(update_fields=["status"])
    services.publish_release(release, acting_user=admin)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PUBLISHED


def test_assess_command_gives_a_provisional_draft_of_an_open_round(province, tmp_path, capsys):
    province.open_round.status = RoundStatus.OPEN
    province.open_round.save(update_fields=["status"])
    province.adopt(province.open_round, "county", "green_space", None)
    method_file = tmp_path / "method.yaml"
    method_file.write_text(METHOD, encoding="utf-8")
    call_command("assess", "--round", "2024", "--method", str(method_file), verbosity=0)
    release = services.Release.objects.get(pk=int(capsys.readouterr().out.strip()))
    assert release.provisional and release.status == ReleaseStatus.DRAFT


def test_the_method_checker_refuses_entropy_above_the_indicators():
    text = METHOD.replace(
        "dimensions: {method: equal}", "dimensions: {method: product, of: [equal, entropy]}"
    )
    with pytest.raises(MethodError) as error:
        parse_method(text, source="m.yaml")
    assert error.value.field == "steps.weights.dimensions.of"


def test_previous_year_imputation_takes_the_earlier_rounds_adopted_value(province):
    province.adopt(province.open_round, "sibling_county", "green_space", None)
    earlier = province.value(
        province.published_round, "sibling_county", source=Source.ADOPTED
    ).value
    release = run(province, parse_method(METHOD.replace("method: mean", "method: previous_year")))
    [imputed] = release.details["levels"]["county"]["imputations"]
    assert (imputed["place"], imputed["value"], imputed["method"]) == (
        "360103",
        earlier,
        "previous_year",
    )
    assert "360103|green_space|2023" in release.details["inputs"]["history"]
