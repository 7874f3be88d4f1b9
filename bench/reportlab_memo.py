"""ReportLab patches that memoize font subsets per process, kept here to measure what they buy.

Campus once shipped these in certificates/pdf.py: every certificate's font subsets started with
the same characters (PRESEED), so the subset programs, their compression, widths and ToUnicode
maps were built once and reused. They replace private ReportLab methods (TTFontFace.makeSubset
and addSubsetObjects, TTFont.addObjects), so a ReportLab upgrade can break them silently.
bench/certificates.py --pdf-only draws the same certificates with and without them in one run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFStreamFilterZCompress
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    TTFont,
    makeToUnicodeCMap,
)
from reportlab.pdfgen.canvas import Canvas

from campus.certificates import pdf

# Every certificate's font subsets start with these characters in this order, so the subsets
# of Latin-script certificates are identical from one PDF to the next and are built only once.
PRESEED = (
    "".join(chr(c) for c in range(32, 127))
    + "\u00b7\u2013\u2014\u2018\u2019\u201c\u201d\u00e9\u00e8\u00e1\u00f3\u00f6\u00fc\u00f1\u00e7"
)


class _MemoFlate(PDFStreamFilterZCompress):
    """Flate that compresses a given font program once (the subsets repeat across PDFs)."""

    @lru_cache(maxsize=256)  # noqa: B019 - one module-level instance, lives as long as the process
    def encode(self, text: bytes) -> bytes:
        return super().encode(text)


_FONT_FLATE = _MemoFlate()


class _Formatted(pdfdoc.PDFObject):
    """A PDF value formatted once and reused as bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document) -> bytes:
        return self.data


def _memoize_subsets(font: TTFont) -> None:
    face = font.face
    build = face.makeSubset
    cached = lru_cache(maxsize=256)(lambda chars: build(list(chars)))
    face.makeSubset = lambda subset: cached(tuple(subset))

    def add_subset_objects(doc, fontname, subset):
        # ReportLab's TTFontFace.addSubsetObjects, with the memoized compression.
        font_file = pdfdoc.PDFStream()
        font_file.content = face.makeSubset(subset)
        font_file.dictionary["Length1"] = len(font_file.content)
        if doc.compression:
            font_file.filters = [_FONT_FLATE]
        font_file_ref = doc.Reference(font_file, f"fontFile:{face.filename}({fontname})")
        descriptor = pdfdoc.PDFDictionary(
            {
                "Type": "/FontDescriptor",
                "Ascent": face.ascent,
                "CapHeight": face.capHeight,
                "Descent": face.descent,
                "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                "FontBBox": pdfdoc.PDFArray(face.bbox),
                "FontName": pdfdoc.PDFName(fontname),
                "ItalicAngle": face.italicAngle,
                "StemV": face.stemV,
                "FontFile2": font_file_ref,
                "MissingWidth": face.defaultWidth,
            }
        )
        return doc.Reference(descriptor, "fontDescriptor:" + fontname)

    face.addSubsetObjects = add_subset_objects
    _memoize_font_objects(font)


def _memoize_font_objects(font: TTFont) -> None:
    # ReportLab's TTFont.addObjects, with the widths array and the ToUnicode map of a subset
    # formatted once.
    face = font.face

    @lru_cache(maxsize=256)
    def widths(subset: tuple[int, ...]) -> _Formatted:
        return _Formatted(pdfdoc.PDFArray([face.getCharWidth(c) for c in subset]).format(None))

    @lru_cache(maxsize=256)
    def to_unicode(base_name: str, subset: tuple[int, ...]) -> bytes:
        return makeToUnicodeCMap(base_name, list(subset))

    def add_objects(doc) -> None:
        state = font.state.get(doc) or font.state.setdefault(doc, TTFont.State(font._asciiReadable))
        state.frozen = 1
        for n, subset in enumerate(state.subsets):
            key = tuple(subset)
            internal_name = font.getSubsetInternalName(n, doc)[1:]
            base_name = (b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX))).decode(
                "pdfdoc"
            )
            pdf_font = pdfdoc.PDFTrueTypeFont()
            pdf_font.__Comment__ = f"Font {font.fontName} subset {n}"
            pdf_font.Name = internal_name
            pdf_font.BaseFont = base_name
            pdf_font.FirstChar = 0
            pdf_font.LastChar = len(subset) - 1
            pdf_font.Widths = widths(key)
            cmap = pdfdoc.PDFStream()
            cmap.content = to_unicode(base_name, key)
            if doc.compression:
                cmap.filters = [_FONT_FLATE]
            pdf_font.ToUnicode = doc.Reference(cmap, "toUnicodeCMap:" + base_name)
            pdf_font.FontDescriptor = face.addSubsetObjects(doc, base_name, subset)
            doc.Reference(pdf_font, internal_name)
            doc.idToObject["BasicFonts"].dict[internal_name] = pdf_font
        del font.state[doc]

    font.addObjects = add_objects


class _PreseededCanvas(Canvas):
    """A canvas whose certificate fonts all start their subsets with PRESEED."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in pdf.FONTS:
            pdfmetrics.getFont(name).splitString(PRESEED, self._doc)


_MEMO_FONTS: dict[str, TTFont] = {}


@contextmanager
def patched() -> Iterator[None]:
    """Draw with the memoizing fonts under the certificate's font names, then restore them."""
    pdf.register_fonts()
    if not _MEMO_FONTS:
        for name, filename in pdf.FONTS.items():
            font = TTFont(name, str(pdf.FONT_DIR / filename))
            _memoize_subsets(font)
            _MEMO_FONTS[name] = font
    # pdfmetrics keeps registered fonts in a module dict: swapping entries swaps the fonts.
    shipped = {name: pdfmetrics.getFont(name) for name in pdf.FONTS}
    canvas = pdf.Canvas
    pdfmetrics._fonts.update(_MEMO_FONTS)
    pdf.Canvas = _PreseededCanvas  # type: ignore[misc]
    try:
        yield
    finally:
        pdfmetrics._fonts.update(shipped)
        pdf.Canvas = canvas  # type: ignore[misc]
