"""Spreadsheet-safe values for every CSV the platform writes (admin exports, leads, transcripts)."""

from __future__ import annotations

from typing import Any

# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...), +cmd|).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet would run as a formula by prefixing a quote."""
    if isinstance(value, str) and value.lstrip(" ")[:1] in _FORMULA_STARTS:
        return "'" + value
    return value
