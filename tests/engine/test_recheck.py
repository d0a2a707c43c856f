"""Re-check: each earlier problem classified at the next round, recurring problems linked."""

import pandas as pd
import pytest

from citycheck.engine._validation import ParameterError
from citycheck.engine.recheck import link_history, recheck

INDICATORS = pd.DataFrame(
    {
        "code": ["park", "commute"],
        "direction": ["higher", "lower"],
        "name_zh": ["人均公园绿地面积", "平均通勤时间"],
        "unit": ["平方米/人", "分钟"],
        "decimals": [1, 0],
    }
)


def problem(
    place, disease, points, code, value, *, year=2023, severity="moderate", problem_id=None
):
    return {
        "problem": problem_id,
        "place": place,
        "disease": disease,
        "disease_name": {"lack_of_green_space": "绿地不足", "traffic_congestion": "交通拥堵"}[
            disease
        ],
        "year": year,
        "points": points,
        "severity": severity,
        "evidence": [
            {"indicator": code, "value": value, "colour": "red", "signals": ["red_warning"]}
        ],
    }


EARLIER = pd.DataFrame(
    [
        problem("A", "lack_of_green_space", 3, "park", 10.0, problem_id=1),  # gone next year
        problem("B", "lack_of_green_space", 3, "park", 10.0, problem_id=2),  # fewer points
        problem(
            "C", "lack_of_green_space", 3, "park", 10.0, problem_id=3
        ),  # same points, better values
        problem(
            "D", "lack_of_green_space", 3, "park", 10.0, problem_id=4
        ),  # same points, ~ same values
        problem("E", "traffic_congestion", 3, "commute", 40.0, problem_id=5),  # more points
        problem(
            "F", "traffic_congestion", 3, "commute", 40.0, problem_id=6
        ),  # same points, longer commute
    ]
)
CURRENT = pd.DataFrame(
    [
        problem(
            "B", "lack_of_green_space", 2, "park", 10.5, year=2024, severity="mild", problem_id=22
        ),
        problem("C", "lack_of_green_space", 3, "park", 10.4, year=2024, problem_id=23),
        problem("D", "lack_of_green_space", 3, "park", 10.1, year=2024, problem_id=24),
        problem(
            "E",
            "traffic_congestion",
            5,
            "commute",
            44.0,
            year=2024,
            severity="severe",
            problem_id=25,
        ),
        problem("F", "traffic_congestion", 3, "commute", 41.0, year=2024, problem_id=26),
    ]
)
EVIDENCE = pd.DataFrame(
    {
        "place": list("ABCDEF"),
        "indicator": ["park"] * 4 + ["commute"] * 2,
        "year": 2024,
        "value": [12.5, 10.5, 10.4, 10.1, 44.0, 41.0],
        "colour": ["green", "red", "red", "red", "red", "red"],
    }
)


def test_each_status_on_its_case():
    result = recheck(EARLIER, CURRENT, current_evidence=EVIDENCE, indicators=INDICATORS).set_index(
        "place"
    )
    assert result["status"].to_dict() == {
        "A": "resolved",
        "B": "improving",
        "C": "improving",
        "D": "unchanged",
        "E": "worse",
        "F": "worse",
    }
    assert result.at["A", "points_after"] == 0 and pd.isna(result.at["A", "severity_after"])
    assert result.at["E", "severity_after"] == "severe"
    assert result.at["C", "current_problem"] == 23 and result.at["C", "problem"] == 3
    assert result.at["A", "year"] == 2024 and result.at["A", "earlier_year"] == 2023


def test_evidence_carries_before_and_after_direction_aware():
    result = recheck(EARLIER, CURRENT, current_evidence=EVIDENCE, indicators=INDICATORS).set_index(
        "place"
    )
    park = result.at["C", "evidence"][0]
    assert (park["before"], park["after"]) == (10.0, 10.4)
    assert park["relative_change"] == pytest.approx(0.04)
    commute = result.at["F", "evidence"][0]
    assert commute["relative_change"] == pytest.approx(-0.025)  # longer = worse
    assert (
        result.at["F", "explanation"]
        == "F交通拥堵问题加重：平均通勤时间由40升至41分钟（变差2.5%）。"
    )
    assert "已达标" in result.at["A", "explanation"]


def test_tolerance_decides_between_unchanged_and_moving():
    strict = recheck(
        EARLIER, CURRENT, current_evidence=EVIDENCE, indicators=INDICATORS, tolerance=0.005
    )
    assert strict.set_index("place").at["D", "status"] == "improving"  # +1 % counts now
    loose = recheck(
        EARLIER, CURRENT, current_evidence=EVIDENCE, indicators=INDICATORS, tolerance=0.05
    )
    assert loose.set_index("place").at["C", "status"] == "unchanged"


def test_missing_new_value_is_said_plainly():
    result = recheck(
        EARLIER.iloc[[3]], CURRENT, current_evidence=EVIDENCE.iloc[:3], indicators=INDICATORS
    )
    assert result.iloc[0]["status"] == "unchanged"
    assert "本轮无数据" in result.iloc[0]["explanation"]


def test_recheck_rejects_a_frame_that_is_not_a_problem_list():
    with pytest.raises(ParameterError, match="`earlier` must be a problem list DataFrame"):
        recheck(EVIDENCE, CURRENT, current_evidence=EVIDENCE, indicators=INDICATORS)
    with pytest.raises(ParameterError, match="`tolerance` must be a number between 0 and 1"):
        recheck(EARLIER, CURRENT, current_evidence=EVIDENCE, indicators=INDICATORS, tolerance=2)


def test_history_links_recurring_and_returned_problems():
    history = pd.DataFrame(
        {
            "problem": [1, 2, 3, 4],
            "place": ["A", "A", "B", "B"],
            "disease": ["waterlogging"] * 4,
            "year": [2021, 2022, 2021, 2023],
        }
    )
    current = pd.DataFrame(
        {"place": ["A", "B", "C"], "disease": ["waterlogging"] * 3, "year": [2024] * 3}
    )
    linked = link_history(current, history, rounds=[2021, 2022, 2023, 2024]).set_index("place")
    assert linked.at["A", "previous_years"] == [2021, 2022]
    assert linked.at["A", "returned"]  # absent in 2023: resolved, then back
    assert linked.at["B", "previous_problems"] == [3, 4] and linked.at["B", "returned"]
    assert not linked.at["C", "recurring"] and linked.at["C", "first_year"] == 2024
    # Present every round: recurring but never resolved.
    steady = pd.DataFrame({"place": ["A"], "disease": ["waterlogging"], "year": [2023]})
    assert not link_history(steady, history).iloc[0]["returned"]
