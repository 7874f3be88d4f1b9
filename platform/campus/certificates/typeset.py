"""Set any name in the certificate fonts: font fallback per character, bidi order, wrapping.

DejaVu Serif covers Latin, Greek and Cyrillic. Characters it lacks are drawn in the first
fallback font that has them (Noto Naskh Arabic, Noto Sans Hebrew, Droid Sans Fallback for
Chinese and Japanese, a Hangul subset of Nanum Gothic; all in ./fonts with their licenses).
Right-to-left text is shaped (Arabic letters joined by arabic-reshaper) and put in visual
order (python-bidi) line by line, after wrapping, so a wrapped right-to-left name reads
correctly from its first line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import arabic_reshaper
from bidi import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path(__file__).resolve().parent / "fonts"
# Registered on first use: the CJK font is large, and most documents never need it.
FALLBACKS = {
    "CertArabic": "NotoNaskhArabic-Regular.ttf",
    "CertHebrew": "NotoSansHebrew-Regular.ttf",
    "CertCJK": "DroidSansFallbackFull.ttf",
    "CertHangul": "CampusHangulSans-Regular.ttf",
}
_RTL_CLASSES = {"R", "AL"}


@cache
def _font(name: str) -> TTFont:
    """The registered TrueType font of this name, registering a fallback on first use."""
    if name in FALLBACKS:
        try:
            return pdfmetrics.getFont(name)
        except KeyError:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / FALLBACKS[name])))
    return pdfmetrics.getFont(name)


def _has(font_name: str, char: str) -> bool:
    return ord(char) in _font(font_name).face.charToGlyph


@cache
def font_for(primary: str, char: str) -> str:
    """The font that draws this character: the primary if it can, else the first fallback."""
    if char.isspace() or _has(primary, char):
        return primary
    for name in FALLBACKS:
        if _has(name, char):
            return name
    return primary


def undrawn(text: str, primary: str) -> list[str]:
    """The characters of text that no font here draws, once each (spaces and joiners aside).

    Drawn anyway, each would print as an empty box: a name in Devanagari or Thai, an emoji.
    """
    return [
        char
        for char in dict.fromkeys(visual(text))
        if not char.isspace()
        and unicodedata.category(char) != "Cf"
        and not _has(font_for(primary, char), char)
    ]


def runs(text: str, primary: str) -> Iterator[tuple[str, str]]:
    """Split visual-order text into (font, text) runs by which font has each character."""
    current, chunk = "", ""
    for char in text:
        name = font_for(primary, char)
        if name != current and chunk:
            yield current, chunk
            chunk = ""
        current = name
        chunk += char
    if chunk:
        yield current, chunk


def has_rtl(text: str) -> bool:
    """Whether any character is written right to left (Hebrew, Arabic, ...)."""
    return any(unicodedata.bidirectional(char) in _RTL_CLASSES for char in text)


def visual(text: str) -> str:
    """One line in the order it is drawn: Arabic joined, right-to-left runs reversed."""
    if not has_rtl(text):
        return text
    return get_display(arabic_reshaper.reshape(text))


def width(text: str, primary: str, size: float) -> float:
    """The drawn width of one line, with each character in the font that draws it."""
    line = visual(text)
    return sum(pdfmetrics.stringWidth(chunk, name, size) for name, chunk in runs(line, primary))


def draw(canvas: Canvas, x: float, y: float, text: str, primary: str, size: float) -> None:
    """Draw one line starting at x, switching fonts where the primary lacks a character."""
    for name, chunk in runs(visual(text), primary):
        canvas.setFont(name, size)
        canvas.drawString(x, y, chunk)
        x += pdfmetrics.stringWidth(chunk, name, size)


def draw_centred(canvas: Canvas, cx: float, y: float, text: str, primary: str, size: float):
    """Draw one line centred on cx."""
    draw(canvas, cx - width(text, primary, size) / 2, y, text, primary, size)


def _pieces(text: str) -> list[str]:
    """Break points: after spaces and hyphens, and between ideographs (no spaces in CJK)."""
    pieces, piece = [], ""
    for char in text:
        wide = unicodedata.east_asian_width(char) in ("W", "F")
        if wide and piece:
            pieces.append(piece)
            piece = ""
        piece += char
        if char in " -\u2010" or wide:
            pieces.append(piece)
            piece = ""
    if piece:
        pieces.append(piece)
    return pieces


def wrap(text: str, primary: str, size: float, max_width: float) -> list[str]:
    """Wrap text (logical order) into lines no wider than max_width; split over-long words."""
    lines: list[str] = []
    line = ""
    for piece in _pieces(" ".join(text.split())):
        if width(line + piece, primary, size) <= max_width or not line.strip():
            line += piece
        else:
            lines.append(line.rstrip())
            line = piece.lstrip()
        while width(line.rstrip(), primary, size) > max_width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and width(line[:cut], primary, size) > max_width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def fit_lines(
    text: str,
    primary: str,
    *,
    max_width: float,
    sizes: tuple[float, float],
    max_lines: int,
) -> tuple[float, list[str]]:
    """The largest size (from sizes[0] down to sizes[1]) at which text wraps into max_lines.

    Below the smallest size the text takes more lines rather than being cut off.
    """
    size = sizes[0]
    while True:
        lines = wrap(text, primary, size, max_width)
        if len(lines) <= max_lines or size <= sizes[1]:
            return size, lines
        size -= 0.5
