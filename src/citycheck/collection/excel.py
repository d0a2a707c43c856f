"""The Excel round trip: a template for exactly one assignment, and its upload.

:func:`build_template` writes a workbook with one sheet per place (and department) owed,
Chinese headers, units, definitions, last year's values, standards, data validation on
the value cells, a drop-down of common explanations, protected structure, and a hidden
``_meta`` sheet carrying the round, places, department, system version, template version
and a digest (HMAC) of all of it.

:func:`preview_upload` checks a filled workbook (file type, size, zip bomb, template
identity, headers, cells) and returns the diff against the stored values without storing
anything; :func:`confirm_upload` stores a preview (same checks, same audit as the form).
Every refusal names the sheet, row and column.
"""

from __future__ import annotations

import datetime as dt
import hmac
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from citycheck.core.access import check_place
from citycheck.core.choices import Action
from citycheck.core.excel import (
    append_row,
    is_formula_text,
    parts_declaring_doctype,
    unescape_text,
)
from citycheck.core.numbers import NumberError, parse_number
from citycheck.engine.standards import describe as describe_standard
from citycheck.indicators.models import Indicator, Standard
from citycheck.places.models import Place

from .models import ChangeChannel, PendingUpload, Round, Source, Value
from .services import (
    CheckStepError,
    SaveResult,
    ValueEntry,
    check_may_enter,
    check_writable,
    department_by_code,
    indicators_owed,
    places_out_of_reach,
    submission_for,
    write_values,
)
from .validation import load_rules, validate_round_values

TEMPLATE_VERSION = "citycheck-template-1"
META_SHEET = "_meta"
SHEET_KEY = "sheet:"
HEADERS = ["指标代码", "指标名称", "单位", "定义", "上年值", "标准值", "本年值", "说明"]
VALUE_COLUMN, NOTE_COLUMN = 7, 8  # 本年值, 说明 (1-based)
EXPLANATIONS = ["统计口径调整", "数据来源更新", "实际情况变化", "新建项目投入使用", "区划调整"]
XLSX_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
# Issues of these rules refuse an upload outright; the others are shown in the preview.
REFUSING_RULES = ("negative", "unit_scale")


class UploadError(CheckStepError):
    """A refused upload; ``problems`` lists (sheet, row, column, message)."""

    def __init__(self, problems: list[tuple]):
        self.problems = problems
        lines = [_where(sheet, row, column) + message for sheet, row, column, message in problems]
        super().__init__("\n".join(lines))


def _where(sheet, row, column) -> str:
    parts = []
    if sheet:
        parts.append(_("工作表“%(sheet)s”") % {"sheet": sheet})
    if row:
        parts.append(_("第 %(row)d 行") % {"row": row})
    if column:
        header = HEADERS[column - 1] if isinstance(column, int) and column <= len(HEADERS) else ""
        letter = get_column_letter(column) if isinstance(column, int) else column
        parts.append(_("%(letter)s 列") % {"letter": letter} + (f"（{header}）" if header else ""))
    return ("".join(parts) + "：") if parts else ""


TEMPLATE_DIGEST_SALT = "citycheck.collection.excel.template"


def _digest(meta: dict) -> str:
    canonical = json.dumps(meta, sort_keys=True, ensure_ascii=False).encode()
    # Keyed with the installation's own secret (never a published one), under a salt of
    # its own so that the digest serves no other signing purpose.
    return salted_hmac(TEMPLATE_DIGEST_SALT, canonical, algorithm="sha256").hexdigest()


def _sheet_title(place: Place, department) -> str:
    return f"{place.code}-{department.code}"[:31] if department else place.code


def standard_text(standards: list[Standard]) -> str:
    return "；".join(
        f"{s.get_city_class_display() + ' ' if s.city_class else ''}"
        + describe_standard(s.comparison, s.value, s.value_high)
        for s in standards
    )


def previous_values(round_: Round, place_ids) -> dict:
    """(place id, indicator code) → last year's value, adopted preferred."""
    rows = (
        Value.objects.filter(
            place_id__in=place_ids,
            round__year=round_.year - 1,
            source__in=[Source.ADOPTED, Source.SELF_CHECK],
            value__isnull=False,
        )
        .order_by("source")
        .values_list("place_id", "indicator__code", "source", "value")
    )
    previous = {}
    for place_id, code, _source, value in rows:  # "adopted" sorts first
        previous.setdefault((place_id, code), value)
    return previous


# --------------------------------------------------------------------------- template


def build_template(
    round_: Round, places, *, department=None, source=Source.SELF_CHECK, acting_user
) -> bytes:
    """The workbook a user downloads to fill ``places``' values offline (bytes of .xlsx).

    ``acting_user`` None means the operator on the command line (no permission check).
    """
    places = list(places)
    for place in places:
        if acting_user is not None:  # None: the command line, run by the operator
            check_place(acting_user, place, Action.VIEW)
    indicators = indicators_owed(round_, department=department, source=source)
    rules = load_rules()
    standards: dict[int, list] = {}
    for standard in Standard.objects.filter(indicator__in=indicators).order_by("city_class"):
        standards.setdefault(standard.indicator_id, []).append(standard)
    stored = {
        (v.place_id, v.indicator_id): v
        for v in Value.objects.filter(
            round=round_, source=source, place__in=places, indicator__in=indicators
        )
    }
    previous = previous_values(round_, [p.pk for p in places])

    workbook = Workbook()
    workbook.remove(workbook.active)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="305496")
    input_fill = PatternFill("solid", fgColor="FFF2CC")
    sheets = {}
    for place in places:
        title = _sheet_title(place, department)
        sheet = workbook.create_sheet(title)
        sheets[title] = [place.code, [i.code for i in indicators]]
        append_row(sheet, HEADERS)
        for cell in sheet[1]:
            cell.font, cell.fill = header_font, header_fill
        explanations = DataValidation(
            type="list",
            formula1='"' + ",".join(EXPLANATIONS) + '"',
            allow_blank=True,
            showErrorMessage=False,
        )
        sheet.add_data_validation(explanations)
        checks: dict[tuple, DataValidation] = {}
        for row, indicator in enumerate(indicators, start=2):
            value = stored.get((place.pk, indicator.pk))
            append_row(
                sheet,
                [
                    indicator.code,
                    indicator.name_zh,
                    indicator.unit,
                    indicator.definition,
                    previous.get((place.pk, indicator.code)),
                    standard_text(standards.get(indicator.pk, [])),
                    value.value if value else None,
                    value.note if value else None,
                ],
            )
            rule = rules.for_indicator(indicator.code, indicator.unit)
            # One validation per distinct rule and unit, over all its cells: a sheet
            # with a validation per row is slow to open (and to parse back).
            key = (rule.integer, rule.low, rule.high, indicator.unit)
            if key not in checks:
                checks[key] = DataValidation(
                    type="whole" if rule.integer else "decimal",
                    operator="between",
                    formula1=str(rule.low if rule.low is not None else -1e15),
                    formula2=str(rule.high if rule.high is not None else 1e15),
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle=_("数值无效"),
                    error=_("请输入 %(unit)s 为单位的数值。") % {"unit": indicator.unit},
                )
                sheet.add_data_validation(checks[key])
            value_cell = sheet.cell(row, VALUE_COLUMN)
            checks[key].add(value_cell)
            explanations.add(sheet.cell(row, NOTE_COLUMN))
            value_cell.number_format = (
                "0" if rule.integer else "0." + "0" * max(indicator.decimals, 1)
            )
            for column in (VALUE_COLUMN, NOTE_COLUMN):
                cell = sheet.cell(row, column)
                cell.protection = Protection(locked=False)
                cell.fill = input_fill
            sheet.cell(row, 4).alignment = Alignment(wrap_text=True, vertical="top")
        for letter, width in zip("ABCDEFGH", (28, 24, 12, 48, 12, 20, 14, 30), strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "C2"
        sheet.protection.sheet = True
        sheet.protection.formatColumns = False

    meta = {
        "template_version": TEMPLATE_VERSION,
        "round_year": round_.year,
        "round_kind": round_.kind,
        "system_code": round_.system.code,
        "system_version": round_.system.version,
        "source": source,
        "department": department.code if department else "",
        "sheets": sheets,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
    }
    meta_sheet = workbook.create_sheet(META_SHEET)
    # JSON per value (a cell gives back neither "" nor the type it was given), and a row
    # per sheet: a cell holds at most 32,767 characters.
    for key, value in meta.items():
        if key != "sheets":
            meta_sheet.append([key, json.dumps(value, ensure_ascii=False)])
    for title, entry in sheets.items():
        meta_sheet.append([SHEET_KEY + title, json.dumps(entry, ensure_ascii=False)])
    meta_sheet.append(["digest", _digest(meta)])
    meta_sheet.sheet_state = "veryHidden"
    meta_sheet.protection.sheet = True
    workbook.security = WorkbookProtection(lockStructure=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- upload


@dataclass
class UploadPreview:
    """What an upload would change; nothing is stored until :func:`confirm_upload`.

    ``rows``: sheet, row, place, indicator, name, stored, uploaded, stored_note, note,
    changed. ``issues``: the validation issues (errors block submission later, warnings
    need an explanation).
    """

    token: str
    round: Round
    source: str
    department: object
    rows: pd.DataFrame
    issues: pd.DataFrame

    @property
    def changes(self) -> pd.DataFrame:
        return self.rows[self.rows["changed"]]


def check_xlsx_file(content: bytes, *, name: str = "") -> None:
    """Refuse anything but a plain .xlsx of acceptable size, before any parser opens it."""
    limit = settings.CITYCHECK_MAX_UPLOAD_BYTES
    if name and not name.lower().endswith(".xlsx"):
        raise UploadError(
            [(None, None, None, _("文件 %(name)s 不是 .xlsx 文件。") % {"name": name})]
        )
    if len(content) > limit:
        raise UploadError(
            [
                (
                    None,
                    None,
                    None,
                    _("文件大小 %(size)d 字节超过上限 %(limit)d 字节。")
                    % {"size": len(content), "limit": limit},
                )
            ]
        )
    if not content.startswith(b"PK\x03\x04"):
        raise UploadError([(None, None, None, _("文件不是 Excel 工作簿（.xlsx）：文件头不符。"))])
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as bad:
        raise UploadError([(None, None, None, _("文件已损坏，无法作为 .xlsx 打开。"))]) from bad
    with archive:
        entries = archive.infolist()
        max_total = getattr(settings, "CITYCHECK_MAX_UNCOMPRESSED_BYTES", 200 * 1024 * 1024)
        max_ratio = getattr(settings, "CITYCHECK_MAX_COMPRESSION_RATIO", 100)
        total = sum(entry.file_size for entry in entries)
        if len(entries) > 10_000 or total > max_total:
            raise UploadError(
                [
                    (
                        None,
                        None,
                        None,
                        _("压缩包解压后过大（%(total)d 字节），疑似压缩炸弹，已拒绝。")
                        % {"total": total},
                    )
                ]
            )
        for entry in entries:
            if entry.file_size > 1024 * 1024 and entry.file_size > max_ratio * max(
                entry.compress_size, 1
            ):
                raise UploadError(
                    [
                        (
                            None,
                            None,
                            None,
                            _(
                                "压缩包内 %(entry)s 压缩比异常（%(ratio)d 倍），疑似压缩炸弹，已拒绝。"
                            )
                            % {
                                "entry": entry.filename,
                                "ratio": entry.file_size // max(entry.compress_size, 1),
                            },
                        )
                    ]
                )
        if declaring := parts_declaring_doctype(archive):
            raise UploadError(
                [
                    (
                        None,
                        None,
                        None,
                        _(
                            "文件的 %(part)s 含有文档类型声明（DOCTYPE），Excel 文件不应含有，已拒绝。"
                        )
                        % {"part": declaring[0]},
                    )
                ]
            )
        names = {entry.filename for entry in entries}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise UploadError(
                [(None, None, None, _("文件不是 Excel 工作簿（.xlsx）：缺少工作簿结构。"))]
            )
        if XLSX_MAIN_TYPE.encode() not in archive.read("[Content_Types].xml"):
            raise UploadError(
                [(None, None, None, _("文件不是普通 .xlsx 工作簿（可能含宏或为其他格式）。"))]
            )


def _read_meta(workbook) -> dict:
    if META_SHEET not in workbook.sheetnames:
        raise UploadError([(None, None, None, _("不是本平台下载的模板：缺少模板信息（_meta）。"))])
    try:
        rows = list(workbook[META_SHEET].iter_rows(values_only=True))
    except Exception as bad:  # damaged sheet XML (undefined entity, bad markup …)
        raise UploadError(
            [(META_SHEET, None, None, _("无法读取工作表：%(error)s") % {"error": bad})]
        ) from bad
    pairs = {row[0]: row[1] for row in rows if row and row[0]}
    digest = pairs.pop("digest", None)
    try:
        meta = {
            key: json.loads(value) for key, value in pairs.items() if not key.startswith(SHEET_KEY)
        }
        meta["sheets"] = {
            key[len(SHEET_KEY) :]: json.loads(value)
            for key, value in pairs.items()
            if key.startswith(SHEET_KEY)
        }
    except (TypeError, ValueError) as bad:
        raise UploadError([(META_SHEET, None, None, _("模板信息已损坏。"))]) from bad
    if meta.get("template_version") != TEMPLATE_VERSION:
        raise UploadError(
            [
                (
                    META_SHEET,
                    None,
                    None,
                    _("模板版本 %(found)s 已过期，请重新下载模板（当前 %(current)s）。")
                    % {"found": meta.get("template_version"), "current": TEMPLATE_VERSION},
                )
            ]
        )
    if not digest or not hmac.compare_digest(str(digest), _digest(meta)):
        raise UploadError(
            [(META_SHEET, None, None, _("模板信息被改动（校验码不符），请重新下载模板。"))]
        )
    return meta


def _round_of(meta: dict, expected: Round | None) -> Round:
    round_ = (
        Round.objects.filter(
            year=meta["round_year"],
            kind=meta["round_kind"],
            system__code=meta["system_code"],
            system__version=meta["system_version"],
            # The round its places take part in: provinces of a national instance run the
            # same year's round of a system side by side.
            places__code__in=[sheet[0] for sheet in meta["sheets"].values()],
        )
        .select_related("system")
        .first()
    )
    if round_ is None or (expected is not None and round_.pk != expected.pk):
        described = f"{meta['round_year']} {meta['system_code']} v{meta['system_version']}"
        raise UploadError(
            [
                (
                    META_SHEET,
                    None,
                    None,
                    _("该模板属于体检轮次 %(round)s，不是本次上传的轮次。") % {"round": described},
                )
            ]
        )
    return round_


_MERGE = re.compile(rb'<mergeCell\b[^>]*\bref="([A-Z0-9:$]+)"')
_ROW = re.compile(rb"<row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(1|true)"')
_NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _sheet_layouts(content: bytes) -> dict[str, tuple[list[str], set[int]]]:
    """Merged ranges and hidden rows of every sheet, read from the sheet XML directly.

    The streaming (read-only) reader that keeps a 100-sheet upload fast does not expose
    them, and a regular expression over the raw XML is cheaper than a second parse.
    """
    from xml.etree import ElementTree

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
        layouts = {}
        for sheet in book.findall("main:sheets/main:sheet", _NS):
            target = targets.get(sheet.get(_REL_ID), "")
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            xml = archive.read(path) if path in archive.namelist() else b""
            merged = [m.decode() for m in _MERGE.findall(xml)]
            hidden = {
                int(_ROW_NUMBER.search(attributes).group(1))
                for attributes in _ROW.findall(xml)
                if _HIDDEN.search(attributes) and _ROW_NUMBER.search(attributes)
            }
            layouts[sheet.get("name")] = (merged, hidden)
    return layouts


def _parse_sheet(
    rows: list[tuple], layout: tuple[list[str], set[int]], title: str, codes: list[str]
) -> tuple[list[tuple], list[tuple]]:
    """Rows (row, code, value, note) of one data sheet and the problems found in it.

    ``rows`` are the sheet's cell values by row (row 1 first); ``layout`` its merged
    ranges and hidden row numbers.
    """
    merged, hidden = layout
    problems = []
    if merged:
        problems.append(
            (
                title,
                None,
                None,
                _("含有合并单元格 %(ranges)s，请使用原模板。") % {"ranges": ", ".join(merged)},
            )
        )
    header = list(rows[0]) if rows else []
    for column, expected in enumerate(HEADERS, start=1):
        found = header[column - 1] if column <= len(header) else None
        if found != expected:
            problems.append(
                (
                    title,
                    1,
                    column,
                    _("表头应为“%(expected)s”，实为“%(found)s”（表头被改名、移动或删除）。")
                    % {"expected": expected, "found": found or ""},
                )
            )
    if len(header) > len(HEADERS) and any(v not in (None, "") for v in header[len(HEADERS) :]):
        problems.append((title, 1, len(HEADERS) + 1, _("表头之后不应有多余的列。")))
    if problems:
        return [], problems
    parsed = []
    last_row = len(codes) + 1
    seen_rows = set()
    for row_number, cells in enumerate(rows[1:], start=2):
        if not any(v not in (None, "") for v in cells):
            continue
        if row_number > last_row:
            problems.append((title, row_number, None, _("模板之外的行含有数据。")))
            continue
        seen_rows.add(row_number)
        if row_number in hidden:
            problems.append((title, row_number, None, _("隐藏的行含有数据，请取消隐藏并核对。")))
        for column, value in enumerate(cells, start=1):
            if is_formula_text(value):
                problems.append(
                    (
                        title,
                        row_number,
                        column,
                        _("含有公式（或以 =、+、-、@ 开头的文字），请只填写数值，文字请改写。"),
                    )
                )
            elif column > len(HEADERS) and value not in (None, ""):
                problems.append((title, row_number, column, _("模板之外的列含有数据。")))
        code = cells[0]
        expected_code = codes[row_number - 2]
        if code != expected_code:
            problems.append(
                (
                    title,
                    row_number,
                    1,
                    _("指标代码应为 %(expected)s，实为 %(found)s（行被移动或改动）。")
                    % {"expected": expected_code, "found": code},
                )
            )
            continue
        raw = cells[VALUE_COLUMN - 1] if len(cells) >= VALUE_COLUMN else None
        note = unescape_text(cells[NOTE_COLUMN - 1]) if len(cells) >= NOTE_COLUMN else None
        if is_formula_text(raw):
            continue
        if raw in (None, ""):
            value = None
        elif isinstance(raw, bool) or not isinstance(raw, int | float):
            problems.append(
                (
                    title,
                    row_number,
                    VALUE_COLUMN,
                    _("“%(raw)s”不是数值，请填写数字（单位见 C 列）。") % {"raw": raw},
                )
            )
            continue
        else:
            try:
                value = parse_number(raw)
            except NumberError as bad:
                problems.append((title, row_number, VALUE_COLUMN, str(bad)))
                continue
        parsed.append((row_number, code, value, "" if note is None else str(note).strip()))
    for missing_row, code in enumerate(codes, start=2):
        if missing_row not in seen_rows:
            problems.append(
                (title, missing_row, 1, _("缺少指标 %(code)s 所在的行。") % {"code": code})
            )
    return parsed, problems


def preview_upload(
    file, *, acting_user, round_: Round | None = None, place: Place | None = None
) -> UploadPreview:
    """Check an uploaded template and return the diff against stored values.

    ``file`` is bytes, a path or a file object (its ``name`` is checked for .xlsx).
    ``round_`` and ``place`` (the page the user uploads from) refuse a template for
    another round or place. Nothing is stored except the pending preview itself.
    Raises :class:`UploadError` naming sheet, row and column.
    """
    content, name = _read_file(file)
    check_xlsx_file(content, name=name)
    try:
        workbook = load_workbook(
            io.BytesIO(content), read_only=True, data_only=False, keep_links=False
        )
        layouts = _sheet_layouts(content)
    except Exception as bad:  # openpyxl raises many types for damaged parts
        raise UploadError(
            [(None, None, None, _("无法读取工作簿：%(error)s") % {"error": bad})]
        ) from bad
    meta = _read_meta(workbook)
    round_ = _round_of(meta, round_)
    source = meta["source"]
    department = department_by_code(meta["department"])
    owed = {i.code: i for i in indicators_owed(round_, department=department, source=source)}
    problems, parsed = [], []
    places = {
        p.code: p for p in Place.objects.filter(code__in=[v[0] for v in meta["sheets"].values()])
    }
    # Who may enter what: once for the whole workbook; the place check names each sheet.
    outside = set(places_out_of_reach(acting_user, places.values()))
    try:
        check_may_enter(acting_user, round_, [], [i.pk for i in owed.values()], source)
    except PermissionDenied as denied:
        raise UploadError([(None, None, None, str(denied))]) from denied
    extra = [t for t in workbook.sheetnames if t != META_SHEET and t not in meta["sheets"]]
    problems += [(t, None, None, _("不是模板中的工作表。")) for t in extra]
    for title, (place_code, codes) in meta["sheets"].items():
        if title not in workbook.sheetnames:
            problems.append((title, None, None, _("工作表被删除或改名。")))
            continue
        sheet_place = places.get(place_code)
        if sheet_place is None or (place is not None and sheet_place.pk != place.pk):
            problems.append(
                (
                    title,
                    None,
                    None,
                    _("该模板属于地区 %(code)s，不是本次上传的地区。") % {"code": place_code},
                )
            )
            continue
        if set(codes) != set(owed):
            problems.append((title, None, None, _("模板的指标与本轮次不一致，请重新下载模板。")))
            continue
        if sheet_place in outside:
            problems.append(
                (title, None, None, _("您无权填报 %(place)s 的数据。") % {"place": sheet_place})
            )
            continue
        try:
            sheet_rows = list(workbook[title].iter_rows(values_only=True))
        except Exception as bad:  # damaged sheet XML (undefined entity, bad markup …)
            problems.append((title, None, None, _("无法读取工作表：%(error)s") % {"error": bad}))
            continue
        rows, sheet_problems = _parse_sheet(
            sheet_rows, layouts.get(title, ([], set())), title, codes
        )
        problems += sheet_problems
        parsed += [(title, r, sheet_place, code, value, note) for r, code, value, note in rows]
    if problems:
        raise UploadError(problems)

    frame = pd.DataFrame(
        parsed, columns=["sheet", "row", "place_obj", "indicator", "uploaded", "note"]
    )
    frame["place"] = [p.code for p in frame["place_obj"]]
    place_ids = [p.pk for p in places.values()]
    stored = {
        (place_code, code): (value, note, version)
        for place_code, code, value, note, version in Value.objects.filter(
            round=round_, source=source, place_id__in=place_ids, indicator__code__in=list(owed)
        ).values_list("place__code", "indicator__code", "value", "note", "version")
    }
    keys = list(zip(frame["place"], frame["indicator"], strict=True))
    missing = (None, "", 0)
    frame["stored"] = [stored.get(k, missing)[0] for k in keys]
    frame["stored_note"] = [stored.get(k, missing)[1] for k in keys]
    frame["read_version"] = [stored.get(k, missing)[2] for k in keys]
    frame["name"] = frame["indicator"].map({c: i.name_zh for c, i in owed.items()})
    frame[["stored", "uploaded"]] = frame[["stored", "uploaded"]].astype(float)
    same_value = (frame["stored"] == frame["uploaded"]) | (
        frame["stored"].isna() & frame["uploaded"].isna()
    )
    frame["changed"] = ~same_value | (frame["stored_note"] != frame["note"])

    overlay = frame.rename(columns={"uploaded": "value"})[["place", "indicator", "value"]]
    issues = validate_round_values(
        round_,
        source=source,
        place_ids=place_ids,
        stage="upload",
        indicator_ids=[i.pk for i in owed.values()],
        overlay=overlay,
    )
    locate = {k: (s, r) for k, s, r in zip(keys, frame["sheet"], frame["row"], strict=True)}
    refusing = issues[issues["rule"].isin(REFUSING_RULES)]
    if not refusing.empty:
        raise UploadError(
            [
                (*locate.get((i.place, i.indicator), (None, None)), VALUE_COLUMN, i.message)
                for i in refusing.itertuples()
            ]
        )
    token = str(uuid.uuid4())
    payload = {
        "source": source,
        "department": department.pk if department else None,
        "rows": [
            [p.pk, owed[c].pk, None if np.isnan(u) else u, n, v]
            for p, c, u, n, v in zip(
                frame["place_obj"],
                frame["indicator"],
                frame["uploaded"],
                frame["note"],
                frame["read_version"],
                strict=True,
            )
        ],
    }
    PendingUpload.objects.filter(
        user=acting_user, created__lt=timezone.now() - dt.timedelta(days=1)
    ).delete()
    PendingUpload.objects.create(token=token, user=acting_user, round=round_, payload=payload)
    rows = frame.drop(columns=["place_obj", "read_version"])[
        [
            "sheet",
            "row",
            "place",
            "indicator",
            "name",
            "stored",
            "uploaded",
            "stored_note",
            "note",
            "changed",
        ]
    ]
    return UploadPreview(token, round_, source, department, rows, issues)


def _read_file(file) -> tuple[bytes, str]:
    if isinstance(file, bytes | bytearray):
        return bytes(file), ""
    if isinstance(file, str) or hasattr(file, "__fspath__"):
        from pathlib import Path

        path = Path(file)
        limit = settings.CITYCHECK_MAX_UPLOAD_BYTES
        if path.stat().st_size > limit:
            raise UploadError(
                [
                    (
                        None,
                        None,
                        None,
                        _("文件大小 %(size)d 字节超过上限 %(limit)d 字节。")
                        % {"size": path.stat().st_size, "limit": limit},
                    )
                ]
            )
        return path.read_bytes(), path.name
    content = file.read(settings.CITYCHECK_MAX_UPLOAD_BYTES + 1)
    return content, getattr(file, "name", "") or ""


def discard_upload(preview: UploadPreview) -> None:
    """Drop a preview that will not be confirmed (a dry run, a cancelled page)."""
    PendingUpload.objects.filter(token=preview.token).delete()


@transaction.atomic
def confirm_upload(preview: UploadPreview | str, *, acting_user, reason: str = "") -> SaveResult:
    """Store a previewed upload: same permission, lock, concurrency checks and audit as
    the form. A value changed by someone else since the preview refuses the whole upload
    (:class:`~citycheck.collection.services.StaleValueError`)."""
    token = preview.token if isinstance(preview, UploadPreview) else preview
    pending = (
        PendingUpload.objects.select_for_update(of=("self",))
        .filter(token=token, user=acting_user)
        .first()
    )
    if pending is None:
        raise CheckStepError(_("上传预览已失效或不属于您，请重新上传。"))
    round_, payload = pending.round, pending.payload
    places = Place.objects.in_bulk({row[0] for row in payload["rows"]})
    indicators = Indicator.objects.in_bulk({row[1] for row in payload["rows"]})
    entries = [
        ValueEntry(places[p], indicators[i], value, note, version)
        for p, i, value, note, version in payload["rows"]
    ]
    indicator_ids = set(indicators)
    check_may_enter(acting_user, round_, places.values(), indicator_ids, payload["source"])
    check_writable(round_, places, indicator_ids, payload["source"])
    department = payload["department"]
    for place in places.values():
        submission_for(round_, place, payload["source"])
    values, changed = write_values(
        round_,
        payload["source"],
        entries,
        acting_user=acting_user,
        channel=ChangeChannel.EXCEL,
        reason=reason,
    )
    pending.delete()
    issues = validate_round_values(
        round_,
        source=payload["source"],
        place_ids=list(places),
        stage="upload",
        indicator_ids=indicator_ids if department else None,
    )
    return SaveResult(values=values, changed=changed, issues=issues)
