"""Treatment: candidate projects, explained priority, monthly progress flags and roll-ups."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from citycheck.engine._validation import DataError, ParameterError
from citycheck.engine.diagnosis import load_catalogue
from citycheck.engine.renewal import (
    ProjectType,
    load_measures,
    priority_scores,
    progress_flags,
    propose_projects,
    rollup_progress,
)

REPO = Path(__file__).resolve().parents[2]
MEASURES_FILE = REPO / "data" / "renewal" / "measures.yaml"


@pytest.fixture(scope="module")
def project_types():
    return load_measures(MEASURES_FILE)


def test_measures_cover_every_disease_with_known_indicators(project_types):
    catalogue = load_catalogue(REPO / "data" / "diagnosis" / "diseases.yaml")
    system = yaml.safe_load(
        (REPO / "data" / "systems" / "national-2021.yaml").read_text(encoding="utf-8")
    )
    codes = {i["code"] for i in system["indicators"]}
    treated = {d for kind in project_types for d in kind.diseases}
    assert {d.code for d in catalogue.diseases} <= treated
    assert treated <= {d.code for d in catalogue.diseases}
    assert {code for kind in project_types for code, _ in kind.targets} <= codes
    required = {
        "old_compound_renovation",
        "complete_community",
        "drainage_works",
        "parks_and_greenways",
        "parking_and_charging",
        "historic_district_protection",
        "school_and_care_places",
        "road_network_gaps",
    }
    assert required <= {kind.code for kind in project_types}
    for kind in project_types:
        assert 0 < kind.cost_low <= kind.cost_high and kind.months > 0 and kind.targets


def test_measures_errors_name_the_project_type_and_field(tmp_path):
    document = yaml.safe_load(MEASURES_FILE.read_text(encoding="utf-8"))
    document["project_types"][1]["cost_low"] = 99999
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError, match=r"project type 2 \(complete_community\): field 'cost_low'"):
        load_measures(bad)


def problem_list():
    return pd.DataFrame(
        {
            "problem": [11, 12, 13, 14],
            "place": ["A", "A", "B", "C"],
            "disease": ["waterlogging", "lack_of_green_space", "waterlogging", "waterlogging"],
            "severity": ["moderate", "severe", "mild", "severe"],
            "signals": [
                ["bottom_line_failure"],
                ["red_warning"],
                ["deterioration"],
                ["red_warning"],
            ],
            "evidence": [[{"dimension": "safety_resilience", "satisfaction": 52.0}], [], [], []],
            "status": ["confirmed", "confirmed", "confirmed", "dismissed"],
        }
    )


def test_candidates_come_from_confirmed_problems_one_per_place_and_type(project_types):
    candidates = propose_projects(
        problem_list(), project_types=project_types, place_names={"A": "南昌县"}
    )
    keys = set(zip(candidates["place"], candidates["project_type"], strict=True))
    assert ("A", "drainage_works") in keys and ("B", "drainage_works") in keys
    assert not any(place == "C" for place, _ in keys)  # dismissed
    sponge = candidates[
        (candidates["place"] == "A") & (candidates["project_type"] == "sponge_city")
    ].iloc[0]
    # Sponge-city works address both of A's problems at once.
    assert sponge["problems"] == [11, 12] and sponge["diseases"] == [
        "waterlogging",
        "lack_of_green_space",
    ]
    assert sponge["severity"] == "severe" and sponge["name"] == "南昌县海绵城市建设"
    assert sponge["satisfaction"] == 52.0
    assert {"indicator": "permeable_ground_share", "expected_change": 3.0} in sponge["targets"]


def test_priority_components_are_returned_and_move_the_right_way():
    candidates = pd.DataFrame(
        {
            "place": ["A", "B", "C", "D"],
            "severity": ["severe", "mild", "severe", "severe"],
            "signals": [["red_warning"], ["red_warning"], ["red_warning"], ["bottom_line_failure"]],
            "budget": [2000.0, 2000.0, 20000.0, 2000.0],
        }
    )
    scored = priority_scores(candidates).set_index("place")
    assert scored.at["A", "priority"] > scored.at["B", "priority"]  # more severe
    assert scored.at["A", "priority"] > scored.at["C", "priority"]  # cheaper
    assert scored.at["D", "priority"] > scored.at["A", "priority"]  # more urgent
    components = ["priority_severity", "priority_demand", "priority_urgency", "priority_cost"]
    assert scored[components].ge(0).all().all() and scored[components].le(1).all().all()
    weights = [0.4, 0.25, 0.2, 0.15]
    recomputed = 100 * (scored[components] * weights).sum(axis=1)
    pd.testing.assert_series_equal(recomputed, scored["priority"], check_names=False)
    assert scored.at["A", "priority_cost"] == pytest.approx(5000 / 7000)
    assert "成本" in scored.at["A", "priority_explanation"]


def test_priority_demand_from_survey_then_caller_then_neutral():
    candidates = pd.DataFrame(
        {
            "place": ["A", "B", "C"],
            "severity": ["mild"] * 3,
            "signals": [[]] * 3,
            "budget": [1000.0] * 3,
            "satisfaction": [40.0, float("nan"), float("nan")],
        }
    )
    scored = priority_scores(candidates, demand={"B": 0.9}).set_index("place")
    assert scored["priority_demand"].to_dict() == pytest.approx({"A": 0.6, "B": 0.9, "C": 0.5})
    assert "据满意度调查" in scored.at["A", "priority_explanation"]
    assert "无满意度数据" in scored.at["C", "priority_explanation"]


def test_priority_rejects_bad_parameters():
    candidates = pd.DataFrame(
        {"place": ["A"], "severity": ["mild"], "signals": [[]], "budget": [1.0]}
    )
    with pytest.raises(ParameterError, match="`weights` must be non-negative numbers"):
        priority_scores(candidates, weights={"beauty": 1.0})
    with pytest.raises(ParameterError, match="`demand` must be values between 0 and 1"):
        priority_scores(candidates, demand={"A": 3})
    with pytest.raises(DataError, match="severity must be one of"):
        priority_scores(candidates.assign(severity="catastrophic"))


PROJECTS = pd.DataFrame(
    {"project": [1, 2, 3, 4], "start": ["2024-01"] * 3 + ["2024-09"], "end": ["2024-10"] * 4}
)


def test_late_is_strictly_beyond_the_threshold():
    # At the end of May a January–October project should be 50 % done.
    reports = pd.DataFrame(
        {"project": [1, 2, 3], "month": ["2024-05"] * 3, "percent_complete": [35.0, 34.9, 100.0]}
    )
    flags = progress_flags(PROJECTS, reports, as_of="2024-05", late_threshold=15)
    assert flags["expected_percent"].tolist() == [50.0, 50.0, 50.0, 0.0]
    assert flags["late"].tolist() == [False, True, False, False]
    assert flags.at[2, "lag"] == pytest.approx(15.1)


def test_stalled_after_n_months_without_a_rise():
    reports = pd.DataFrame(
        {
            "project": [1, 1, 1, 2, 2, 2],
            "month": ["2024-02", "2024-03", "2024-05", "2024-02", "2024-04", "2024-05"],
            "percent_complete": [20, 20, 20, 10, 15, 15],
            "investment": [100, 100, 100, 50, 70, 70],
        }
    )
    flags = progress_flags(PROJECTS, reports, as_of="2024-05", stalled_months=3)
    assert flags["months_without_progress"].tolist() == [3, 1, 5, 0]
    # 1: no rise since February; 2: rose in April; 3: never reported since January;
    # 4: not started yet.
    assert flags["stalled"].tolist() == [True, False, True, False]
    assert flags.at[1, "investment_to_date"] == 100
    assert "已连续 3 个月无进展" in flags.at[1, "flag_reason"]
    assert flags.at[4, "flag_reason"] == ""


def test_reports_after_the_dispatch_month_are_ignored():
    reports = pd.DataFrame(
        {"project": [1, 1], "month": ["2024-05", "2024-06"], "percent_complete": [50, 90]}
    )
    assert progress_flags(PROJECTS, reports, as_of="2024-05").at[1, "percent_complete"] == 50


def test_bad_progress_reports_name_project_and_month():
    reports = pd.DataFrame({"project": [2], "month": ["2024-05"], "percent_complete": [120]})
    with pytest.raises(DataError, match=r"got 120 \(project 2, month 2024-05\)"):
        progress_flags(PROJECTS, reports, as_of="2024-05")
    with pytest.raises(ParameterError, match="`as_of` must be a month"):
        progress_flags(PROJECTS, reports.assign(percent_complete=1), as_of="soon")
    backwards = PROJECTS.assign(end="2023-01")
    with pytest.raises(DataError, match="ends before it starts"):
        progress_flags(backwards, reports.assign(percent_complete=1), as_of="2024-05")


def test_rollup_by_disease_counts_a_project_under_each_disease():
    projects = pd.DataFrame(
        {
            "project": [1, 2],
            "city": ["360100", "360400"],
            "project_type": ["sponge_city", "drainage_works"],
            "diseases": [["waterlogging", "lack_of_green_space"], ["waterlogging"]],
            "budget": [1000.0, 3000.0],
        }
    )
    flags = pd.DataFrame(
        {
            "percent_complete": [40.0, 80.0],
            "investment_to_date": [300.0, 2000.0],
            "late": [True, False],
            "stalled": [False, False],
        },
        index=[1, 2],
    )
    by_disease = rollup_progress(projects, flags, by="disease")
    assert by_disease.at["waterlogging", "projects"] == 2
    assert by_disease.at["waterlogging", "percent_complete"] == pytest.approx(70.0)
    assert by_disease.at["lack_of_green_space", "late"] == 1
    assert by_disease.at["waterlogging", "investment_share"] == pytest.approx(2300 / 4000)
    assert rollup_progress(projects, flags, by="project_type").index.tolist() == [
        "drainage_works",
        "sponge_city",
    ]
    with pytest.raises(
        ParameterError, match="`by` must be one of 'city', 'project_type', 'disease'"
    ):
        rollup_progress(projects, flags, by="mayor")


def test_project_type_typical_cost_is_the_midpoint():
    kind = ProjectType("x", "x", "x", ("a",), (), 100.0, 300.0, 6, (), ())
    assert kind.typical_cost == 200.0
