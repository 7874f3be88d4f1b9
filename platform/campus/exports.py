"""Spreadsheet-safe values for every CSV the platform writes (admin exports, leads, transcripts)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Response

# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...), +cmd|).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """Neutralise a text cell a spreadsheet would run as a formula by prefixing a quote."""
    if isinstance(value, str) and value.lstrip(" ")[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    """A value as the CSV writer gets it: text or a number, formulas neutralised."""
    if value is None:
        return ""
    if not isinstance(value, str | int | float | Decimal):
        # The writer prints any other object as its str(): a related record (an approval's
        # course) is its title, as open to a formula as any text cell.
        value = str(value)
    return safe_cell(value)


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Write rows as CSV text, every cell neutralised (None becomes an empty cell)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def csv_attachment(text: str, filename: str) -> Response:
    """Answer CSV text as a download that no browser or proxy keeps."""
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment;filename={filename}",
            "Cache-Control": "no-store",
        },
    )
