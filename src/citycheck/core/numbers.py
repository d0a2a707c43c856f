"""The one parser of numbers typed by people or sent by machines: the web entry form, the
API fields and the Excel upload all go through :func:`parse_number`.

What it accepts, and why (Chinese users type numbers with an input method that may be in
full-width mode, and the decimal mark in China is the point):

- ASCII digits, and full-width digits, point, signs and spaces (``１２．５``, ``－３``),
  folded to ASCII by NFKC normalisation;
- a comma (or full-width ``，``) only as a thousands separator in groups of three
  (``1,234``, ``12,345.6``); ``1,5`` is refused as ambiguous, never read as 15 or 1.5;
- an exponent (``1.2e3``).

Refused: other scripts' digits (``٣``, which Python's ``float`` reads as 3), NaN,
infinities and anything too large for a float (``1e309``), and empty text.
"""

from __future__ import annotations

import math
import re
import unicodedata

from django.utils.translation import gettext as _

# After NFKC: sign, digits (thousands grouped by commas or not), fraction, exponent.
NUMBER_PATTERN = re.compile(
    r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", flags=re.ASCII
)
MAX_TEXT_LENGTH = 100


class NumberError(ValueError):
    """Text that is not a number; the message says why, for the person who typed it."""


def check_finite(number: float) -> float:
    """``number`` as a float if it is finite; :class:`NumberError` otherwise."""
    if isinstance(number, bool):
        raise NumberError(_("不是数字。"))
    try:
        number = float(number)
    except OverflowError:
        raise NumberError(_("数值过大。")) from None
    if not math.isfinite(number):
        raise NumberError(_("数值必须是有限的数字（不能是 NaN 或无穷大）。"))
    return number


def parse_number(text: str | float | int) -> float:
    """The finite float written in ``text`` (see the module for what is accepted).

    Numbers (int, float) are only checked to be finite. Raises :class:`NumberError`.
    """
    if not isinstance(text, str):
        return check_finite(text)
    if len(text) > MAX_TEXT_LENGTH:
        raise NumberError(_("文字过长，不是数字。"))
    normal = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    normal = "".join(normal.split())
    if not NUMBER_PATTERN.fullmatch(normal):
        if "," in normal:
            raise NumberError(_("逗号只能用作千位分隔符（如 1,234）；小数请用点号（如 1.5）。"))
        raise NumberError(_("不是数字。"))
    return check_finite(float(normal.replace(",", "")))
