"""Draw certificate and transcript PDFs with ReportLab from frozen certificate data.

Fonts (DejaVu Serif, shipped in ./fonts and embedded as subsets by stock ReportLab) are
registered and the signature path built once per process; a certificate is then a single page
of text, a few vector paths and a QR code drawn as merged runs (bench/certificates.py). Names
and titles go through typeset.py: fallback fonts for Arabic, Hebrew and CJK, right-to-left order.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path

import segno
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from campus.certificates import typeset
from campus.templating import counted

HERE = Path(__file__).resolve().parent
FONT_DIR = HERE / "fonts"
FONTS = {
    "CertSerif": "DejaVuSerif.ttf",
    "CertSerif-Bold": "DejaVuSerif-Bold.ttf",
    "CertSerif-Italic": "DejaVuSerif-Italic.ttf",
}
PAGE = landscape(letter)  # 792 x 612 points

INK = HexColor("#1c2b2a")
SOFT = HexColor("#4a5b59")
BRAND = HexColor("#0f5e55")
GOLD = HexColor("#b8923a")
REVOKED = Color(0.70, 0.15, 0.12, alpha=0.55)


@cache
def register_fonts() -> tuple[str, ...]:
    """Register the embedded TrueType fonts once per process (ReportLab embeds used subsets)."""
    for name, filename in FONTS.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    return tuple(FONTS)


def unprintable(name: str) -> list[str]:
    """The characters of a name that no certificate font has, once each."""
    register_fonts()
    return typeset.undrawn(name, "CertSerif-Bold")


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


@cache
def _signature_ops() -> str:
    """The signature as PDF path operators (cubic Beziers through its points), built once."""
    raw = json.loads((HERE / "signature.json").read_text())
    ops = []
    for points in raw["strokes"]:
        pts = [tuple(p) for p in points]
        ops.append(f"{_num(pts[0][0])} {_num(pts[0][1])} m")
        for i in range(len(pts) - 1):
            # Catmull-Rom to Bezier: a smooth stroke through every recorded point.
            p0 = pts[i - 1] if i else pts[i]
            p1, p2 = pts[i], pts[i + 1]
            p3 = pts[i + 2] if i + 2 < len(pts) else p2
            c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
            c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
            ops.append(" ".join(_num(v) for v in (*c1, *c2, *p2)) + " c")
    return " ".join(ops)


@cache
def _signature_box() -> tuple[float, float]:
    width, height = json.loads((HERE / "signature.json").read_text())["box"]
    return float(width), float(height)


@cache
def _signature_image(source: str | bytes) -> ImageReader:
    return ImageReader(io.BytesIO(source) if isinstance(source, bytes) else source)


def hours_text(value: Decimal | str | float) -> str:
    """Write CE hours without trailing zeros: 2.00 -> "2", 1.50 -> "1.5"."""
    number = Decimal(str(value)).quantize(Decimal("0.01"))
    text = f"{number:f}".rstrip("0").rstrip(".")
    return text or "0"


def fit(text: str, font: str, size: float, width: float, floor: float) -> float:
    """Shrink a font size until the text fits the width (not below `floor`)."""
    while size > floor and typeset.width(text, font, size) > width:
        size -= 0.5
    return size


def centered_lines(
    canvas: Canvas, text: str, font: str, size: float, y: float, width: float, leading: float
) -> float:
    """Draw wrapped, centred lines from y downwards; return the baseline below the last."""
    for line in typeset.wrap(text, font, size, width):
        typeset.draw_centred(canvas, PAGE[0] / 2, y, line, font, size)
        y -= leading
    return y


NAME_WIDTH = 600


def draw_name(canvas: Canvas, name: str, centre: float, baseline: float = 402) -> None:
    """A holder's name: one line shrunk to fit, else two smaller lines, never clipped.

    One line sits on the baseline; two sit just below it and one leading above.
    """
    font = "CertSerif-Bold"
    size, lines = typeset.fit_lines(name, font, max_width=NAME_WIDTH, sizes=(28, 18), max_lines=1)
    if len(lines) > 1:
        size, lines = typeset.fit_lines(
            name, font, max_width=NAME_WIDTH, sizes=(15, 8), max_lines=2
        )
    leading = size * 1.2
    y = baseline - 2 + leading * (len(lines) - 1) if len(lines) > 1 else baseline
    for line in lines:
        typeset.draw_centred(canvas, centre, y, line, font, size)
        y -= leading


def _qr_ops(data: str) -> tuple[int, str]:
    """A QR code as PDF rectangles in module units, one per horizontal run of dark modules.

    The mask is fixed (any of the eight is valid; choosing the "best" one costs 4x the time).
    """
    matrix = segno.make(data, error="m", mask=2, boost_error=False).matrix
    count = len(matrix)
    ops = []
    for row_index, row in enumerate(matrix):
        top = count - row_index - 1
        start = None
        for col, dark in enumerate((*row, 0)):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                ops.append(f"{start} {top} {col - start} 1 re")
                start = None
    return count, " ".join(ops)


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code (with a quiet zone) as one filled path: fast and crisp in print."""
    count, ops = _qr_ops(data)
    quiet = 2
    module = size / (count + 2 * quiet)
    ox, oy = x + quiet * module, y + quiet * module
    canvas.addLiteral(
        f"q {_num(module)} 0 0 {_num(module)} {_num(ox)} {_num(oy)} cm 0.11 0.169 0.165 rg "
        f"{ops} f Q"
    )


def _draw_signature(
    canvas: Canvas, x: float, y: float, width: float, image: str | bytes | None
) -> None:
    if image:
        reader = _signature_image(image)
        iw, ih = reader.getSize()
        canvas.drawImage(reader, x, y, width, width * ih / iw, mask="auto")
        return
    scale = width / _signature_box()[0]
    canvas.addLiteral(
        f"q {_num(scale)} 0 0 {_num(scale)} {_num(x)} {_num(y)} cm 0.114 0.184 0.435 RG "
        f"{_num(1.5 / scale)} w 1 J 1 j {_signature_ops()} S Q"
    )


def _frame(canvas: Canvas) -> None:
    width, height = PAGE
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(3)
    canvas.rect(22, 22, width - 44, height - 44)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(0.9)
    canvas.rect(31, 31, width - 62, height - 62)
    # Small diamonds at the corners of the inner frame.
    canvas.setFillColor(GOLD)
    for cx, cy in ((31, 31), (width - 31, 31), (31, height - 31), (width - 31, height - 31)):
        path = canvas.beginPath()
        path.moveTo(cx, cy - 5)
        path.lineTo(cx + 5, cy)
        path.lineTo(cx, cy + 5)
        path.lineTo(cx - 5, cy)
        path.close()
        canvas.drawPath(path, fill=1, stroke=0)


def _approvals_text(approvals: Sequence[dict] | None) -> str:
    if approvals is None:  # frozen before approvals were kept: nothing to say either way
        return ""
    if not approvals:
        # Hours earned while every approval had lapsed: the board must not read it as approved.
        return "No board approval was in force on the completion date."
    parts = [f"{a['board']}: {a['approval_number']}" for a in approvals]
    return "Approved by " + "; ".join(parts) + "."


SIGNATURE_LINE = 170  # the width of each signature line when the instructor signs too
URL_BESIDE_LINES = 200  # what the verification URL may take beside two signature lines


def _administrator_block(
    canvas: Canvas, data: dict, x: float, image: str | bytes | None, line: float = SIGNATURE_LINE
) -> None:
    """The provider's administrator: signature, line, name, title and provider."""
    _draw_signature(canvas, x + 6, 106, line - 30, image)
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.6)
    canvas.line(x, 104, x + line, 104)
    canvas.setFillColor(INK)
    _line_text(canvas, data["signatory_name"], "CertSerif-Bold", 10.5, x, 90, line)
    _line_text(canvas, data["signatory_title"], "CertSerif", 9.5, x, 77, line)
    canvas.setFillColor(SOFT)
    _line_text(canvas, data["provider_name"], "CertSerif", 9.5, x, 64, line)


def _instructor_block(canvas: Canvas, names: list[str], x: float) -> None:
    """The instructors who taught the course: their names typed on the line, then named."""
    width = SIGNATURE_LINE
    canvas.setFillColor(SOFT)
    typed = " & ".join(name.split(",")[0].strip() for name in names)
    size, lines = typeset.fit_lines(
        typed, "CertSerif-Italic", max_width=width - 8, sizes=(13, 9), max_lines=1
    )
    if len(lines) > 1:
        size, lines = typeset.fit_lines(
            typed, "CertSerif-Italic", max_width=width - 8, sizes=(10, 7), max_lines=2
        )
    y = 112 + (len(lines) - 1) * (size + 2)
    for part in lines:
        typeset.draw(canvas, x + 4, y, part, "CertSerif-Italic", size)
        y -= size + 2
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.6)
    canvas.line(x, 104, x + width, 104)
    canvas.setFillColor(INK)
    # Each name with its credentials, as the course lists them; shrunk, never cut.
    y = 90
    for name in names[:2] if len(names) <= 2 else ["; ".join(names)]:
        size, lines = typeset.fit_lines(
            name, "CertSerif-Bold", max_width=width, sizes=(10.5, 6), max_lines=1
        )
        for part in lines:
            typeset.draw(canvas, x, y, part, "CertSerif-Bold", size)
            y -= 13  # the administrator's leading, so the two blocks' lines align
    canvas.setFillColor(SOFT)
    canvas.setFont("CertSerif", 9.5)
    canvas.drawString(x, y, "Course instructor" + ("s" if len(names) > 1 else ""))


def _line_text(
    canvas: Canvas, text: str, font: str, size: float, x: float, y: float, width: float
) -> None:
    typeset.draw(canvas, x, y, text, font, fit(text, font, size, width, 6))


def render_certificate(
    data: dict, *, revoked: bool = False, signature_image: str | bytes | None = None
) -> bytes:
    """Draw one certificate (US Letter, landscape) from its frozen data; return the PDF bytes."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=1, initialFontName="CertSerif")
    canvas.setTitle(f"Certificate {data['code']}: {data['course_title']}")
    canvas.setAuthor(data["provider_name"])
    canvas.setSubject("Continuing education certificate of completion")
    _frame(canvas)
    width, _height = PAGE
    centre = width / 2

    canvas.setFillColor(BRAND)
    canvas.setFont("CertSerif-Bold", 11)
    provider = data["provider_name"].upper()
    canvas.drawCentredString(centre, 548, provider)

    canvas.setFillColor(INK)
    canvas.setFont("CertSerif-Bold", 32)
    canvas.drawCentredString(centre, 502, "Certificate of Completion")
    canvas.setFillColor(SOFT)
    canvas.setFont("CertSerif-Italic", 13)
    canvas.drawCentredString(centre, 478, "Continuing Education")

    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(0.8)
    canvas.line(centre - 60, 466, centre + 60, 466)

    canvas.setFillColor(SOFT)
    canvas.setFont("CertSerif-Italic", 12.5)
    canvas.drawCentredString(centre, 436, "This certifies that")

    canvas.setFillColor(INK)
    draw_name(canvas, data["participant_name"], centre)
    canvas.setStrokeColor(SOFT)
    canvas.setLineWidth(0.5)
    canvas.line(centre - 230, 394, centre + 230, 394)

    # Shrunk to the name's width: a license number may run to 60 characters.
    license = license_line(data)
    typeset.draw_centred(
        canvas, centre, 377, license, "CertSerif", fit(license, "CertSerif", 11.5, NAME_WIDTH, 6)
    )

    canvas.setFillColor(SOFT)
    canvas.setFont("CertSerif-Italic", 12.5)
    canvas.drawCentredString(
        centre, 350, "has successfully completed the continuing education course"
    )

    canvas.setFillColor(INK)
    title = data["course_title"]
    title_size = fit(title, "CertSerif-Bold", 19, 1240, 13)
    y = centered_lines(canvas, title, "CertSerif-Bold", title_size, 323, 640, title_size + 5)

    canvas.setFont("CertSerif", 12.5)
    facts = (
        f"{counted(data['ce_hours'], 'CE hour')}  ·  {data['delivery_type']}  ·  "
        f"Completed on {data['completion_date_text']}"
    )
    canvas.drawCentredString(centre, y - 6, facts)

    canvas.setFillColor(SOFT)
    approvals = _approvals_text(data.get("approvals"))
    if approvals:
        y = centered_lines(canvas, approvals, "CertSerif", 10, y - 28, 600, 13) + 13
    else:
        y -= 15

    # Provider and contact, centred under the course facts.
    canvas.setFont("CertSerif", 9)
    canvas.drawCentredString(
        centre,
        y - 26,
        f"Provider: {data['provider_name']}  ·  {data['provider_address']}  ·  "
        f"{data['provider_email']}",
    )

    instructors = [name for name in data.get("instructors") or [] if name.strip()]
    if instructors:
        # Two signature lines side by side: the administrator's, then the instructor's.
        _administrator_block(canvas, data, 50, signature_image)
        _instructor_block(canvas, instructors, 50 + SIGNATURE_LINE + 20)
    else:  # frozen before instructors were kept, or none named: one line, as printed then
        _administrator_block(canvas, data, 76, signature_image, line=220)

    # Code, verification URL and QR code, bottom right.
    qr_size = 88
    qr_x = width - 56 - qr_size
    draw_qr(canvas, data["verification_url"], qr_x, 52, qr_size)
    text_right = qr_x - 2
    canvas.setFillColor(SOFT)
    canvas.setFont("CertSerif", 8.5)
    canvas.drawRightString(text_right, 122, "Certificate code")
    canvas.setFillColor(INK)
    canvas.setFont("CertSerif-Bold", 13)
    canvas.drawRightString(text_right, 106, data["code"])
    canvas.setFillColor(SOFT)
    canvas.setFont("CertSerif", 8.5)
    canvas.drawRightString(text_right, 87, "Scan or visit to verify:")
    url = data["verification_url"]
    url_size = fit(url, "CertSerif", 8.5, 250 if not instructors else URL_BESIDE_LINES, 6)
    canvas.setFillColor(INK)
    canvas.setFont("CertSerif", url_size)
    canvas.drawRightString(text_right, 75, url)

    if revoked:
        canvas.saveState()
        canvas.setFillColor(REVOKED)
        canvas.setFont("CertSerif-Bold", 80)
        canvas.translate(centre, 300)
        canvas.rotate(24)
        canvas.drawCentredString(0, 0, "REVOKED")
        canvas.restoreState()

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def license_line(data: dict) -> str:
    """The participant's license as printed: number and state, or a plain note when absent."""
    number = (data.get("license_number") or "").strip()
    state = (data.get("license_state") or "").strip()
    if number and state:
        return f"License no. {number}  ·  {state}"
    if number:
        return f"License no. {number}"
    return "License number not provided"


def render_bare_page(text_lines: Iterable[str]) -> bytes:
    """A plain landscape page in the same fonts: the benchmark baseline."""
    fonts = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=1, initialFontName=fonts[0])
    y = 540
    for font, line in zip(fonts, text_lines, strict=False):
        canvas.setFont(font, 14)
        canvas.drawString(72, y, line)
        y -= 24
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
