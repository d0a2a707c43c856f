"""The official report as a mayor receives it: standards cite primary documents (never a
reprint on a blog), the cover names the issuing authority, table rows stay whole across
pages in PDF and Word, and the downloaded file is named by its Chinese title."""

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import docx
import pytest
import yaml
from django.conf import settings
from django.urls import reverse
from docx.oxml.ns import qn

from citycheck.core.choices import Role
from citycheck.indicators.models import Indicator
from citycheck.places.models import Place
from citycheck.reports import render, services
from citycheck.reports.document import Document, Section, Table

COUNTY = "360102"  # 东湖区
SYSTEM_FILES = sorted((Path(settings.DATA_DIR) / "systems").glob("*.yaml"))
PROVINCE_SETTING = "本省设定"


def citations(node):
    """Every ``citation`` value anywhere in a loaded YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "citation":
                yield value
            else:
                yield from citations(value)
    elif isinstance(node, list):
        for item in node:
            yield from citations(item)


@pytest.mark.parametrize("path", SYSTEM_FILES, ids=lambda path: path.name)
def test_system_files_cite_primary_documents_and_keep_reprints_out_of_citations(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for citation in citations(data):
        assert "://" not in citation and "转引" not in citation, (path.name, citation)
    for source in data.get("sources", []):
        assert {"issuer", "title", "year", "citation"} <= set(source), (path.name, source)
        if source.get("reprints"):
            # only a reprint: the report says the province set the value
            assert source["citation"] == PROVINCE_SETTING, (path.name, source)
        else:
            detail = source.get("number") or "，".join(
                [*filter(None, [source.get("published_in")]), f"{source['year']}年"]
            )
            assert source["citation"] == f"{source['issuer']}《{source['title']}》（{detail}）"


def report_page(client, user, release, language, code=COUNTY):
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(reverse("reports:report", args=[release.pk, code]))
    assert response.status_code == 200
    return response.content.decode()


def test_report_never_prints_a_reprint_address_and_names_primary_documents(
    client, province, published_release
):
    Indicator.objects.filter(code="green_space").update(
        citation="住房和城乡建设部 2021年城市体检指标体系，转引自 https://blog.csdn.net/x/1"
    )
    Indicator.objects.filter(code="built_density").update(citation=PROVINCE_SETTING)
    Indicator.objects.filter(code="waterlogging").update(
        citation="住房和城乡建设部《国家园林城市系列标准》（建城〔2016〕235号）"
    )
    page = report_page(client, province.users[Role.CITY_ADMIN], published_release, "zh-hans")
    assert "http" not in re.sub(r'(href|src)="[^"]*"', "", page)
    assert "blog" not in page and "转引" not in page
    assert "住房和城乡建设部《国家园林城市系列标准》（建城〔2016〕235号）" in page
    assert page.count(PROVINCE_SETTING) >= 2  # the reprint and the province's own setting
    english = report_page(client, province.users[Role.CITY_ADMIN], published_release, "en")
    assert "Set by the province" in english and PROVINCE_SETTING not in english


def cover(page: str) -> str:
    return page.split('<section class="title-page">', 1)[1].split("</section>", 1)[0]


def test_cover_names_the_issuing_authority_and_the_digest_moves_to_the_method(
    client, province, published_release, settings
):
    page = report_page(client, province.users[Role.CITY_ADMIN], published_release, "zh-hans")
    assert "江西省住房和城乡建设厅" in cover(page)
    assert "输入摘要" not in cover(page)
    method = page.split("数据来源与评价方法", 1)[1]
    assert f"输入摘要 {published_release.input_digest[:12]}" in method
    settings.CITYCHECK_REPORT_ISSUER = "江西省城市体检工作领导小组办公室"
    page = report_page(client, province.users[Role.CITY_ADMIN], published_release, "zh-hans")
    assert "江西省城市体检工作领导小组办公室" in cover(page)


def test_downloads_are_named_by_the_chinese_title_with_an_ascii_fallback(
    client, province, published_release, media_root
):
    client.force_login(province.users[Role.CITY_ADMIN])
    client.cookies["django_language"] = "en"  # the file stays Chinese for every reader
    response = client.get(
        reverse("reports:report_download", args=[published_release.pk, COUNTY, "docx"])
    )
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f'filename="2024-{COUNTY}-report-r{published_release.pk}.docx"' in disposition
    assert f"filename*=UTF-8''{quote('东湖区2024年度城市体检报告.docx')}" in disposition
    path = media_root / "downloaded.docx"
    path.write_bytes(b"".join(response.streaming_content))
    word = docx.Document(str(path))
    assert "东湖区" in "\n".join(p.text for p in word.paragraphs)
    # every row keeps whole on a page; each table's first row repeats on every page
    assert word.tables
    for table in word.tables:
        for index, row in enumerate(table.rows):
            properties = row._tr.trPr
            assert properties is not None and properties.find(qn("w:cantSplit")) is not None
            assert (properties.find(qn("w:tblHeader")) is not None) == (index == 0)


def test_english_report_page_names_places_in_english_files_stay_chinese(
    client, province, published_release
):
    Place.objects.filter(code=COUNTY).update(name_en="Donghu District")
    Place.objects.filter(code="360100").update(name_en="Nanchang City")
    user = province.users[Role.CITY_ADMIN]
    english = report_page(client, user, published_release, "en")
    assert "Donghu District" in english and "东湖区" not in english
    chinese = report_page(client, user, published_release, "zh-hans")
    assert "东湖区" in chinese and "Donghu" not in chinese and "Nanchang" not in chinese
    document = services.build_for_file(published_release, Place.objects.get(code=COUNTY))
    assert document.subject == "东湖区"


def test_release_scorecard_names_indicators_and_places_in_the_readers_language(
    client, province, published_release
):
    Indicator.objects.filter(code="green_space").update(name_en="Park green space per capita")
    Place.objects.filter(code=COUNTY).update(name_en="Donghu District")
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    url = reverse("assessment:release_place", args=[published_release.pk, COUNTY])
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    assert "Park green space per capita" in english and "人均公园绿地面积" not in english
    assert "Donghu District" in english
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(url).content.decode()
    assert "人均公园绿地面积" in chinese and "Park green space" not in chinese
    assert "东湖区" in chinese and "Donghu" not in chinese


def test_pdf_table_rows_never_split_and_the_header_repeats(tmp_path):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    filler = "较长的说明文字" * 60
    rows = [[f"A{n}x", f"{filler} Z{n}x"] for n in range(1, 31)]
    document = Document(
        title="测试报告",
        subject="东湖区",
        issuer="江西省住房和城乡建设厅",
        date="2025-01-01T00:00:00",
        sections=[
            Section("长表", [Table(caption="长表", columns=["表头甲", "表头乙"], rows=rows)])
        ],
        language="zh-hans",
    )
    path = tmp_path / "long.pdf"
    render.write(document, "pdf", path, images={})
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [page.replace("\n", "").replace(" ", "") for page in text.split("\f")]
    with_rows = [page for page in pages if re.search(r"A\d+x", page)]
    assert len(with_rows) > 1  # the table runs over several pages
    for page in with_rows:
        assert "表头甲" in page  # the header row on each of them
    for n in range(1, 31):
        (page,) = [page for page in with_rows if f"A{n}x" in page]
        assert f"Z{n}x" in page  # the whole row on one page
