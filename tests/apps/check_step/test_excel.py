"""The Excel round trip (download, fill with openpyxl, upload, compare) and every bad input."""

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from citycheck.collection import excel, services
from citycheck.collection.models import ChangeChannel, PendingUpload, Round, Value, ValueChange

pytestmark = pytest.mark.django_db

COUNTY = "360102"
HEADERS = ["指标代码", "指标名称", "单位", "定义", "上年值", "标准值", "本年值", "说明"]


def template(province, code=COUNTY, user="county", department=None):
    return excel.build_template(
        province.round,
        [province.places[code]],
        department=department,
        acting_user=province.users[user],
    )


def fill(content, values, sheet=COUNTY, edit=None):
    """Fill the value column by indicator code; ``edit(workbook)`` may damage it further."""
    workbook = load_workbook(io.BytesIO(content))
    ws = workbook[sheet]
    for row in range(2, ws.max_row + 1):
        code = ws.cell(row, 1).value
        if code in values:
            ws.cell(row, 7).value = values[code]
    if edit:
        edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def row_of(content, code, sheet=COUNTY):
    ws = load_workbook(io.BytesIO(content))[sheet]
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == code)


@pytest.fixture
def good(province):
    from .conftest import GOOD_VALUES

    return dict(GOOD_VALUES)


def test_template_layout(province):
    workbook = load_workbook(io.BytesIO(template(province)))
    assert workbook.sheetnames == [COUNTY, "_meta"]
    assert workbook["_meta"].sheet_state == "veryHidden"
    assert workbook.security.lockStructure
    ws = workbook[COUNTY]
    assert [c.value for c in ws[1]] == HEADERS
    assert [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)] == list(province.indicators)
    assert ws.cell(2, 3).value == "%" and ws.cell(2, 4).value == "建成区绿地率的定义。"
    assert ws.protection.sheet
    assert not ws.cell(2, 7).protection.locked and ws.cell(2, 1).protection.locked
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"decimal", "whole", "list"} <= kinds
    rows = workbook["_meta"].iter_rows(values_only=True)
    meta = {key: json.loads(value) for key, value in rows if key != "digest"}
    assert (meta["round_year"], meta["system_code"], meta["template_version"]) == (
        2024,
        "test-system",
        excel.TEMPLATE_VERSION,
    )


def test_department_template_has_only_its_indicators(province):
    content = template(province, user="housing", department=province.departments["housing"])
    ws = load_workbook(io.BytesIO(content))[f"{COUNTY}-housing"]
    assert [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)] == [
        "green_space_rate",
        "park_green_area_per_capita",
    ]


def test_round_trip_download_fill_upload_compare(province, good):
    users = province.users
    content = fill(template(province), good)
    preview = excel.preview_upload(content, acting_user=users["county"])
    assert Value.objects.count() == 0  # the preview stores nothing
    assert len(preview.changes) == len(good)
    assert preview.rows.set_index("indicator").loc["schools", "uploaded"] == 40.0
    excel.confirm_upload(preview.token, acting_user=users["county"])
    stored = dict(Value.objects.filter(place__code=COUNTY).values_list("indicator__code", "value"))
    assert stored == good
    assert set(ValueChange.objects.values_list("channel", flat=True)) == {ChangeChannel.EXCEL}
    assert not PendingUpload.objects.exists()
    # download again: the stored values come back; change one and see exactly that diff
    again = fill(template(province), {"schools": 45})
    preview = excel.preview_upload(again, acting_user=users["county"])
    changes = preview.changes
    assert changes[["indicator", "stored", "uploaded"]].values.tolist() == [["schools", 40.0, 45.0]]


def test_upload_concurrency_second_writer_refused(province, good):
    users = province.users
    content = fill(template(province), good)
    preview = excel.preview_upload(content, acting_user=users["county"])
    services.save_values(
        province.round,
        province.entries(COUNTY, {"schools": 39.0}, read_version=0),
        acting_user=users["housing"] if False else users["county"],
    )
    with pytest.raises(services.StaleValueError, match="schools"):
        excel.confirm_upload(preview, acting_user=users["county"])
    assert Value.objects.count() == 1


def test_confirm_only_by_the_uploader(province, good):
    preview = excel.preview_upload(
        fill(template(province), good), acting_user=province.users["county"]
    )
    with pytest.raises(services.CheckStepError):
        excel.confirm_upload(preview.token, acting_user=province.users["sibling"])


def refused(province, content, *, match, user="county", **kwargs):
    before = Value.objects.count()
    with pytest.raises(excel.UploadError, match=match) as error:
        excel.preview_upload(content, acting_user=province.users[user], **kwargs)
    assert Value.objects.count() == before
    assert not PendingUpload.objects.exists()
    return error.value


def test_template_for_another_place(province, good):
    other = fill(template(province, code="360103", user="sibling"), good, sheet="360103")
    refused(province, other, match="工作表“360103”：您无权填报")
    mine = fill(template(province), good)
    refused(province, mine, match="不是本次上传的地区", place=province.places["360103"])


def test_template_for_another_round(province, good):
    later = services.open_round(
        year=2025,
        system=province.system,
        places=[province.places[COUNTY]],
        acting_user=province.users["province"],
    )
    content = fill(template(province), good)
    refused(province, content, match="不是本次上传的轮次", round_=later)


def edit_meta(key, value):
    def edit(workbook):
        ws = workbook["_meta"]
        for row in ws.iter_rows():
            if row[0].value == key:
                row[1].value = json.dumps(value)

    return edit


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("template_version", "citycheck-template-0", "模板版本"),
        ("system_version", 2023, "校验码不符"),
        ("round_year", 2023, "校验码不符"),
    ],
)
def test_template_of_another_version_or_tampered(province, good, key, value, match):
    refused(province, fill(template(province), good, edit=edit_meta(key, value)), match=match)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda ws: setattr(ws.cell(1, 7), "value", "数值"),
            r"第 1 行G 列（本年值）：表头应为“本年值”，实为“数值”",
        ),
        (
            lambda ws: (
                setattr(ws.cell(1, 5), "value", "标准值"),
                setattr(ws.cell(1, 6), "value", "上年值"),
            ),
            r"第 1 行E 列",
        ),
        (lambda ws: ws.delete_cols(4), r"第 1 行D 列（定义）：表头应为“定义”"),
    ],
    ids=["renamed", "moved", "deleted"],
)
def test_headers_renamed_moved_or_deleted(province, good, edit, match):
    content = fill(template(province), good, edit=lambda wb: edit(wb[COUNTY]))
    refused(province, content, match=match)


def test_text_in_a_numeric_cell(province, good):
    content = fill(template(province), {**good, "schools": "四十"})
    row = row_of(content, "schools")
    error = refused(province, content, match=rf"第 {row} 行G 列（本年值）：“四十”不是数值")
    assert error.problems == [(COUNTY, row, 7, error.problems[0][3])]


def test_formula(province, good):
    content = fill(template(province), {**good, "schools": "=20*2"})
    refused(province, content, match=rf"第 {row_of(content, 'schools')} 行G 列（本年值）：含有公式")


def test_merged_cells(province, good):
    content = fill(template(province), good, edit=lambda wb: wb[COUNTY].merge_cells("G2:H2"))
    refused(province, content, match="合并单元格 G2:H2")


def test_hidden_row_with_data(province, good):
    def hide(workbook):
        workbook[COUNTY].row_dimensions[3].hidden = True

    refused(province, fill(template(province), good, edit=hide), match="第 3 行：隐藏的行含有数据")


def test_data_outside_the_template(province, good):
    def extra(workbook):
        workbook[COUNTY].cell(30, 7).value = 5

    refused(
        province, fill(template(province), good, edit=extra), match="第 30 行：模板之外的行含有数据"
    )


def test_share_entered_as_a_fraction(province, good):
    content = fill(template(province), {**good, "green_space_rate": 0.38})
    refused(
        province, content, match=rf"第 {row_of(content, 'green_space_rate')} 行G 列.*疑似单位填错"
    )


def test_people_instead_of_ten_thousands(province, good):
    previous = services.open_round(
        year=2023,
        system=province.system,
        places=[province.places[COUNTY]],
        acting_user=province.users["province"],
    )
    services.save_values(previous, province.entries(COUNTY), acting_user=province.users["county"])
    content = fill(template(province), {**good, "resident_total": 502_000})
    assert (
        load_workbook(io.BytesIO(content))[COUNTY].cell(row_of(content, "resident_total"), 5).value
        == 50
    )
    refused(
        province, content, match=rf"第 {row_of(content, 'resident_total')} 行G 列.*疑似单位填错"
    )


def test_negative_count(province, good):
    content = fill(template(province), {**good, "schools": -3})
    refused(province, content, match=rf"第 {row_of(content, 'schools')} 行G 列.*不能为负数")


def test_not_an_xlsx(province, tmp_path):
    refused(province, b"\xd0\xcf\x11\xe0 old xls", match="文件头不符")
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w/>")
    refused(province, docx.getvalue(), match="缺少工作簿结构")
    path = tmp_path / "data.csv"
    path.write_text("a,b")
    refused(province, path, match="不是 .xlsx 文件")


def test_over_the_size_limit(province, good, settings):
    content = fill(template(province), good)
    settings.CITYCHECK_MAX_UPLOAD_BYTES = len(content) - 1
    refused(province, content, match="超过上限")


def test_zip_bomb_refused_before_parsing(province, monkeypatch):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", excel.XLSX_MAIN_TYPE)
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    assert len(bomb.getvalue()) < 100_000

    def must_not_open(*args, **kwargs):
        raise AssertionError("openpyxl opened a zip bomb")

    monkeypatch.setattr(excel, "load_workbook", must_not_open)
    refused(province, bomb.getvalue(), match="疑似压缩炸弹")


def test_nothing_stored_when_one_sheet_of_many_is_bad(province, good):
    content = excel.build_template(
        province.round,
        [province.places["360102"], province.places["360103"]],
        acting_user=province.users["city"],
    )
    content = fill(fill(content, good), {**good, "schools": "n/a"}, sheet="360103")
    refused(province, content, user="city", match="工作表“360103”")


def test_commands_template_and_upload(province, good, tmp_path):
    path = tmp_path / "t.xlsx"
    call_command("template", "--round", "2024", "--place", COUNTY, "-o", str(path))
    path.write_bytes(fill(path.read_bytes(), good))
    out = io.StringIO()
    call_command("upload", str(path), "--user", "county", "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue() and Value.objects.count() == 0
    assert not PendingUpload.objects.exists()
    call_command("upload", str(path), "--user", "county", stdout=out)
    assert Value.objects.filter(place__code=COUNTY).count() == len(good)
    with pytest.raises(CommandError, match="您无权填报"):
        call_command("upload", str(path), "--user", "sibling")
    with pytest.raises(CommandError, match="--round 2031"):
        call_command("template", "--round", "2031", "--place", COUNTY, "-o", str(path))
    assert Round.objects.count() == 1


def test_standards_are_written_as_officials_write_them():
    from citycheck.collection.excel import standard_text
    from citycheck.indicators.models import Comparison, Standard

    standards = [
        Standard(comparison=Comparison.AT_LEAST, value=87.5),
        Standard(comparison=Comparison.BETWEEN, value=8, value_high=12, city_class="mega"),
    ]
    assert standard_text(standards) == "≥ 87.5；特大城市 8–12"
