"""What the annual report says: only what was true in the release's year, inherited
indicators described, display names instead of internal codes, the method in words, and
the language of the preview versus the official files."""

import datetime as dt

from django.urls import reverse
from django.utils import translation

from citycheck.accounts.models import Department
from citycheck.assessment.labels import standard_label
from citycheck.collection.models import Round
from citycheck.core.choices import Role
from citycheck.diagnosis.models import Problem, ProblemStatus, Severity
from citycheck.indicators.models import (
    BaseFigure,
    Direction,
    Indicator,
    IndicatorSystem,
    IndicatorType,
    Rollup,
    SourceKind,
    Tier,
)
from citycheck.renewal import services as renewal
from citycheck.renewal.models import ProjectStatus, RenewalProject
from citycheck.reports import render, services
from citycheck.reports.content import city_report, formula_text, method_section
from citycheck.testing import docx_text

COUNTY = "360102"


def section(document, title):
    return next(s for s in document.sections if s.title == title)


def project_rows(document) -> list[list[str]]:
    (block,) = section(document, "治理措施与项目清单").blocks
    return getattr(block, "rows", [])


def project(place, year, name, *, status=ProjectStatus.ADOPTED, **fields):
    return RenewalProject.objects.create(
        place=place,
        year=year,
        name=name,
        project_type=fields.pop("project_type", "drainage_works"),
        budget=1000,
        start=dt.date(year, 1, 1),
        end=dt.date(year, 12, 31),
        status=status,
        **fields,
    )


def test_projects_are_shown_as_they_stood_at_the_end_of_the_release_year(
    province, published_release
):
    county = province.places["county"]
    started = project(county, 2024, "排水管网改造工程")
    renewal.report_progress(started, month=dt.date(2024, 6, 1), percent_complete=40)
    finished = project(county, 2023, "口袋公园建设")
    renewal.report_progress(finished, month=dt.date(2023, 11, 1), percent_complete=100)
    project(county, 2024, "积水点整治")  # adopted, never reported on
    project(county, 2024, "候选改造项目", status=ProjectStatus.CANDIDATE)
    project(county, 2025, "下年度计划项目")  # planned for the year after the round
    project(county, 2024, "已取消项目", status=ProjectStatus.CANCELLED)

    published = project_rows(city_report(published_release, county))
    assert [(row[0], row[1], row[5], row[6]) for row in published] == [
        ("口袋公园建设", "2023", "已完工", "100.0"),
        ("排水管网改造工程", "2024", "在建", "40.0"),
        ("积水点整治", "2024", "未开工", "—"),
    ]

    # What happens after the year changes nothing in that year's report.
    renewal.report_progress(started, month=dt.date(2025, 3, 1), percent_complete=100)
    started.refresh_from_db()
    assert started.status == ProjectStatus.FINISHED
    project(county, 2024, "新增候选项目", status=ProjectStatus.CANDIDATE)
    project(county, 2025, "新入库项目")
    assert project_rows(city_report(published_release, county)) == published


def test_inherited_indicators_keep_their_unit_and_department(province, published_release):
    base = province.system
    regional = IndicatorSystem.objects.create(
        code="regional", version=2024, name_zh="省级指标体系", extends=base
    )
    Indicator.objects.create(
        system=regional,
        dimension=province.indicators["green_space"].dimension,
        code="forest_cover",
        name_zh="建成区森林覆盖率",
        unit="%",
        direction=Direction.HIGHER,
        type=IndicatorType.GUIDING,
        tier=Tier.PROVINCIAL,
        source_kind=SourceKind.STATISTICS,
        rollup=Rollup.POPULATION_WEIGHTED_MEAN,
    )
    Round.objects.filter(pk=published_release.round_id).update(system=regional)
    published_release.refresh_from_db()

    document = city_report(published_release, province.places["county"])
    dimensions = section(document, "分维度评价")
    rows = {row[0]: row for part in dimensions.subsections for row in part.blocks[1].rows}
    assert rows["人均公园绿地面积"][1] == "m²/人"
    assert rows["人均公园绿地面积"][7] == "住房城乡建设部门"
    assert rows["城市内涝积水点数量"][1] == "个"
    (_sentence, _sources, *_missing_data, definitions) = section(
        document, "数据来源与评价方法"
    ).blocks
    assert {row[0]: row[1] for row in definitions.rows} == {
        "人均公园绿地面积": "m²/人",
        "建成区人口密度": "人/km²",
        "城市内涝积水点数量": "个",
    }


def test_tables_name_project_types_and_departments_not_their_codes(
    province, published_release, tmp_path
):
    county = province.places["county"]
    Department.objects.create(code="water", name_zh="水利部门")
    project(county, 2024, "排水管网改造工程", unit="housing、water")
    project(
        county, 2024, "历史街区修缮", project_type="historic_district_protection", unit="市文旅局"
    )
    Problem.objects.create(
        round=province.open_round,
        place=county,
        disease="waterlogging",
        disease_name="城市内涝",
        dimension="safe",
        severity=Severity.SEVERE,
        points=5,
        departments=["housing", "resources"],
        first_year=2024,
        status=ProblemStatus.CONFIRMED,
    )
    docx_path, html_path = services.render_report(
        published_release, county, ["docx", "html"], tmp_path
    )
    for text in (docx_text(docx_path), html_path.read_text()):
        assert "排水防涝工程" in text and "历史文化街区保护" in text
        assert "住房城乡建设部门、水利部门" in text and "市文旅局" in text
        assert "住房城乡建设部门、自然资源部门" in text
        for code in ("drainage_works", "historic_district_protection", "housing", "water"):
            assert code not in text


def test_method_is_described_by_name_in_either_language(published_release):
    (sentence, *_rest) = method_section(published_release).blocks
    assert "标准化采用极差标准化" in sentence.text
    assert "指标权重采用专家赋权" in sentence.text and "熵值法（乘积组合）" in sentence.text
    assert "维度权重采用等权" in sentence.text
    assert "加权算术平均" in sentence.text and "加权几何平均" in sentence.text
    for code in ("minmax", "product", "entropy", "equal", "arithmetic", "geometric"):
        assert code not in sentence.text
    with translation.override("en"):
        (sentence, *_rest) = method_section(published_release).blocks
    assert "normalisation by min-max normalisation" in sentence.text.lower()
    assert "entropy method (product)" in sentence.text.lower()
    assert "weighted geometric mean" in sentence.text.lower()
    assert "采用" not in sentence.text and "minmax" not in sentence.text


def test_english_preview_numbers_sections_the_english_way(province, published_release):
    county = province.places["county"]
    with translation.override("en"):
        document = city_report(published_release, county)
        html = render.render_html(document)
    numbers = [(number, s.title) for number, s, _subs in document.numbered()]
    assert numbers[0] == ("1. ", "City overview")
    assert [n for n, _s in document.numbered()[2][2]] == ["3.1 ", "3.2 "]
    assert "1. City overview" in html and "一、" not in html and "（一）" not in html
    table = section(document, "Assessment by dimension").subsections[0].blocks[1]
    assert "：" not in table.note and "。" not in table.note
    with translation.override("zh-hans"):
        chinese = city_report(published_release, county)
    assert [n for n, _s, _subs in chinese.numbered()[:3]] == ["一、", "二、", "三、"]
    assert [n for n, _s in chinese.numbered()[2][2]] == ["（一）", "（二）"]


def test_preview_follows_the_reader_and_files_are_always_chinese(
    client, province, published_release, media_root
):
    client.force_login(province.users[Role.CITY_ADMIN])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("reports:report", args=[published_release.pk, COUNTY]))
    text = page.content.decode()
    assert "1. City overview" in text and "一、城市概况" not in text
    download = client.get(
        reverse("reports:report_download", args=[published_release.pk, COUNTY, "html"])
    )
    html = b"".join(download.streaming_content).decode()
    assert "一、城市概况" in html and "City overview" not in html
    assert '<html lang="zh-hans">' in html


def test_formulas_name_base_figures_and_indicators_by_parsed_names():
    names = {"area": "面积", "area_total": "总面积", "population": "常住人口"}
    assert formula_text("area / population", names) == "面积 / 常住人口"
    # A code inside a longer code is not replaced: names are substituted as parsed names.
    assert formula_text("100 * (area_total - max(0, area))/population", names) == (
        "100 * (总面积 - max(0, 面积))/常住人口"
    )
    assert formula_text("unknown_code / area", names) == "unknown_code / 面积"
    assert formula_text("area +* population", names) == "area +* population"
    assert formula_text("", names) == "—"


def test_method_table_shows_formulas_in_names(province, published_release):
    BaseFigure.objects.create(
        code="park_green_area", name_zh="公园绿地面积", name_en="Park green area", unit="公顷"
    )
    BaseFigure.objects.create(code="resident_population", name_zh="常住人口", unit="万人")

    def formulas(release) -> dict[str, str]:
        (_sentence, _sources, *_missing_data, definitions) = method_section(release).blocks
        return {row[0]: row[2] for row in definitions.rows}

    assert formulas(published_release)["人均公园绿地面积"] == "公园绿地面积 / 常住人口"
    with translation.override("en"):
        # English where recorded, Chinese where not.
        assert formulas(published_release)["人均公园绿地面积"] == "Park green area / 常住人口"


def test_standards_are_written_with_official_signs(province, published_release):
    # as stored now, and as releases computed before stored them
    assert [standard_label(s) for s in ("≥ 87.5", ">= 87.5", "<= 50", "8–12", "")] == [
        "≥ 87.5",
        "≥ 87.5",
        "≤ 50",
        "8–12",
        "—",
    ]
    document = city_report(published_release, province.places["county"])
    dimensions = section(document, "分维度评价")
    rows = {row[0]: row for part in dimensions.subsections for row in part.blocks[1].rows}
    assert rows["人均公园绿地面积"][3] == "≥ 12"
    assert rows["城市内涝积水点数量"][3] == "≤ 0"


def test_method_section_lists_places_not_ranked_and_indicators_left_out(published_release):
    published_release.details["levels"]["county"]["screened_out"] = ["360403"]
    published_release.details["levels"]["county"]["left_out"] = {"waterlogging": "no_values"}
    published_release.details["levels"]["county"]["imputations"] = [
        {"place": "360402", "indicator": "green_space", "value": 11.5, "method": "mean"}
    ]
    published_release.save(update_fields=["details"])
    blocks = method_section(published_release).blocks
    texts = [block.text for block in blocks if hasattr(block, "text")]
    assert any("浔阳区" in text and "城市内涝积水点数量" in text for text in texts)
    imputed = next(b for b in blocks if getattr(b, "caption", "").endswith("插补的数值"))
    assert imputed.rows == [["濂溪区", "人均公园绿地面积", "11.5", "均值插补"]]
