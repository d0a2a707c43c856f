"""Reports contain what they claim (Word read with python-docx, PDF with pdftotext), are
built from published releases only, regenerate identically, keep officials' readings."""

import datetime as dt
import shutil
import subprocess
import zipfile

import docx
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from citycheck.assessment.models import Level
from citycheck.core.choices import Role
from citycheck.core.jobs import start_job
from citycheck.core.models import ChangeRecord, Job
from citycheck.diagnosis.models import Problem, ProblemStatus, Severity
from citycheck.renewal.models import ProjectStatus, RenewalProject
from citycheck.reports import services
from citycheck.reports.content import city_report
from citycheck.reports.summaries import quarterly_bulletin
from citycheck.testing import docx_text

COUNTY = "360102"  # 东湖区, best of the four counties


def pdf_text(path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def index_of(release, code=COUNTY):
    return release.results.get(level=Level.INDEX, place__code=code)


def test_word_report_has_title_page_toc_numbered_sections_and_numbers(
    province, published_release, tmp_path
):
    (path,) = services.render_report(
        published_release, province.places["county"], ["docx"], tmp_path
    )
    document = docx.Document(str(path))
    text = docx_text(path)
    assert document.paragraphs[4].text == "2024年度城市体检报告"
    assert "东湖区" in text and f"评价结果 #{published_release.pk}" in text
    assert 'TOC \\o "1-2"' in document.element.xml  # the table of contents field
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["一、城市概况", "二、城市健康指数", "三、分维度评价"]
    assert "（一）生态宜居" in headings and "（二）安全韧性" in headings
    assert "七、满意度调查" in headings and "八、15分钟生活圈" in headings
    assert "九、数据来源与评价方法" in headings
    index = index_of(published_release)
    assert f"{index.score:.2f}" in text and f"{index.rank}/{index.place_count}" in text
    # indicator table: value, unit, standard and 达标 of 人均公园绿地面积 (16.0 ≥ 12)
    row = next(
        [c.text for c in r.cells]
        for t in document.tables
        for r in t.rows
        if r.cells[0].text == "人均公园绿地面积"
    )
    assert row[1:5] == ["m²/人", "16.00", "≥ 12", "达标"]
    assert "标准依据：人均公园绿地面积：住房和城乡建设部《城市体检指标体系》（2021）" in text
    assert "本轮未开展满意度调查。" in text
    assert "本轮尚无问题清单。" in text and "本轮尚无治理措施与项目。" in text
    assert len(document.inline_shapes) == 3  # map, radar, trend drawn on the server


def test_pdf_report_embeds_the_cjk_font_and_holds_the_numbers(
    province, published_release, tmp_path
):
    (path,) = services.render_report(
        published_release, province.places["county"], ["pdf"], tmp_path
    )
    text = pdf_text(path)
    assert "2024年度城市体检报告" in text and "东湖区" in text
    assert "一、城市概况" in text and "城市健康指数" in text
    assert f"{index_of(published_release).score:.2f}" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK" in line]
    assert cjk and all(" yes yes " in line for line in cjk)  # embedded, subset


def test_same_release_regenerates_the_same_content(province, published_release, tmp_path):
    place = province.places["county"]
    first = services.render_report(
        published_release, place, ["docx", "pdf", "html"], tmp_path / "a"
    )
    second = services.render_report(
        published_release, place, ["docx", "pdf", "html"], tmp_path / "b"
    )
    assert docx_text(first[0]) == docx_text(second[0])
    assert pdf_text(first[1]) == pdf_text(second[1])
    assert first[2].read_text() == second[2].read_text()


def test_reports_come_from_published_releases_only(province, draft_release, tmp_path):
    with pytest.raises(services.ReportError, match="尚未发布"):
        services.render_report(draft_release, province.places["county"], ["html"], tmp_path)
    (preview,) = services.render_report(
        draft_release, province.places["county"], ["html"], tmp_path, preview=True
    )
    assert "（草稿，未发布）" in preview.read_text()
    with pytest.raises(services.ReportError, match="format"):
        services.check_formats(["odt"])


def test_readings_are_edited_on_drafts_kept_with_author_and_frozen_by_publication(
    province, draft_release, tmp_path
):
    admin = province.users[Role.PROVINCE_ADMIN]
    county = province.places["county"]
    services.save_reading(
        draft_release, county, "dimension:livable", "绿地建设成效明显。", acting_user=admin
    )
    text = city_report(draft_release, county)
    readings = {
        b.reading_key: b
        for s in text.sections
        for part in (s, *s.subsections)
        for b in part.blocks
        if getattr(b, "reading_key", "")
    }
    assert readings["dimension:livable"].text == "绿地建设成效明显。"
    assert "province_admin" in readings["dimension:livable"].edited_by
    assert readings["overall"].text.startswith("东湖区城市健康指数为")  # generated
    assert ChangeRecord.objects.filter(event="reading_edited").exists()
    with pytest.raises(PermissionDenied):
        services.save_reading(
            draft_release, county, "overall", "x", acting_user=province.users[Role.CITY_ADMIN]
        )
    from citycheck.assessment import services as assessment

    assessment.publish_release(draft_release, acting_user=admin)
    with pytest.raises(services.ReportError, match="已发布"):
        services.save_reading(draft_release, county, "overall", "y", acting_user=admin)
    (path,) = services.render_report(draft_release, county, ["docx"], tmp_path)
    assert "绿地建设成效明显。" in docx_text(path)


def waterlogging(province, **fields):
    """A severe waterlogging problem of 东湖区 in the 2024 round (open unless ``fields``
    say otherwise)."""
    return Problem.objects.create(
        **{
            "round": province.open_round,
            "place": province.places["county"],
            "disease": "waterlogging",
            "disease_name": "城市内涝",
            "dimension": "safe",
            "severity": Severity.SEVERE,
            "points": 5,
            "explanation": "积水点数量高于标准值。",
            "first_year": 2024,
            **fields,
        }
    )


def test_problems_projects_and_recheck_fill_their_sections(province, published_release):
    county = province.places["county"]
    problem = waterlogging(province, status=ProblemStatus.CONFIRMED)
    Problem.objects.create(
        round=province.published_round,
        place=county,
        disease="green",
        disease_name="绿地不足",
        dimension="livable",
        severity=Severity.MILD,
        points=2,
        explanation="",
        first_year=2023,
        recheck_status="resolved",
        recheck_year=2024,
        recheck_explanation="人均公园绿地面积已达标。",
    )
    project = RenewalProject.objects.create(
        place=county,
        year=2024,
        name="排水管网改造工程",
        project_type="drainage",
        budget=1200,
        start=dt.date(2024, 3, 1),
        end=dt.date(2024, 12, 31),
        status=ProjectStatus.ADOPTED,
    )
    project.problems.add(problem)
    document = city_report(published_release, county)
    sections = {s.title: s for s in document.sections}
    (problems,) = sections["问题清单"].blocks
    assert problems.rows[0][:2] == ["城市内涝", "严重"] and problems.row_warnings == ["red"]
    (projects,) = sections["治理措施与项目清单"].blocks
    assert projects.rows[0][0] == "排水管网改造工程" and projects.rows[0][3] == "1200"
    (recheck,) = sections["上年度问题复查"].blocks
    assert recheck.rows == [["绿地不足", "2023", "已解决", "人均公园绿地面积已达标。"]]


def test_province_summary_ranks_every_county(province, published_release, tmp_path):
    (path,) = services.render_report(published_release, None, ["docx"], tmp_path)
    assert path.name == f"2024-360000-summary-r{published_release.pk}.docx"
    text = docx_text(path)
    assert "2024年度城市体检省级汇总报告" in text and "县（市、区）排名" in text
    for name in ("东湖区", "西湖区", "濂溪区", "浔阳区"):
        assert name in text


def test_report_command_one_place_all_and_errors(province, published_release, tmp_path):
    call_command("report", round=2024, place=COUNTY, format="docx,html", out=tmp_path / "one")
    assert sorted(p.suffix for p in (tmp_path / "one").iterdir()) == [".docx", ".html"]
    call_command(
        "report",
        "--round",
        "2024",
        "--all",
        "--format",
        "html",
        "--workers",
        "1",
        "--out",
        str(tmp_path / "all"),
    )
    assert len(list((tmp_path / "all").iterdir())) == 5  # four counties and the summary
    with pytest.raises(CommandError, match="no published release"):
        call_command("report", round=2023, place=COUNTY, out=tmp_path)
    with pytest.raises(CommandError, match="no place"):
        call_command("report", round=2024, place="999999", out=tmp_path)
    with pytest.raises(CommandError, match="format"):
        call_command("report", round=2024, place=COUNTY, format="odt", out=tmp_path)


def test_render_all_job_writes_one_archive(province, published_release, media_root):
    job = services.start_render_all(
        published_release, ["html"], acting_user=province.users[Role.PROVINCE_ADMIN], workers=1
    )
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.progress == 100
    path = services.archive_path(published_release)
    assert job.result["archive"] == str(path)
    with zipfile.ZipFile(path) as archive:
        assert len(archive.namelist()) == 5
    failed = start_job("reports.render_all", release_id=published_release.pk, formats=["odt"])
    failed.refresh_from_db()
    assert failed.status == Job.Status.FAILED and "format: 未知格式 odt" in failed.error


def test_quarterly_bulletin_names_places_with_stalled_projects(province, published_release):
    RenewalProject.objects.create(
        place=province.places["county"],
        year=2025,
        name="老旧小区改造",
        project_type="old_compound",
        budget=800,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 12, 31),
        status=ProjectStatus.ADOPTED,
    )
    document = quarterly_bulletin(published_release, 2)
    assert document.title == "2025年第2季度城市更新工作通报" and document.date.startswith(
        "2025-06-30"
    )
    (section,) = document.sections
    sentence, table = section.blocks
    assert sentence.text == "截至2025-06-30，进度滞后或停滞的地区：南昌市。"
    assert table.rows[0][:2] == ["南昌市", "1"] and table.row_warnings == ["red"]
    with pytest.raises(ValueError, match="quarter"):
        quarterly_bulletin(published_release, 5)


def test_a_published_file_is_kept_per_renderer_version(
    province, published_release, media_root, monkeypatch
):
    """Served again while the code is the same; rendered anew after an upgrade, so the
    public never gets a file an older renderer wrote."""
    county = province.places["county"]
    monkeypatch.setattr(services, "code_version", lambda: "1.0+aaaa")
    first = services.report_file(published_release, county, "html")
    first.write_text("written by the old renderer", encoding="utf-8")
    assert services.report_file(published_release, county, "html") == first
    assert first.read_text(encoding="utf-8") == "written by the old renderer"

    monkeypatch.setattr(services, "code_version", lambda: "1.1+bbbb")
    upgraded = services.report_file(published_release, county, "html")
    assert upgraded != first and "1.1+bbbb" in str(upgraded)
    assert "old renderer" not in upgraded.read_text(encoding="utf-8")
    assert county.name_zh in upgraded.read_text(encoding="utf-8")


def test_the_archive_jobs_page_links_to_the_archive(
    client, province, published_release, media_root
):
    from django.urls import reverse

    admin = province.users[Role.PROVINCE_ADMIN]
    job = services.start_render_all(published_release, ["html"], acting_user=admin, workers=1)
    client.force_login(admin)
    page = client.get(reverse("job", args=[job.pk])).content.decode()
    assert reverse("reports:archive_download", args=[published_release.pk]) in page


def test_reports_show_only_reviewed_problems_and_files_follow_reviews(
    province, published_release, media_root
):
    """Issue 16 item 6: an unreviewed problem is in no report, dashboard or file; a file
    rendered before a review is not served after it."""
    county = province.places["county"]
    problem = waterlogging(province, disease_name="内涝频发")
    before = services.report_file(published_release, county, "html")
    assert "内涝频发" not in before.read_text(encoding="utf-8")
    problem.status = ProblemStatus.CONFIRMED
    problem.save()
    after = services.report_file(published_release, county, "html")
    assert after != before and "内涝频发" in after.read_text(encoding="utf-8")
