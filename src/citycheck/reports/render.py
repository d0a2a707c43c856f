"""Write a :class:`~citycheck.reports.document.Document` as Word, HTML or PDF.

* Word (python-docx): title page, table of contents field, numbered headings
  (Heading 1 "一、", Heading 2 "（一）"), numbered tables with units and sources
  below, figures as embedded PNG.
* HTML: one self-contained page (charts as ``data:`` images), from the template
  ``reports/document.html``.
* PDF: that HTML through WeasyPrint, with the Noto CJK font embedded (subset).

The same document always gives the same text: dates come from the release, charts are
drawn without timestamps.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from docx import Document as WordDocument
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from . import charts
from .document import Document, Figure, Paragraph, Table, is_chinese

FORMATS = ("docx", "pdf", "html")
CELL_SHADES = {"green": "D9F0D3", "yellow": "FFF2B3", "red": "F8C9C4"}
BODY_FONT, HEADING_FONT = "宋体", "黑体"
# Under the 演示数据（合成） mark of a synthetic round's report (as the pages' badge says).
SYNTHETIC_NOTE = gettext_noop("由演示数据生成器产生，不是真实统计数据。")


def chart_images(document: Document) -> dict[int, bytes]:
    """PNG bytes of every figure of ``document``, keyed by ``id(figure)``."""
    return {
        id(block): charts.render(block.kind, block.data)
        for block in document.tables_and_figures()
        if isinstance(block, Figure)
    }


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


def _shade(cell, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _keep_row_whole(row, *, header: bool = False) -> None:
    """A Word table row that never splits across pages; a header row is repeated at the
    top of every page the table runs onto."""
    properties = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader") if header else ("w:cantSplit",):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "true")
        properties.append(element)


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
    for number, section, subsections in document.numbered():
        word.add_heading(f"{number}{section.title}", level=1)
        _docx_blocks(word, section.blocks, images, counters, document.language)
        for sub_number, subsection in subsections:
            word.add_heading(f"{sub_number}{subsection.title}", level=2)
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
            table = word.add_table(rows=1, cols=len(block.columns))
            table.style = "Table Grid"
            _keep_row_whole(table.rows[0], header=True)
            for cell, title in zip(table.rows[0].cells, block.columns, strict=True):
                cell.text = ""
                _set_font(cell.paragraphs[0].add_run(title), HEADING_FONT, 10, bold=True)
            for index, row in enumerate(block.rows):
                table_row = table.add_row()
                _keep_row_whole(table_row)
                cells = table_row.cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = ""
                    cell.paragraphs[0].add_run(text).font.size = Pt(10)
                warning = block.row_warnings[index] if block.row_warnings else ""
                if warning in CELL_SHADES:
                    for cell in cells:
                        _shade(cell, CELL_SHADES[warning])
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
