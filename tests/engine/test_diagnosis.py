"""Diagnosis rules: each disease triggers on its pattern and not on near-misses."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from citycheck.engine._validation import DataError, ParameterError
from citycheck.engine.diagnosis import (
    DiseaseCatalogue,
    diagnose,
    indicator_evidence,
    load_catalogue,
    standard_status,
)

REPO = Path(__file__).resolve().parents[2]
CATALOGUE_FILE = REPO / "data" / "diagnosis" / "diseases.yaml"
SYSTEM_FILE = REPO / "data" / "systems" / "national-2021.yaml"
YEARS = [2022, 2023, 2024]
PLACES = [f"P{i}" for i in range(8)]
WEAK = "P0"

REQUIRED_DISEASES = {
    "traffic_congestion",
    "housing_difficulty",
    "waterlogging",
    "public_service_shortage",
    "environmental_pollution",
    "lack_of_green_space",
    "disordered_townscape",
    "neglected_heritage",
    "safety_hazards",
    "jobs_housing_imbalance",
    "old_compounds_disrepair",
    "weak_innovation",
}


@pytest.fixture(scope="module")
def catalogue() -> DiseaseCatalogue:
    return load_catalogue(CATALOGUE_FILE)


@pytest.fixture(scope="module")
def system():
    """Indicator and standard frames of the shipped national system, read from its YAML."""
    document = yaml.safe_load(SYSTEM_FILE.read_text(encoding="utf-8"))
    defaults = document.get("defaults", {})
    indicators, standards = [], []
    for entry in document["indicators"]:
        row = {**defaults, **entry}
        indicators.append(
            {
                "code": row["code"],
                "name_zh": row["name_zh"],
                "unit": row["unit"],
                "direction": row["direction"],
                "type": row.get("type", "guiding"),
                "department": row.get("department", ""),
                "decimals": row.get("decimals", 2),
                "dimension": row["dimension"],
            }
        )
        for standard in entry.get("standards") or []:
            standards.append(
                {
                    "indicator": row["code"],
                    "city_class": standard.get("city_class", ""),
                    "comparison": standard["comparison"],
                    "value": standard["value"],
                    "value_high": standard.get("value_high"),
                    "warning_band": standard.get("warning_band", 0.0),
                    "type": row.get("type", "guiding"),
                }
            )
    return pd.DataFrame(indicators), pd.DataFrame(standards)


def _generic_standard(standards, code):
    rows = standards[(standards["indicator"] == code) & (standards["city_class"] == "")]
    return rows.iloc[0] if len(rows) else None


def healthy_panel(indicators, standards) -> pd.DataFrame:
    """Every place green on every standard, stable over the years, distinct ranks."""
    columns = {}
    for _, ind in indicators.iterrows():
        standard = _generic_standard(standards, ind["code"])
        if standard is None:
            base = 50.0
        elif standard["comparison"] == ">=":
            base = standard["value"] + 2 * standard["warning_band"] + 5
        elif standard["comparison"] == "<=":
            base = standard["value"] * 0.5
        else:
            base = (standard["value"] + standard["value_high"]) / 2
        sign = {"higher": 1, "lower": -1, "range": 0}[ind["direction"]]
        # Distinct ranks, the weak place P0 in the middle; flat over the years.
        step = 0.01 * abs(base) * sign  # a zero base (a count with standard 0) stays tied
        columns[ind["code"]] = [
            base + step * ((i + 4) % len(PLACES)) for i, _ in enumerate(PLACES) for _ in YEARS
        ]
    index = pd.MultiIndex.from_product([PLACES, YEARS], names=["place", "year"])
    return pd.DataFrame(columns, index=index)


def run(panel, catalogue, system, **options):
    indicators, standards = system
    return diagnose(
        panel,
        catalogue=catalogue,
        indicators=indicators,
        standards=standards,
        city_classes=dict.fromkeys(PLACES, "medium"),
        **options,
    )


def plant(panel, code, series):
    planted = panel.copy()
    planted.loc[(WEAK, YEARS), code] = series
    return planted


def declining(panel, code, direction, factors):
    """The weak place's series moving the wrong way by the given factors."""
    start = panel.loc[(WEAK, YEARS[0]), code]
    if direction == "higher":
        return [start * f for f in factors]
    if start == 0:  # a count whose standard is zero: every step up is a breach
        return [(1 - f) * 10 for f in factors]
    return [start / f for f in factors]


# --- the catalogue ---------------------------------------------------------------------


def test_catalogue_has_every_required_disease(catalogue):
    assert {d.code for d in catalogue.diseases} >= REQUIRED_DISEASES
    for disease in catalogue.diseases:
        assert disease.name_zh and disease.name_en and disease.indicators
        assert "{evidence}" in disease.template


def test_catalogue_names_only_indicators_of_the_national_system(catalogue, system):
    indicators, _ = system
    assert catalogue.indicator_codes <= set(indicators["code"])
    dimensions = set(indicators["dimension"])
    assert {d.dimension for d in catalogue.diseases} <= dimensions


def test_each_trigger_indicator_belongs_to_one_disease(catalogue):
    triggers = [code for d in catalogue.diseases for code in d.indicators]
    assert len(triggers) == len(set(triggers))


def test_catalogue_errors_name_the_disease_and_field(tmp_path):
    document = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    document["diseases"][2]["colour"] = "red"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError, match=r"disease 3 \(waterlogging\): unknown field 'colour'"):
        load_catalogue(bad)
    document["diseases"][2].pop("colour")
    document["diseases"][2]["rules"] = {"points": {"rumour": 2}}
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError, match="unknown signal 'rumour'"):
        load_catalogue(bad)


def test_disease_rules_override_the_defaults(catalogue):
    heritage = catalogue.get("neglected_heritage")
    assert heritage.rules.points["bottom_line_failure"] == 4
    assert heritage.rules.points["red_warning"] == 2  # inherited
    assert catalogue.get("waterlogging").rules.points["bottom_line_failure"] == 3


# --- each disease: its pattern triggers, the near-miss does not -------------------------


def test_a_healthy_province_has_no_problems(catalogue, system):
    panel = healthy_panel(*system)
    assert run(panel, catalogue, system).empty


@pytest.mark.parametrize("disease_code", sorted(REQUIRED_DISEASES | {"overdevelopment"}))
def test_each_disease_triggers_on_its_pattern(catalogue, system, disease_code):
    indicators, standards = system
    disease = catalogue.get(disease_code)
    code = disease.indicators[0]
    direction = indicators.set_index("code").at[code, "direction"]
    panel = healthy_panel(indicators, standards)
    # Worst among the peers and 12 % worse over three years in two steps.
    problems = run(
        plant(panel, code, declining(panel, code, direction, [1.0, 0.94, 0.88])), catalogue, system
    )
    assert problems[["place", "disease"]].values.tolist() == [[WEAK, disease_code]]
    problem = problems.iloc[0]
    assert {"lowest_quartile", "deterioration"} <= set(problem["signals"])
    assert problem["evidence"][0]["indicator"] == code
    assert problem["evidence"][0]["peer_rank"] == len(PLACES)


@pytest.mark.parametrize("disease_code", sorted(REQUIRED_DISEASES | {"overdevelopment"}))
def test_each_disease_ignores_a_near_miss(catalogue, system, disease_code):
    indicators, standards = system
    code = catalogue.get(disease_code).indicators[0]
    direction = indicators.set_index("code").at[code, "direction"]
    panel = healthy_panel(indicators, standards)
    # Still the worst, but only 4 % worse, in one step: one signal, below the trigger.
    # (A count whose standard is zero stays at zero: any rise already breaches it.)
    start = panel.loc[(WEAK, YEARS[0]), code]
    factors = [1.0, 1.0, 0.96] if start != 0 else [1.0, 1.0, 1.0]
    near_miss = plant(panel, code, declining(panel, code, direction, factors))
    assert run(near_miss, catalogue, system).empty


def test_bottom_line_failure_is_moderate_and_meeting_the_line_is_not(catalogue, system):
    panel = healthy_panel(*system)  # waterlogging_point_density: <= 0.05, band 0.05, bottom line
    failing = run(plant(panel, "waterlogging_point_density", [0.08] * 3), catalogue, system)
    assert failing[["disease", "severity", "points"]].values.tolist() == [
        ["waterlogging", "moderate", 4]
    ]
    assert failing.iloc[0]["signals"] == ["bottom_line_failure", "lowest_quartile"]
    at_the_line = run(plant(panel, "waterlogging_point_density", [0.05] * 3), catalogue, system)
    assert at_the_line.empty


def test_red_warning_triggers_and_yellow_does_not(catalogue, system):
    panel = healthy_panel(*system)  # affordable_kindergarten_coverage: >= 80, band 5, guiding
    red = run(plant(panel, "affordable_kindergarten_coverage", [74.9] * 3), catalogue, system)
    assert red[["disease", "signals"]].values.tolist() == [
        ["public_service_shortage", ["red_warning", "lowest_quartile"]]
    ]
    yellow = run(plant(panel, "affordable_kindergarten_coverage", [75.0] * 3), catalogue, system)
    assert yellow.empty


def test_severe_needs_five_points(catalogue, system):
    panel = healthy_panel(*system)
    # Bottom-line and red (3 + 2) + lowest quartile + deterioration = 7.
    severe = run(plant(panel, "waterlogging_point_density", [0.05, 0.12, 0.2]), catalogue, system)
    assert severe.iloc[0]["severity"] == "severe"
    assert severe.iloc[0]["points"] == 7


def test_two_consecutive_small_declines_count_as_deterioration(catalogue, system):
    panel = healthy_panel(*system)
    start = panel.loc[(WEAK, YEARS[0]), "rd_share_of_gdp"]
    two_steps = run(
        plant(panel, "rd_share_of_gdp", [start, start * 0.98, start * 0.96]), catalogue, system
    )
    assert two_steps["disease"].tolist() == ["weak_innovation"]
    assert two_steps.iloc[0]["evidence"][0]["consecutive_declines"] == 2
    # Steps below the 1 % minimum are noise, not a decline.
    tiny = run(
        plant(panel, "rd_share_of_gdp", [start, start * 0.995, start * 0.99]), catalogue, system
    )
    assert tiny.empty


def test_lowest_quartile_is_measured_within_the_peer_group(catalogue, system):
    panel = healthy_panel(*system)
    start = panel.loc[(WEAK, YEARS[0]), "rd_share_of_gdp"]
    planted = plant(panel, "rd_share_of_gdp", [start, start * 0.94, start * 0.88])
    groups = {p: ("a" if i < 4 else "b") for i, p in enumerate(PLACES)}
    # In group a of 4 places P0 is still last (bottom share 1/4): raised.
    assert run(planted, catalogue, system, peer_groups=groups)["place"].tolist() == [WEAK]
    # Among 3 peers there is no quartile to speak of: only the decline remains.
    small = {p: ("a" if i < 3 else "b") for i, p in enumerate(PLACES)}
    assert run(planted, catalogue, system, peer_groups=small).empty


def test_dissatisfaction_raises_severity_but_never_a_problem_alone(catalogue, system):
    panel = healthy_panel(*system)
    planted = plant(panel, "affordable_kindergarten_coverage", [74.9] * 3)  # 3 points: moderate
    unhappy = pd.DataFrame({"health_comfort": [55.0] * len(PLACES)}, index=PLACES)
    content = pd.DataFrame({"health_comfort": [60.0] * len(PLACES)}, index=PLACES)
    raised = run(planted, catalogue, system, satisfaction=unhappy)
    assert raised.iloc[0]["points"] == 4 and "dissatisfaction" in raised.iloc[0]["signals"]
    assert "居民对健康舒适的满意度为55分，低于60分" in raised.iloc[0]["explanation"]
    assert run(planted, catalogue, system, satisfaction=content).iloc[0]["points"] == 3
    assert run(panel, catalogue, system, satisfaction=unhappy.assign(health_comfort=20.0)).empty


def test_explanation_reads_with_numbers(catalogue, system):
    indicators, standards = system
    panel = healthy_panel(indicators, standards)
    planted = plant(panel, "affordable_kindergarten_coverage", [80.5, 77.0, 74.0])
    names = {WEAK: "南昌县"}
    problem = run(planted, catalogue, system, place_names=names).iloc[0]
    text = problem["explanation"]
    assert text.startswith(
        "南昌县存在公共服务设施不足问题（较重）：普惠性幼儿园覆盖率74%，低于标准80（差6）"
    )
    assert "在同类城市中位于后25%（第8/8名）" in text
    assert "近3年下降8.1%（连续2年变差）" in text
    assert "建议由education牵头研究解决" in text
    item = problem["evidence"][0]
    assert item["standard"] == 80 and item["gap"] == pytest.approx(6.0)
    assert item["trend_change"] == pytest.approx(74 / 80.5 - 1)
    assert item["sentence"].startswith("南昌县普惠性幼儿园覆盖率74%")


def test_weak_cause_indicators_and_their_departments_are_listed(catalogue, system):
    indicators, standards = system
    panel = healthy_panel(indicators, standards)
    planted = plant(panel, "affordable_kindergarten_coverage", [74.9] * 3)
    planted.loc[(WEAK, YEARS), "hospital_coverage"] = 1.0  # a cause indicator, the lowest
    problem = run(planted, catalogue, system).iloc[0]
    causes = {c["indicator"]: c for c in problem["causes"]}
    assert set(causes) >= {"hospital_coverage"}
    assert causes["hospital_coverage"]["note"] == "同类第8/8名"
    assert problem["departments"][:2] == ["education", "health"]
    assert "相关指标" in problem["explanation"]


def test_problems_are_sorted_worst_first_and_inputs_untouched(catalogue, system):
    indicators, standards = system
    panel = healthy_panel(indicators, standards)
    planted = plant(panel, "affordable_kindergarten_coverage", [74.9] * 3)
    planted = plant(planted, "waterlogging_point_density", [0.05, 0.12, 0.2])
    copies = planted.copy(), indicators.copy(), standards.copy()
    problems = run(planted, catalogue, system)
    assert problems["disease"].tolist() == ["waterlogging", "public_service_shortage"]
    pd.testing.assert_frame_equal(planted, copies[0])
    pd.testing.assert_frame_equal(indicators, copies[1])
    pd.testing.assert_frame_equal(standards, copies[2])


def test_a_mixed_province_has_some_problems_everywhere_but_not_all(catalogue, system):
    """Plausibility on a random province: most places have a few problems, none all."""
    indicators, standards = system
    rng = np.random.default_rng(7)
    places = [f"C{i:02d}" for i in range(40)]
    index = pd.MultiIndex.from_product([places, YEARS], names=["place", "year"])
    healthy = healthy_panel(indicators, standards).xs("P4", level="place").iloc[0]
    columns = {}
    for code, base in healthy.items():
        level = rng.normal(1.0, 0.25, len(places))
        trend = rng.normal(0.0, 0.04, len(places))
        noise = rng.normal(0.0, 0.01, (len(places), len(YEARS)))
        factor = level[:, None] * (1 + trend[:, None] * np.arange(len(YEARS)) + noise)
        columns[code] = (abs(base) + 1.0) * factor.ravel()
    problems = diagnose(
        pd.DataFrame(columns, index=index),
        catalogue=catalogue,
        indicators=indicators,
        standards=standards,
        city_classes=dict.fromkeys(places, "medium"),
    )
    per_place = problems.groupby("place")["disease"].nunique().reindex(places, fill_value=0)
    assert (per_place > 0).mean() > 0.8
    assert per_place.max() < len(catalogue.diseases)
    assert set(problems["severity"]) <= {"severe", "moderate", "mild"}
    assert problems["explanation"].str.len().gt(20).all()


# --- evidence and parameters -----------------------------------------------------------


def test_indicator_evidence_ranks_lower_is_better_indicators_the_right_way():
    index = pd.MultiIndex.from_product(
        [["A", "B", "C", "D"], [2023, 2024]], names=["place", "year"]
    )
    values = pd.DataFrame({"commute": [30, 31, 25, 25, 40, 44, 35, 35.0]}, index=index)
    indicators = pd.DataFrame({"code": ["commute"], "direction": ["lower"]})
    evidence = indicator_evidence(values, indicators=indicators, trend_years=2).set_index("place")
    assert evidence["peer_rank"].to_dict() == {"A": 2, "B": 1, "C": 4, "D": 3}
    assert evidence.at["C", "trend_change"] == pytest.approx(-0.1)  # 10 % longer = 10 % worse


def test_range_indicators_have_no_peer_position_or_trend():
    index = pd.MultiIndex.from_product(
        [["A", "B", "C", "D"], [2023, 2024]], names=["place", "year"]
    )
    values = pd.DataFrame({"age": [30, 31, 35, 36, 40, 44, 35, 35.0]}, index=index)
    indicators = pd.DataFrame({"code": ["age"], "direction": ["range"]})
    evidence = indicator_evidence(values, indicators=indicators, trend_years=2)
    assert evidence["peer_rank"].isna().all() and evidence["trend_change"].isna().all()


def test_standard_status_uses_the_class_standard_before_the_general_one():
    values = pd.DataFrame({"commute": [38.0, 38.0]}, index=["big", "small"])
    standards = pd.DataFrame(
        {
            "indicator": ["commute", "commute"],
            "city_class": ["mega", ""],
            "comparison": ["<=", "<="],
            "value": [40.0, 30.0],
            "warning_band": [5.0, 5.0],
        }
    )
    indicators = pd.DataFrame(
        {"code": ["commute"], "direction": ["lower"], "type": ["bottom_line"]}
    )
    status = standard_status(
        values, standards=standards, indicators=indicators, city_classes={"big": "mega"}
    ).set_index("place")
    assert status["colour"].to_dict() == {"big": "green", "small": "red"}
    assert status["bottom_line_failure"].to_dict() == {"big": False, "small": True}


def test_bad_parameters_name_the_parameter(catalogue, system):
    indicators, standards = system
    panel = healthy_panel(indicators, standards)
    with pytest.raises(ParameterError, match="`year` must be a year present in `values`; got 1999"):
        diagnose(panel, catalogue=catalogue, indicators=indicators, year=1999)
    with pytest.raises(ParameterError, match="`catalogue` must be a DiseaseCatalogue"):
        diagnose(panel, catalogue={}, indicators=indicators)
    with pytest.raises(ParameterError, match="`values` must be a DataFrame indexed by"):
        diagnose(panel.reset_index(drop=True), catalogue=catalogue, indicators=indicators)
    with pytest.raises(DataError, match="indicator 'park_green_area_per_capita'"):
        diagnose(
            panel,
            catalogue=catalogue,
            indicators=indicators[indicators["code"] != "park_green_area_per_capita"],
        )
    with pytest.raises(ParameterError, match="`trend_years` must be an integer >= 2; got 1"):
        indicator_evidence(panel, indicators=indicators, trend_years=1)
