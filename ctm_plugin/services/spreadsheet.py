"""CSV cells a spreadsheet opens as text: the one place exports neutralise formulas."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula: one starting with = + - @, a tab or a CR gets a quote first."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell
