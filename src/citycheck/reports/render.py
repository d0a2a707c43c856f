"""Write a :class:`~citycheck.reports.document.Document` as Word, HTML or PDF.

* Word (python-docx): title page, table of contents field, numbered headings
  (Heading 1 "一、", Heading 2 "（一）"), numbered tables with units and sources
  below, figures as embedded PNG. Table rows are written as one piece of XML per table
  (python-docx's row and cell objects cost a millisecond a cell).
* HTML: one self-contained page (charts as ``data:`` images), from the template
  ``reports/document.html``.
* PDF: that HTML through WeasyPrint, with the Noto CJK font embedded (subset).

Tables have explicit column widths (:func:`column_widths`) in every format, so WeasyPrint
lays them out in fixed layout instead of measuring every cell twice to choose widths.
Charts are drawn once per content (:func:`chart_image`): the same figure of a published
release, in any report or process sharing the cache, is drawn once.

The same document always gives the same text: dates come from the release, charts are
drawn without timestamps.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import io
import json
import math
import re
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from docx import Document as WordDocument
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Emu, Pt, RGBColor

from citycheck.assessment.services import code_version

from . import charts
from .document import Document, Figure, Paragraph, Table, is_chinese

FORMATS = ("docx", "pdf", "html")
CELL_SHADES = {"green": "D9F0D3", "yellow": "FFF2B3", "red": "F8C9C4"}
BODY_FONT, HEADING_FONT = "宋体", "黑体"
# Under the 演示数据（合成） mark of a synthetic round's report (as the pages' badge says).
SYNTHETIC_NOTE = gettext_noop("由演示数据生成器产生，不是真实统计数据。")


# A chart drawn for a published release is the same for every rendering of it.
CHART_CACHE_SECONDS = 24 * 3600


@functools.cache
def _renderer_version() -> str:
    return code_version()  # the code does not change under a running process


def chart_key(figure: Figure) -> str:
    """The cache key of ``figure``'s PNG: its kind and numbers, and the code drawing it."""
    content = json.dumps(
        [_renderer_version(), figure.kind, figure.data],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return "reports:chart:" + hashlib.sha256(content.encode()).hexdigest()


def chart_image(figure: Figure) -> bytes:
    """PNG bytes of ``figure``, drawn only if the cache (Redis in production, shared by
    the worker machines) does not hold this figure already."""
    key = chart_key(figure)
    png = cache.get(key)
    if png is None:
        png = charts.render(figure.kind, figure.data)
        cache.set(key, png, CHART_CACHE_SECONDS)
    return png


def chart_images(document: Document) -> dict[int, bytes]:
    """PNG bytes of every figure of ``document``, keyed by ``id(figure)``."""
    return {
        id(block): chart_image(block)
        for block in document.tables_and_figures()
        if isinstance(block, Figure)
    }


# Column widths estimated from the text as a browser's automatic layout would choose them,
# in half-width characters (a Chinese character counts two): a table is TABLE_WIDTH of
# them wide (A4's 16.6 cm at 9 pt); a cell's padding and borders take CELL_PADDING; a
# column's cells of at most SHORT_COLUMN (numbers, units, names of up to eight
# characters) are never wrapped, nor its header up to SHORT_HEADER where the table has
# room (else headers take two lines), while longer columns share the rest of the width
# by how much more they hold.
TABLE_WIDTH = 104
CELL_PADDING = 3
SHORT_COLUMN = 16
SHORT_HEADER = 8
UNBREAKABLE = re.compile(r"[\x21-\x7e]+")  # a run of ASCII letters, digits and marks


@functools.cache
def _character_width(character: str) -> int:
    """2 for a character a Chinese font draws full width (wide, full-width or ambiguous:
    汉字, Ⅱ, ≥, —), else 1."""
    return 2 if unicodedata.east_asian_width(character) in ("W", "F", "A") else 1


def text_width(text: str) -> int:
    """The width of ``text`` in half-width characters (a wide character counts two)."""
    return len(text) if text.isascii() else sum(map(_character_width, text))


def _longest_word(text: str) -> int:
    """The width ``text`` needs on its narrowest line: its longest ASCII word, or one
    wide character (a line may break between any two)."""
    wide = 0 if text.isascii() else max(map(_character_width, text))
    return max([wide, *map(len, UNBREAKABLE.findall(text))], default=1)


def column_widths(table: Table) -> list[float]:
    """Each column's share of the table's width, in per cent: the table's own ``widths``
    or, when it gives none, shares estimated from the text of each column (see
    :data:`TABLE_WIDTH`)."""
    if table.widths:
        weights = [float(width) for width in table.widths]
    else:
        columns = [
            [str(header), *(str(row[index]) for row in table.rows)]
            for index, header in enumerate(table.columns)
        ]
        widest = [max(map(text_width, texts)) + CELL_PADDING for texts in columns]

        def narrowest(header_lines: int) -> list[int]:
            least = []
            for header, *cells in columns:
                longest = max(map(text_width, cells), default=0)
                heading = text_width(header)
                if header_lines == 1:
                    heading = min(heading, SHORT_HEADER)
                least.append(
                    max(
                        min(longest, SHORT_COLUMN),
                        math.ceil(heading / header_lines),
                        *map(_longest_word, [header, *cells]),
                    )
                    + CELL_PADDING
                )
            return least

        # Short headers on one line where the table has room, else on two.
        least = narrowest(1)
        if sum(least) > TABLE_WIDTH:
            least = narrowest(2)
        spare, growth = TABLE_WIDTH - sum(least), sum(widest) - sum(least)
        if spare <= 0 or growth <= spare:  # too narrow for even the words, or all fits
            weights = least if spare <= 0 else widest
        else:  # the long columns share what the short ones leave, by what they hold more
            weights = [
                low + spare * (high - low) / growth for high, low in zip(widest, least, strict=True)
            ]
    total = sum(weights) or 1
    return [round(100 * weight / total, 2) for weight in weights]


def write(document: Document, fmt: str, path: Path, images: dict[int, bytes] | None = None):
    """Write ``document`` to ``path`` in format ``fmt`` (docx, pdf or html)."""
    if fmt not in FORMATS:
        raise ValueError(f"format: unknown {fmt!r}; choose from {', '.join(FORMATS)}")
    images = chart_images(document) if images is None else images
    # Captions, the title page and the numbering follow the words of the document.
    with translation.override(document.language):
        if fmt == "docx":
            write_docx(document, path, images)
        elif fmt == "html":
            path.write_text(render_html(document, images), encoding="utf-8")
        else:
            write_pdf(document, path, images)


def edit_note(paragraph: Paragraph, language: str) -> str:
    """Who edited a reading, in brackets after it: （…） in Chinese, (…) otherwise."""
    if not paragraph.edited_by:
        return ""
    if is_chinese(language):
        return f"（{paragraph.edited_by}）"
    return f" ({paragraph.edited_by})"


# --- Word ------------------------------------------------------------------------


def _set_font(style_or_run, name: str, size: float | None = None, bold: bool | None = None):
    font = style_or_run.font
    font.name = name
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    element = style_or_run.element
    properties = element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _field(paragraph, instruction: str, placeholder: str) -> None:
    """A Word field (e.g. the table of contents), updated when the file is opened."""
    for kind, text in (("begin", None), ("instr", instruction), ("separate", None)):
        run = paragraph.add_run()
        if kind == "instr":
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = text
            run._r.append(code)
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
    paragraph.add_run(placeholder)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)


def _docx_run(text: str, properties: str) -> str:
    lines = (f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in str(text).split("\n"))
    return f"<w:r>{properties}{'<w:br/>'.join(lines)}</w:r>"


def _docx_table_xml(word, table: Table) -> str:
    """A Word table (style Table Grid, fixed column widths) as XML: rows never split
    across pages (``w:cantSplit``), the header row repeated on every page the table runs
    onto (``w:tblHeader``), warning colours as cell shading, text at 10 pt."""
    section = word.sections[-1]
    text_twips = Emu(section.page_width - section.left_margin - section.right_margin).twips
    widths = [round(text_twips * share / 100) for share in column_widths(table)]
    header_font = (
        f'<w:rPr><w:rFonts w:ascii="{HEADING_FONT}" w:hAnsi="{HEADING_FONT}" '
        f'w:eastAsia="{HEADING_FONT}"/><w:b/><w:sz w:val="20"/></w:rPr>'
    )
    body_font = '<w:rPr><w:sz w:val="20"/></w:rPr>'

    def row_xml(texts, font, *, header=False, shade=""):
        keep = '<w:cantSplit w:val="true"/>' + ('<w:tblHeader w:val="true"/>' if header else "")
        fill = f'<w:shd w:val="clear" w:fill="{shade}"/>' if shade else ""
        cells = "".join(
            f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{fill}</w:tcPr>'
            f"<w:p>{_docx_run(text, font)}</w:p></w:tc>"
            for width, text in zip(widths, texts, strict=True)
        )
        return f"<w:tr><w:trPr>{keep}</w:trPr>{cells}</w:tr>"

    warnings = table.row_warnings or [""] * len(table.rows)
    rows = [row_xml(table.columns, header_font, header=True)] + [
        row_xml(row, body_font, shade=CELL_SHADES.get(warning, ""))
        for row, warning in zip(table.rows, warnings, strict=True)
    ]
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
    return (
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="TableGrid"/>'
        f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
        f'<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
        f'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )


def write_docx(document: Document, path: Path, images: dict[int, bytes]) -> None:
    word = WordDocument()
    _set_font(word.styles["Normal"], BODY_FONT, 12)
    for name, size in (("Title", 26), ("Heading 1", 16), ("Heading 2", 14)):
        _set_font(word.styles[name], HEADING_FONT, size, bold=True)
        word.styles[name].font.color.rgb = RGBColor(0, 0, 0)
    published = dt.datetime.fromisoformat(document.date) if document.date else None
    word.core_properties.title = document.title
    word.core_properties.author = document.issuer
    if published:  # fixed dates: the same release gives the same file properties
        word.core_properties.created = word.core_properties.modified = published
    # Word refreshes the table of contents field when the file is opened.
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    word.settings.element.append(update)

    for _blank in range(4):
        word.add_paragraph()
    for text, size in ((document.title, 26), (document.subject, 18)):
        paragraph = word.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_font(paragraph.add_run(text), HEADING_FONT, size, bold=True)
    if document.draft:
        paragraph = word.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_font(paragraph.add_run(_("（草稿，未发布）")), HEADING_FONT, 16)
    if document.synthetic:
        for text, size in ((_("演示数据（合成）"), 16), (_(SYNTHETIC_NOTE), 12)):
            paragraph = word.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(text)
            _set_font(run, HEADING_FONT, size, bold=size > 12)
            run.font.color.rgb = RGBColor(0x8A, 0x4B, 0x00)
        # The first section's header is inherited by the sections added after it.
        header = word.sections[0].header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_font(header.add_run(_("演示数据（合成）")), BODY_FONT, 9)
    for _blank in range(6):
        word.add_paragraph()
    for text in (document.issuer, document.date[:10]):
        paragraph = word.add_paragraph(text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    heading = word.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(heading.add_run(_("目  录")), HEADING_FONT, 16, bold=True)
    _field(word.add_paragraph(), 'TOC \\o "1-2" \\h \\z \\u', _("（打开文件时更新目录）"))
    word.add_section(WD_SECTION.NEW_PAGE)

    counters = {"table": 0, "figure": 0}
    # Style ids looked up once: python-docx searches every style at each lookup by name.
    heading_styles = {level: word.styles[f"Heading {level}"].style_id for level in (1, 2)}

    def heading(text: str, level: int) -> None:
        word.add_paragraph(text)._p.style = heading_styles[level]

    for number, section, subsections in document.numbered():
        heading(f"{number}{section.title}", 1)
        _docx_blocks(word, section.blocks, images, counters, document.language)
        for sub_number, subsection in subsections:
            heading(f"{sub_number}{subsection.title}", 2)
            _docx_blocks(word, subsection.blocks, images, counters, document.language)
    word.save(path)


def _docx_blocks(word, blocks, images, counters, language: str) -> None:
    for block in blocks:
        if isinstance(block, Paragraph):
            paragraph = word.add_paragraph(block.text)
            paragraph.paragraph_format.first_line_indent = Pt(24)
            if block.edited_by:
                note = paragraph.add_run(edit_note(block, language))
                note.font.size = Pt(9)
        elif isinstance(block, Table):
            counters["table"] += 1
            caption = word.add_paragraph(
                _("表%(number)s　%(caption)s")
                % {"number": counters["table"], "caption": block.caption}
            )
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
            word.element.body._insert_tbl(parse_xml(_docx_table_xml(word, block)))
            if block.note:
                note = word.add_paragraph()
                note.add_run(block.note).font.size = Pt(9)
        elif isinstance(block, Figure):
            counters["figure"] += 1
            word.add_picture(io.BytesIO(images[id(block)]), width=Cm(14))
            word.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption = word.add_paragraph(
                _("图%(number)s　%(caption)s")
                % {"number": counters["figure"], "caption": block.caption}
            )
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER


# --- HTML and PDF ------------------------------------------------------------------


def _numbered_blocks(document: Document, images: dict[int, bytes]):
    """The document's sections with tables and figures numbered and images inlined."""
    counters = {Table: 0, Figure: 0}
    sections = []

    def blocks_of(blocks):
        out = []
        for block in blocks:
            kind = type(block)
            item = {"block": block, "kind": kind.__name__.lower()}
            if kind is Paragraph:
                item["edit_note"] = edit_note(block, document.language)
            if kind in counters:
                counters[kind] += 1
                item["number"] = counters[kind]
                item["rows"] = [
                    (row, block.row_warnings[i] if block.row_warnings else "")
                    for i, row in enumerate(getattr(block, "rows", []))
                ]
                if kind is Table:
                    item["widths"] = column_widths(block)
            if kind is Figure:
                item["src"] = "data:image/png;base64," + base64.b64encode(images[id(block)]).decode(
                    "ascii"
                )
            out.append(item)
        return out

    for number, section, subsections in document.numbered():
        sections.append(
            {
                "number": number,
                "title": section.title,
                "anchor": f"s{len(sections) + 1}",
                "blocks": blocks_of(section.blocks),
                "subsections": [
                    {"number": n, "title": s.title, "blocks": blocks_of(s.blocks)}
                    for n, s in subsections
                ],
            }
        )
    return sections


def document_context(document: Document, images: dict[int, bytes] | None = None) -> dict:
    images = chart_images(document) if images is None else images
    return {"document": document, "sections": _numbered_blocks(document, images)}


def render_html(document: Document, images: dict[int, bytes] | None = None, *, pdf=False) -> str:
    """The report as one standalone HTML page."""
    return render_to_string(
        "reports/document.html", {**document_context(document, images), "for_pdf": pdf}
    )


def write_pdf(document: Document, path: Path, images: dict[int, bytes]) -> None:
    from weasyprint import HTML  # imported here: loading WeasyPrint takes a second

    HTML(string=render_html(document, images, pdf=True)).write_pdf(path)
