"""Draw the CE transcript PDF: portrait Letter, a table of certificates, a footer on every page."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from campus.certificates import typeset
from campus.certificates.pdf import (
    BRAND,
    GOLD,
    INK,
    SOFT,
    hours_text,
    register_fonts,
)
from campus.templating import counted

WIDTH, HEIGHT = letter
LEFT, RIGHT = 54, WIDTH - 54
# Completed, Course, CE hours, Delivery, Certificate: the code column holds a full
# CE-XXXX-XXXX-XXXX-XXXX code at 8 points.
COLUMNS = (LEFT, LEFT + 62, LEFT + 252, LEFT + 296, LEFT + 376)
LABELS = ("Completed", "Course", "Hours", "Delivery", "Certificate")
GAP = 6
FOOTER_SIZE, FOOTER_LEADING = 7.5, 9.5
BOTTOM = 36  # the footer's last baseline; nothing is drawn below it


def _column_width(index: int) -> float:
    end = COLUMNS[index + 1] if index + 1 < len(COLUMNS) else RIGHT + GAP
    return end - COLUMNS[index] - GAP


def _fit(text: str, font: str, size: float, width: float, floor: float) -> float:
    while size > floor and typeset.width(text, font, size) > width:
        size -= 0.25
    return size


def render_transcript(
    *,
    participant: dict,
    provider: dict,
    rows: Sequence[dict],
    start_text: str,
    end_text: str,
    total_hours: Decimal,
    generated_text: str,
) -> bytes:
    """Draw a CE transcript (portrait Letter, as many pages as needed)."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, initialFontName="CertSerif")
    canvas.setTitle(f"CE transcript {start_text} to {end_text}")
    footer_lines = typeset.wrap(
        f"{provider['name']}  ·  {provider['address']}  ·  {provider['email']}. Each "
        "certificate can be verified at the URL printed on it.",
        "CertSerif",
        FOOTER_SIZE,
        RIGHT - LEFT - 60,
    )
    footer_top = BOTTOM + FOOTER_LEADING * (len(footer_lines) - 1) + 14
    page = [1]

    def footer() -> None:
        canvas.setStrokeColor(GOLD)
        canvas.setLineWidth(0.5)
        canvas.line(LEFT, footer_top, RIGHT, footer_top)
        canvas.setFillColor(SOFT)
        y = footer_top - 11
        for line in footer_lines:
            typeset.draw(canvas, LEFT, y, line, "CertSerif", FOOTER_SIZE)
            y -= FOOTER_LEADING
        canvas.setFont("CertSerif", FOOTER_SIZE)
        canvas.drawRightString(RIGHT, footer_top - 11, f"Page {page[0]}")

    def new_page() -> float:
        footer()
        canvas.showPage()
        page[0] += 1
        return header()

    def header() -> float:
        canvas.setFillColor(BRAND)
        canvas.setFont("CertSerif-Bold", 10)
        canvas.drawString(LEFT, HEIGHT - 54, provider["name"].upper())
        canvas.setFillColor(SOFT)
        canvas.setFont("CertSerif", 8.5)
        canvas.drawRightString(RIGHT, HEIGHT - 54, f"Generated {generated_text}")
        canvas.setFillColor(INK)
        canvas.setFont("CertSerif-Bold", 20)
        canvas.drawString(LEFT, HEIGHT - 82, "Continuing Education Transcript")
        # The name as the member wrote it (up to 120 characters, any script): wrapped, not cut.
        size, lines = typeset.fit_lines(
            participant["name"],
            "CertSerif-Bold",
            max_width=RIGHT - LEFT,
            sizes=(11, 8.5),
            max_lines=1,
        )
        y = HEIGHT - 102
        for line in lines:
            typeset.draw(canvas, LEFT, y, line, "CertSerif-Bold", size)
            y -= size + 3
        # A license number may run to 60 characters: the line wraps rather than leave the page.
        for line in typeset.wrap(
            f"{participant['license']}  ·  Period: {start_text} to {end_text}",
            "CertSerif",
            10.5,
            RIGHT - LEFT,
        ):
            typeset.draw(canvas, LEFT, y - 1, line, "CertSerif", 10.5)
            y -= 13.5
        y += 1.5
        canvas.setStrokeColor(GOLD)
        canvas.line(LEFT, y, RIGHT, y)
        canvas.setFont("CertSerif-Bold", 9)
        for x, label in zip(COLUMNS, LABELS, strict=True):
            canvas.drawString(x, y - 17, label)
        return y - 34

    y = header()
    for row in rows:
        title_lines = typeset.wrap(row["course_title"], "CertSerif", 9, _column_width(1))
        approvals = typeset.wrap(row.get("approvals") or "", "CertSerif", 7.5, RIGHT - COLUMNS[1])
        needed = 12 * len(title_lines) + 8 + 10 * len(approvals)
        if y - needed < footer_top + 8:
            y = new_page()
        canvas.setFillColor(INK)
        canvas.setFont("CertSerif", 9)
        canvas.drawString(COLUMNS[0], y, row["completion_date"])
        for i, line in enumerate(title_lines):
            typeset.draw(canvas, COLUMNS[1], y - 12 * i, line, "CertSerif", 9)
        canvas.setFont("CertSerif", 9)
        canvas.drawString(COLUMNS[2], y, hours_text(row["ce_hours"]))
        delivery_size = _fit(row["delivery_type"], "CertSerif", 9, _column_width(3), 6.5)
        canvas.setFont("CertSerif", delivery_size)
        canvas.drawString(COLUMNS[3], y, row["delivery_type"])
        code_size = _fit(row["code"], "CertSerif", 8, _column_width(4), 6)
        canvas.setFont("CertSerif", code_size)
        canvas.drawString(COLUMNS[4], y, row["code"])
        canvas.setFillColor(SOFT)
        below = y - 12 * (len(title_lines) - 1) - 10
        for line in approvals:
            typeset.draw(canvas, COLUMNS[1], below, line, "CertSerif", 7.5)
            below -= 10
        y -= needed
    if not rows:
        canvas.setFillColor(SOFT)
        canvas.setFont("CertSerif-Italic", 10)
        canvas.drawString(LEFT, y, "No certificates were issued in this period.")
        y -= 20
    if y - 16 < footer_top + 8:
        y = new_page()
    canvas.setStrokeColor(GOLD)
    canvas.line(LEFT, y + 2, RIGHT, y + 2)
    canvas.setFillColor(INK)
    canvas.setFont("CertSerif-Bold", 11)
    canvas.drawString(LEFT, y - 14, f"Total: {counted(total_hours, 'CE hour')}")
    footer()
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
