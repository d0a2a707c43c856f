"""Writing and reading spreadsheet cells safely: every Excel export writes its rows through
:func:`append_row`, every upload checks text cells with :func:`is_formula_text`.

Text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken as a
formula by Excel and other spreadsheets (CSV/formula injection, OWASP). Exports prefix
such text with an apostrophe, which shows and keeps it as text; :func:`unescape_text`
removes exactly that prefix again when a file we wrote comes back as an upload. Numbers
(a negative number included) are written as numbers, untouched.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def is_formula_text(value) -> bool:
    """Whether ``value`` is text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def escape_text(value):
    """``value`` as it is safe to write in a cell: text that would be a formula (or that
    already looks escaped) gets one more leading apostrophe; anything else is unchanged."""
    if isinstance(value, str) and is_formula_text(value.lstrip(TEXT_MARK)):
        return TEXT_MARK + value
    return value


def unescape_text(value):
    """The text :func:`escape_text` was given: one leading apostrophe less on escaped text."""
    if (
        isinstance(value, str)
        and value.startswith(TEXT_MARK)
        and is_formula_text(value.lstrip(TEXT_MARK))
    ):
        return value[len(TEXT_MARK) :]
    return value


def append_row(sheet, values: Iterable) -> None:
    """Append ``values`` to an openpyxl worksheet as a row, text escaped."""
    sheet.append([escape_text(value) for value in values])


DOCTYPE_MARKS = tuple(
    "<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def parts_declaring_doctype(archive) -> list[str]:
    """Names of the parts of an Office file (an open ``zipfile.ZipFile``) that declare a
    document type. Office files never do; a DOCTYPE is how XML entity attacks (billion
    laughs, external entities) start, so such a file is refused before any parser reads it.
    The parts are read in chunks, in UTF-8 and UTF-16."""
    overlap = max(len(mark) for mark in DOCTYPE_MARKS)
    found = []
    for entry in archive.infolist():
        with archive.open(entry) as part:
            tail = b""
            while chunk := part.read(1 << 20):
                window = tail + chunk
                if any(mark in window for mark in DOCTYPE_MARKS):
                    found.append(entry.filename)
                    break
                tail = window[-overlap:]
    return found
