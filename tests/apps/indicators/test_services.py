"""Loading, refusing, re-loading and exporting indicator-system files."""

import pandas as pd
import pytest

from citycheck.accounts.models import Department
from citycheck.core.models import ChangeRecord
from citycheck.indicators import services
from citycheck.indicators.models import (
    BaseFigure,
    Crosswalk,
    Dimension,
    Indicator,
    IndicatorSystem,
    Standard,
)

from .conftest import SYSTEMS_DIR

pytestmark = pytest.mark.django_db


def test_a_valid_file_loads_every_part(small_system):
    system = services.import_system_file(small_system)
    assert (system.code, system.version) == ("small", 2024)
    assert list(system.dimensions.values_list("code", flat=True)) == ["ecology", "safety"]
    park = Indicator.objects.get(code="park_per_capita")
    assert park.department.code == "housing" and park.citation
    assert Standard.objects.get(indicator=park, city_class="mega").is_target
    assert not Indicator.objects.get(code="park_share").definition_is_cited
    assert BaseFigure.objects.get(code="people").range_high == 100
    assert ChangeRecord.objects.filter(event="imported").count() == 1


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        (
            "    dimension: safety\n",
            "    dimension: culture\n",
            30,
            "indicators[1].dimension",
            "未知维度",
        ),
        (
            "  - code: park_share\n",
            "  - code: park_per_capita\n",
            29,
            "indicators[1].code",
            "指标代码重复",
        ),
        (
            "formula: park_area / people",
            "formula: park_area / residents",
            21,
            "indicators[0].formula",
            "unknown name 'residents'",
        ),
        (
            "formula: park_area / people",
            "formula: park_area * area",
            21,
            "indicators[0].formula",
            "formula gives 公顷·平方公里, indicator declares 平方米/人",
        ),
        (
            "{city_class: '', comparison: '>=', value: 10",
            "{city_class: '', value: 10",
            27,
            "indicators[0].standards[0].comparison",
            "缺少必填字段",
        ),
        (
            "formula: park_area / area",
            "formula: park_area / area * park_share",
            36,
            "indicators[1].formula",
            "循环引用：park_share → park_share",
        ),
        (
            "    direction: range\n",
            "    direction: sideways\n",
            33,
            "indicators[1].direction",
            "sideways",
        ),
        ("    definition_origin: own\n", "", 29, "indicators[1].citation", "citation"),
        (
            "comparison: between, value: 5, value_high: 15",
            "comparison: between, value: 5",
            42,
            "indicators[1].standards[0].value_high",
            "上限",
        ),
        (
            "comparison: between, value: 5",
            "comparison: '>=', value: 5",
            42,
            "indicators[1].standards[0].comparison",
            "与指标方向",
        ),
        (
            "    department: housing\n",
            "    department: parks\n",
            22,
            "indicators[0].department",
            "未知责任单位",
        ),
        ("    unit: '%'\n", "    unit: 头\n", 32, "indicators[1].unit", "unknown unit '头'"),
        (
            "    rollup: ratio_of_sums\n    citation",
            "    rollup: ratio_of_sums\n    colour: green\n    citation",
            25,
            "indicators[0].colour",
            "未知字段",
        ),
        (
            "city_class: mega",
            "city_class: huge",
            28,
            "indicators[0].standards[1].city_class",
            "huge",
        ),
    ],
    ids=[
        "unknown-dimension",
        "duplicate-code",
        "unknown-figure",
        "unit-mismatch",
        "standard-without-comparison",
        "circular-reference",
        "bad-direction",
        "no-citation",
        "between-without-high",
        "comparison-against-direction",
        "unknown-department",
        "unknown-unit",
        "unknown-field",
        "unknown-city-class",
    ],
)
def test_a_bad_file_is_refused_with_file_line_and_field_and_nothing_is_loaded(
    write_variant, old, new, line, field, message
):
    path = write_variant(old, new)
    with pytest.raises(services.SystemFileError) as caught:
        services.import_system_file(path)
    issue = next(issue for issue in caught.value.issues if issue.field == field)
    assert (issue.file, issue.line) == (str(path), line)
    assert message in issue.message
    assert f"{path}:{line}: {field}: " in str(caught.value)
    for model in (IndicatorSystem, Dimension, Indicator, Standard, BaseFigure, Department):
        assert not model.objects.exists(), model.__name__
    assert services.validate_system_file(path) == caught.value.issues


def test_yaml_syntax_errors_name_the_line(write_variant):
    path = write_variant(
        "  - {code: safety, name_zh: 安全韧性}\n", "  - {code: safety, name_zh: [安全韧性}\n"
    )
    issues = services.validate_system_file(path)
    assert len(issues) == 1 and issues[0].line == 12 and "YAML" in issues[0].message


def test_a_failure_during_loading_rolls_everything_back(small_system, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "record_event", explode)
    with pytest.raises(RuntimeError):
        services.import_system_file(small_system)
    assert not IndicatorSystem.objects.exists() and not Indicator.objects.exists()
    assert not BaseFigure.objects.exists()


def test_importing_the_same_file_twice_changes_nothing(small_system, tmp_path):
    services.import_system_file(small_system)
    changes = ChangeRecord.objects.count()
    stamps = sorted(Indicator.objects.values_list("last_updated", flat=True))
    # Also without the digest shortcut: a copy with an added comment is read again.
    copy = tmp_path / "copy.yaml"
    copy.write_text("# same content\n" + small_system.read_text(encoding="utf-8"), encoding="utf-8")
    services.import_system_file(small_system)
    services.import_system_file(copy)
    assert IndicatorSystem.objects.count() == 1 and Indicator.objects.count() == 2
    assert Standard.objects.count() == 3
    # only the two "imported" events; no row was saved again
    assert ChangeRecord.objects.exclude(event="imported").count() == changes - 1
    assert sorted(Indicator.objects.values_list("last_updated", flat=True)) == stamps


def test_reimporting_a_changed_file_updates_and_removes_rows(small_system, write_variant):
    services.import_system_file(small_system)
    path = write_variant(
        "      - {city_class: mega, comparison: '>=', value: 9, warning_band: 1.5, is_target: true}\n",
        "",
    )
    services.import_system_file(path)
    assert Standard.objects.filter(indicator__code="park_per_capita").count() == 1
    assert ChangeRecord.objects.filter(kind=ChangeRecord.Kind.DELETE).count() == 1


def test_export_reimports_to_the_same_system(small_system, tmp_path):
    system = services.import_system_file(small_system)
    frames = services.system_frame(system), services.standards_frame(system)
    exported = tmp_path / "exported.yaml"
    exported.write_text(services.export_system(system), encoding="utf-8")

    Indicator.objects.all().delete()
    IndicatorSystem.objects.all().delete()
    BaseFigure.objects.all().delete()
    Department.objects.all().delete()
    again = services.import_system_file(exported)

    pd.testing.assert_frame_equal(services.system_frame(again), frames[0])
    pd.testing.assert_frame_equal(services.standards_frame(again), frames[1])
    assert services.export_system(again) == exported.read_text(encoding="utf-8")


def test_frames_fold_the_unit_factor_into_the_formula(small_system):
    system = services.import_system_file(small_system)
    frame = services.system_frame(system).set_index("code")
    assert frame.loc["park_per_capita", "formula"] == "park_area / people"
    assert frame.loc["park_share", "unit_factor"] == 1.0  # 公顷/平方公里 is already 1/100
    assert list(frame.columns[:5]) == [
        "number",
        "name_zh",
        "name_en",
        "dimension",
        "dimension_name",
    ]
    standards = services.standards_frame(system)
    between = standards[standards["comparison"] == "between"].iloc[0]
    assert (between["indicator"], between["value"], between["value_high"], between["type"]) == (
        "park_share",
        5.0,
        15.0,
        "bottom_line",
    )
    assert standards["city_class"].tolist().count("") == 2
    figures = services.base_figures_frame().set_index("code")
    assert figures.loc["people", "range_low"] == 10 and pd.isna(figures.loc["area", "range_low"])


# ── The shipped files ─────────────────────────────────────────────────────────────


@pytest.fixture
def shipped():
    """Every shipped system and the crosswalk, loaded the way the demo loads them."""
    systems = {}
    for name in ("jiangxi-2021", "four-level-2023"):  # jiangxi pulls in national-2021 itself
        system = services.import_system_file(SYSTEMS_DIR / f"{name}.yaml")
        systems[system.code] = system
    systems["national-2021"] = IndicatorSystem.objects.get(code="national-2021")
    services.load_crosswalk(SYSTEMS_DIR / "crosswalk-2021-2023.yaml")
    return systems


@pytest.mark.parametrize(
    "name", ["national-2021", "jiangxi-2021", "four-level-2023", "crosswalk-2021-2023"]
)
def test_every_shipped_file_validates(name):
    assert services.validate_file(SYSTEMS_DIR / f"{name}.yaml") == []


def test_the_national_system_has_eight_dimensions_and_60_to_70_indicators(shipped):
    frame = services.system_frame(shipped["national-2021"])
    assert frame["dimension_name"].unique().tolist() == [
        "生态宜居",
        "健康舒适",
        "安全韧性",
        "交通便捷",
        "风貌特色",
        "整洁有序",
        "多元包容",
        "创新活力",
    ]
    assert 60 <= len(frame) <= 70
    assert frame["code"].is_unique
    assert frame["is_cited"].sum() >= 20
    assert (frame["formula"] != "").sum() >= 10
    assert set(frame["rollup"]) == {"sum", "ratio_of_sums", "population_weighted_mean", "none"}
    assert set(frame["type"]) == {"guiding", "bottom_line"}


def test_jiangxi_extends_the_national_system(shipped):
    jiangxi, national = shipped["jiangxi-2021"], shipped["national-2021"]
    frame = services.system_frame(jiangxi)
    own = frame[frame["system"] == "jiangxi-2021"]
    assert len(frame) == len(services.system_frame(national)) + len(own)
    assert len(own) >= 3 and set(own["tier"]) == {"provincial"}
    assert set(own["dimension"]) <= set(national.dimensions.values_list("code", flat=True))
    assert jiangxi.extends == national


def test_the_four_level_system_and_the_crosswalk(shipped):
    frame = services.system_frame(shipped["four-level-2023"])
    assert frame["dimension_name"].unique().tolist() == [
        "住房",
        "小区（社区）",
        "街区",
        "城区（城市）",
    ]
    assert 50 <= len(frame) <= 60
    pairs = Crosswalk.objects.select_related("source__system", "target__system")
    assert pairs.count() >= 25
    assert {p.source.system.code for p in pairs} == {"national-2021"}
    assert {p.target.system.code for p in pairs} == {"four-level-2023"}
    assert set(pairs.values_list("relation", flat=True)) == {"same", "similar", "part"}


def test_shipped_formulas_evaluate_in_the_declared_units(shipped):
    frame = services.system_frame(shipped["national-2021"]).set_index("code")
    from citycheck.engine.formulas import evaluate

    inputs = pd.DataFrame(
        {
            "park_green_area": [500.0],
            "urban_resident_population": [50.0],  # 公顷, 万人
            "built_up_area": [100.0],
            "district_area": [1000.0],  # 平方公里
            "cultural_building_area": [10.0],
            "resident_population": [100.0],  # 万平方米, 万人
        }
    )
    assert evaluate(frame.loc["park_green_area_per_capita", "formula"], inputs).iloc[
        0
    ] == pytest.approx(10.0)
    assert evaluate(frame.loc["regional_development_intensity", "formula"], inputs).iloc[
        0
    ] == pytest.approx(10.0)
    assert evaluate(frame.loc["cultural_building_area_per_10k", "formula"], inputs).iloc[
        0
    ] == pytest.approx(1000.0)


def test_departments_are_loaded_from_the_shared_file(shipped):
    assert Department.objects.get(code="housing").name_zh == "住房城乡建设"
    assert Department.objects.filter(code="natural_resources").exists()


def test_a_crosswalk_naming_an_unknown_indicator_is_refused(shipped, tmp_path):
    path = tmp_path / "crosswalk.yaml"
    path.write_text(
        "crosswalk:\n"
        "  source: {code: national-2021, version: 2021}\n"
        "  target: {code: four-level-2023, version: 2023}\n"
        "  pairs:\n"
        "    - {source: greenway_coverage, target: no_such_indicator, relation: same}\n",
        encoding="utf-8",
    )
    before = Crosswalk.objects.count()
    with pytest.raises(services.SystemFileError) as caught:
        services.import_file(path)
    assert (
        caught.value.issues[0].line == 5
        and caught.value.issues[0].field == "crosswalk.pairs[0].target"
    )
    assert Crosswalk.objects.count() == before


def test_a_system_is_named_with_its_version_once():
    from citycheck.indicators.models import IndicatorSystem

    named_with_year = IndicatorSystem(
        code="jx", name_zh="江西省城市体检指标体系（2021）", version=2021
    )
    plain = IndicatorSystem(code="nat", name_zh="城市体检指标体系", version=2021)
    assert str(named_with_year) == "江西省城市体检指标体系（2021）"
    assert str(plain) == "城市体检指标体系（2021）"
