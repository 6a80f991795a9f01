"""Cells for CSV and XLSX exports: no formulas from user text, no characters a workbook cannot hold."""

from __future__ import annotations

import re

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value):
    """Text a spreadsheet will show as text: drop characters XLSX forbids, quote a leading = + - @ tab CR.

    A signed number such as "-12.50" stays a number; anything else starting like a formula
    (=HYPERLINK(...), +1+cmd|..., -2+..., @SUM(...)) gets a leading apostrophe (OWASP's advice).
    """
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(v) for v in values]
