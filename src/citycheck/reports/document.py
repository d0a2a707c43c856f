"""The shape every report takes before it is written out: a :class:`Document` of numbered
:class:`Section` s holding paragraphs, tables and figures.

The builders (``content.py``, ``summaries.py``) fill a document from a release; the renderers
(``render.py``) write any document as Word, PDF or HTML. A document holds only plain
data (charts as a kind and their numbers, drawn by the renderer), so it can be sent to a
worker process and renders identically each time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation

CHINESE_NUMERALS = "一二三四五六七八九十"


def chinese_number(number: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (section numbers of a government report)."""
    if number <= 10:
        return CHINESE_NUMERALS[number - 1]
    tens, units = divmod(number, 10)
    head = "" if tens == 1 else CHINESE_NUMERALS[tens - 1]
    return head + "十" + (CHINESE_NUMERALS[units - 1] if units else "")


def is_chinese(language: str) -> bool:
    return language.lower().startswith("zh")


def active_language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


@dataclass(frozen=True)
class Punctuation:
    """The marks put between words the builders join themselves: full-width in Chinese,
    ASCII otherwise."""

    colon: str
    comma: str
    items: str  # between the items of a list
    clauses: str  # between clauses
    stop: str  # at the end of a sentence
    gap: str  # before the next sentence


CHINESE_PUNCTUATION = Punctuation(
    colon="：", comma="，", items="、", clauses="；", stop="。", gap=""
)
ASCII_PUNCTUATION = Punctuation(colon=": ", comma=", ", items=", ", clauses="; ", stop=".", gap=" ")


def punctuation(language: str) -> Punctuation:
    return CHINESE_PUNCTUATION if is_chinese(language) else ASCII_PUNCTUATION


@dataclass
class Paragraph:
    """A paragraph; ``reading_key`` marks a written reading officials may edit."""

    text: str
    reading_key: str = ""
    edited_by: str = ""


@dataclass
class Table:
    """A table with a caption above and its units and sources below.

    ``row_warnings`` holds a warning colour (green/yellow/red or "") per row; ``widths``
    the columns' relative widths (none: estimated from the text by
    ``render.column_widths``).
    """

    caption: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    row_warnings: list[str] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)


@dataclass
class Figure:
    """A chart drawn on the server: ``kind`` is a function of ``charts.py``, ``data`` its
    numbers."""

    caption: str
    kind: str
    data: dict


@dataclass
class Section:
    title: str
    blocks: list = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


@dataclass
class Document:
    """One report: the title page fields and the numbered sections."""

    title: str
    subject: str  # the place, or the province for summaries
    issuer: str  # the issuing authority
    date: str  # the release's publication date: reports regenerate identically
    sections: list[Section] = field(default_factory=list)
    draft: bool = False
    # Made from the demo's generated data (Round.is_synthetic): the cover and the header of
    # every page say 演示数据（合成）.
    synthetic: bool = False
    # The language the words were written in; the renderers write the document in it.
    language: str = field(default_factory=active_language)

    def numbered(self):
        """(number text, section, [(number text, subsection)]) per section: 一、 and （一）
        in Chinese, "1. " and "1.1 " otherwise."""
        if is_chinese(self.language):
            return [
                (
                    f"{chinese_number(i)}、",
                    section,
                    [
                        (f"（{chinese_number(j)}）", sub)
                        for j, sub in enumerate(section.subsections, 1)
                    ],
                )
                for i, section in enumerate(self.sections, 1)
            ]
        return [
            (
                f"{i}. ",
                section,
                [(f"{i}.{j} ", sub) for j, sub in enumerate(section.subsections, 1)],
            )
            for i, section in enumerate(self.sections, 1)
        ]

    def tables_and_figures(self):
        """Every table and figure in reading order, for their running numbers."""
        for section in self.sections:
            for part in (section, *section.subsections):
                yield from (b for b in part.blocks if isinstance(b, Table | Figure))
