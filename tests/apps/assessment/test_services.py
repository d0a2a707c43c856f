"""Runs, releases, publication, diff and export (services and commands)."""

import csv

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from citycheck.assessment import services
from citycheck.assessment.compute import AssessmentError
from citycheck.assessment.methods import MethodError, parse_method
from citycheck.assessment.models import Level, Release, ReleaseStatus, Result
from citycheck.core.choices import Role
from citycheck.core.jobs import start_job
from citycheck.core.models import ChangeRecord, Job

from .conftest import METHOD

RESULT_FIELDS = [
    "place__code",
    "level",
    "code",
    "value",
    "score",
    "rank",
    "rank_low",
    "rank_high",
    "peer_rank",
    "warning",
    "meets_standard",
    "obstacle_degree",
]


def run(province, method, user=Role.PROVINCE_ADMIN):
    return services.run_assessment(province.open_round, method, acting_user=province.users[user])


def results_of(release):
    return list(
        release.results.order_by("place__code", "level", "code").values_list(*RESULT_FIELDS)
    )


def index_ranks(release):
    return dict(release.results.filter(level=Level.INDEX).values_list("place__code", "rank"))


def test_release_freezes_method_code_version_and_ranks(province, method):
    release = run(province, method)
    assert release.status == ReleaseStatus.DRAFT
    assert release.method_text == METHOD and release.method_code == "test-index"
    assert release.code_version.startswith("0.1.0")
    assert len(release.input_digest) == 64
    # 东湖区 best on every indicator, 浔阳区 worst: ranks 1..4 in that order
    assert index_ranks(release) == {"360102": 1, "360103": 2, "360402": 3, "360403": 4}
    index = release.results.get(level=Level.INDEX, place__code="360102")
    assert index.rank_low <= index.rank <= index.rank_high and index.peer_rank == 1
    green = release.results.get(level=Level.INDICATOR, code="green_space", place__code="360402")
    assert (green.meets_standard, green.warning) == (False, "red")  # 9 < 12 - band 2
    built = release.results.get(level=Level.INDICATOR, code="built_density", place__code="360103")
    assert (built.meets_standard, built.warning) == (False, "yellow")  # 13 within 12 + 2
    obstacles = release.results.filter(level=Level.INDICATOR, place__code="360403")
    assert sum(r.obstacle_degree for r in obstacles) == pytest.approx(1.0)
    assert ChangeRecord.objects.filter(event="assessed", object_id=str(release.pk)).exists()


def test_rerun_gives_identical_digest_and_numbers(province, method):
    first, second = run(province, method), run(province, method)
    assert first.pk != second.pk
    assert first.input_digest == second.input_digest
    assert results_of(first) == results_of(second)
    assert services.diff_releases(first, second).same


def test_digest_and_diff_follow_an_input_change(province, method):
    first = run(province, method)
    province.adopt(province.open_round, "other_county_2", "green_space", 30.0)
    second = run(province, method)
    assert second.input_digest != first.input_digest
    diff = services.diff_releases(first, second)
    assert diff.method == []
    changed = next(item for item in diff.inputs if item["key"] == "360403|green_space")
    assert changed == {
        "kind": "values",
        "key": "360403|green_space",
        "before": 7.0,
        "after": 30.0,
        "kind_name": "采信值",
        "name": "浔阳区 · 人均公园绿地面积",
        "before_text": "7",
        "after_text": "30",
    }
    moved = [r for r in diff.results if r["place"] == "360403" and r["level"] == "index"]
    assert moved and moved[0]["score_b"] > moved[0]["score_a"]
    assert "本地区输入变更：人均公园绿地面积" in moved[0]["reasons"]


def test_diff_names_a_method_change(province, method):
    first = run(province, method)
    second = run(province, parse_method(METHOD.replace("index: geometric", "index: arithmetic")))
    diff = services.diff_releases(first, second)
    assert diff.method == [("steps.aggregate.index", "geometric", "arithmetic")]
    assert diff.inputs == []
    assert all("steps.aggregate.index" in r["reasons"][0] for r in diff.results)


def test_only_province_publishes_and_an_earlier_publication_is_superseded(province, method):
    first = run(province, method)
    for role in (Role.CITY_ADMIN, Role.PROVINCE_REVIEWER, Role.PUBLIC):
        with pytest.raises(PermissionDenied):
            services.publish_release(first, acting_user=province.users[role])
    with pytest.raises(PermissionDenied):
        run(province, method, user=Role.CITY_ADMIN)
    services.publish_release(first, acting_user=province.users[Role.PROVINCE_ADMIN])
    second = run(province, method)
    services.publish_release(second, acting_user=province.users[Role.PROVINCE_ADMIN])
    first.refresh_from_db()
    assert (first.status, second.status) == (ReleaseStatus.SUPERSEDED, ReleaseStatus.PUBLISHED)
    assert ChangeRecord.objects.filter(event="published", object_id=str(second.pk)).exists()
    with pytest.raises(services.PublishError):
        services.publish_release(second, acting_user=province.users[Role.PROVINCE_ADMIN])


def test_publishing_refuses_a_missing_or_nan_number(province, method):
    release = run(province, method)
    Result.objects.filter(release=release, level=Level.INDEX, place__code="360103").update(
        score=None
    )
    with pytest.raises(services.PublishError, match="西湖区"):
        services.publish_release(release, acting_user=province.users[Role.PROVINCE_ADMIN])
    release.refresh_from_db()
    assert release.status == ReleaseStatus.DRAFT


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("method: minmax", "method: minmaxx"), "steps.normalise.method"),
        (("  screen:", "  scren:"), "steps.scren"),
        (("green_space: 2}", "green_spac: 2}"), "steps.weights.indicators.expert.green_spac"),
        (("draws: 40", "draws: -1"), "uncertainty.draws"),
        (("code: test-index\n", ""), "code"),
    ],
)
def test_method_errors_name_file_and_field(province, change, field):
    text = METHOD.replace(*change)
    with pytest.raises(MethodError) as error:
        spec = parse_method(text, source="bad.yaml")
        run(province, spec)
    assert error.value.field == field
    assert str(error.value).startswith(f"bad.yaml: {field}: ")


def test_inconsistent_ahp_is_refused_with_its_cr(province):
    text = METHOD.replace(
        "dimensions: {method: equal}",
        "dimensions: {method: ahp, order: [livable, safe], pairwise: [[1, 3], [0.5, 1]]}",
    )
    with pytest.raises(AssessmentError, match="reciprocal"):
        run(province, parse_method(text))
    three = METHOD.replace(
        "indicators: {method: product, of: [expert, entropy], expert: {green_space: 2}}",
        "indicators: {method: ahp, order: [green_space, built_density, waterlogging], "
        "pairwise: [[1, 9, 0.2], [0.1111111111, 1, 9], [5, 0.1111111111, 1]]}",
    )
    # AHP weighs each parent's children from their own sub-matrix and reports its CR: the
    # listed 3 x 3 matrix is inconsistent, but 生态宜居's two indicators judge 9 : 1 (CR 0)
    # and 安全韧性 has one indicator.
    release = run(province, parse_method(three))
    county = release.details["levels"]["county"]
    assert county["consistency"] == {"livable": 0.0}
    weights = county["weights"]["indicators"]
    assert weights["green_space"] / weights["built_density"] == pytest.approx(9.0)


def test_too_few_places_is_a_clear_error(province):
    with pytest.raises(AssessmentError, match="设区市"):
        run(
            province, parse_method(METHOD.replace("place_levels: [county]", "place_levels: [city]"))
        )
    assert not Release.objects.exists()


def test_the_job_runs_and_reports_progress(province, method):
    job = start_job(
        "assessment.run",
        acting_user=province.users[Role.PROVINCE_ADMIN],
        round_id=province.open_round.pk,
        method_text=method.text,
    )
    assert job.status == Job.Status.SUCCEEDED and job.progress == 100
    release = Release.objects.get(pk=job.result["release"])
    assert release.job_id == job.pk and release.created_by.role == Role.PROVINCE_ADMIN


def test_a_failing_job_says_why(province, method):
    job = start_job(
        "assessment.run",
        acting_user=province.users[Role.PROVINCE_ADMIN],
        round_id=province.open_round.pk,
        method_text=method.text.replace("[county]", "[city]"),
    )
    assert job.status == Job.Status.FAILED and "设区市" in job.error


def test_commands_assess_show_diff_publish_export(province, tmp_path, capsys):
    method_file = tmp_path / "method.yaml"
    method_file.write_text(METHOD, encoding="utf-8")
    call_command("assess", "--round", "2024", "--method", str(method_file), verbosity=0)
    first = int(capsys.readouterr().out.strip())
    call_command("assess", "--round", "2024", "--method", str(method_file), verbosity=0)
    second = int(capsys.readouterr().out.strip())
    call_command("release", "show", str(first))
    assert "360102 东湖区" in capsys.readouterr().out
    call_command("release", "diff", str(first), str(second))
    assert "identical" in capsys.readouterr().out
    call_command("release", "--as-user", Role.PROVINCE_ADMIN, "publish", str(second))
    assert Release.objects.get(pk=second).status == ReleaseStatus.PUBLISHED
    with pytest.raises(CommandError, match="无权"):
        call_command("release", "--as-user", Role.CITY_ADMIN, "publish", str(first))
    output = tmp_path / "release.csv"
    call_command("release", "export", str(second), "-o", str(output))
    with open(output, encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 * (1 + 2 + 3)  # 4 counties × (index + 2 dimensions + 3 indicators)
    best = next(r for r in rows if r["level"] == "index" and r["place_code"] == "360102")
    assert (best["rank"], best["place_name"]) == ("1", "东湖区")
    assert int(best["rank_low"]) <= 1 <= int(best["rank_high"])
    red = next(r for r in rows if r["code"] == "green_space" and r["place_code"] == "360402")
    assert (red["warning"], red["meets_standard"]) == ("red", "0")


def test_assess_command_reports_a_bad_method_file(province, tmp_path):
    method_file = tmp_path / "bad.yaml"
    method_file.write_text(METHOD.replace("method: mean", "method: median"), encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad.yaml: steps.impute.method: "):
        call_command("assess", "--round", "2024", "--method", str(method_file))
    with pytest.raises(CommandError, match="--round"):
        call_command("assess", "--round", "1999")
