"""Certificate and transcript PDFs draw every name in full, in fonts that have its letters."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from campus.certificates import pdf, typeset
from campus.certificates.transcript_pdf import render_transcript

LONG_NAME = (
    "Maria-José Anne-Sophie O'Connor-Fitzgerald de la Cruz y Santos-Villanueva "
    "Ñúñez-Åkerström Ørsted-Łukasiewicz Þórðardóttir"
)
CODE = "CE-7K3M-9Q2X-H4TR-WP8N"
# The subset names ReportLab embeds, mapped back to the names the documents register.
FONT_NAMES = {
    "DejaVuSerif": "CertSerif",
    "DejaVuSerif-Bold": "CertSerif-Bold",
    "DejaVuSerif-Italic": "CertSerif-Italic",
    "NotoNaskhArabic-Regular": "CertArabic",
    "NotoSansHebrew-Regular": "CertHebrew",
    "DroidSansFallback": "CertCJK",
    "CampusHangulSans-Regular": "CertHangul",
}


def certificate_data(**fields) -> dict:
    data = {
        "code": CODE,
        "participant_name": "Casey Moreno",
        "course_title": "Myofascial Release for the Lumbar Spine",
        "provider_name": "Campus Continuing Education",
        "provider_address": "200 Harbor Street, Suite 4, Portland, ME 04101",
        "provider_email": "ce@campus.example",
        "ce_hours": "3.00",
        "delivery_type": "Home study",
        "completion_date_text": "December 1, 2026",
        "approvals": [{"board": "NCBTMB", "approval_number": "1234"}],
        "signatory_name": "Dana Whitfield, LMT, MEd",
        "signatory_title": "Director of Continuing Education",
        "verification_url": f"https://campus.example/verify/{CODE}",
        "license_number": "MA12345",
        "license_state": "ME",
    }
    return data | fields


def text_boxes(body: bytes) -> list[dict]:
    """Every piece of text drawn: its text, font, size, left and right edge, page width."""
    boxes = []
    for page in PdfReader(io.BytesIO(body)).pages:
        page_width = float(page.mediabox.width)

        def visit(text, cm, tm, font, size, page_width=page_width):
            text = text.strip("\n")
            if not text.strip() or not font:
                return
            name = FONT_NAMES[str(font["/BaseFont"]).split("+", 1)[-1]]
            left = tm[4] * cm[0] + cm[4]
            right = left + pdfmetrics.stringWidth(text, name, size)
            boxes.append(
                {
                    "text": text,
                    "font": name,
                    "size": size,
                    "left": left,
                    "right": right,
                    "y": tm[5] * cm[3] + cm[5],
                    "page_width": page_width,
                }
            )

        page.extract_text(visitor_text=visit)
    return boxes


def test_a_120_character_name_is_drawn_whole_inside_the_certificate_frame():
    name = (LONG_NAME + " Ekström")[:120]
    assert len(name) == 120
    boxes = text_boxes(pdf.render_certificate(certificate_data(participant_name=name)))
    drawn = "".join(b["text"] for b in boxes if b["font"] == "CertSerif-Bold")
    # Wrapped at a space or after a hyphen: every letter is drawn, in order.
    assert "".join(name.split()) in "".join(drawn.split())
    for box in boxes:
        assert box["left"] >= 31 and box["right"] <= 792 - 31, box


def test_letters_the_serif_lacks_are_drawn_in_a_fallback_font_that_has_them():
    name = "Zoë Chen 陈美玲 山田 さくら 김민준 ليلى שרה"
    boxes = text_boxes(pdf.render_certificate(certificate_data(participant_name=name)))
    fonts = {char: b["font"] for b in boxes for char in b["text"] if not char.isspace()}
    assert fonts["ë"] == "CertSerif-Bold"
    assert fonts["陈"] == fonts["山"] == fonts["さ"] == "CertCJK"
    assert fonts["김"] == "CertHangul"
    assert fonts["ש"] == "CertHebrew"
    assert any(font == "CertArabic" for font in fonts.values())
    for char, font in fonts.items():
        assert ord(char) in pdfmetrics.getFont(font).face.charToGlyph, (char, font)


def test_a_hebrew_name_reads_from_right_to_left():
    boxes = text_boxes(pdf.render_certificate(certificate_data(participant_name="דוד בן כהן")))
    left = {b["text"]: b["left"] for b in boxes if b["font"] == "CertHebrew"}
    assert left["דוד"] > left["בן"] > left["כהן"]


def test_an_arabic_name_is_joined_and_reads_from_right_to_left():
    boxes = text_boxes(pdf.render_certificate(certificate_data(participant_name="سارة بنت عبد")))
    words = sorted((b for b in boxes if b["font"] == "CertArabic"), key=lambda b: -b["left"])
    # Joined letter forms: seen in its initial form, the final alef and teh marbuta.
    assert [w["text"] for w in words] == ["ﺳﺎﺭﺓ", "ﺑﻨﺖ", "ﻋﺒﺪ"]


def test_wrapping_keeps_right_to_left_words_in_reading_order_across_lines():
    lines = typeset.wrap("דוד בן אברהם כהן " * 6, "CertSerif-Bold", 15, 200)
    assert len(lines) > 1
    assert lines[0].startswith("דוד בן")


def transcript(
    name: str = "Casey Moreno", rows: int = 3, license: str = "License no. MA12345  ·  ME"
) -> bytes:
    return render_transcript(
        participant={"name": name, "license": license},
        provider={
            "name": "Campus Continuing Education",
            "address": "200 Harbor Street, Suite 4, Portland, ME 04101",
            "email": "ce@campus.example",
        },
        rows=[
            {
                "completion_date": "2026-11-02",
                "course_title": f"Myofascial Release for the Lumbar Spine and Pelvis {i}",
                "ce_hours": "2.50",
                "delivery_type": "Recorded webinar",
                "code": CODE,
                "approvals": "NCBTMB: 1234; Maine Board of Massage Therapy: 99-887",
            }
            for i in range(rows)
        ],
        start_text="September 30, 2026",  # as format_date writes them
        end_text="December 31, 2026",
        total_hours=Decimal("7.5"),
        generated_text="Dec 1, 2026",
    )


def test_transcript_text_stays_inside_the_page_margins_footer_and_code_included():
    boxes = text_boxes(transcript(name=LONG_NAME, rows=40))
    for box in boxes:
        assert box["left"] >= 54 - 0.5 and box["right"] <= box["page_width"] - 54 + 0.5, box
    text = " ".join(b["text"] for b in boxes)
    assert "can be verified at the URL printed on it." in text
    assert text.count(CODE) == 40
    assert "Page 2" in text


# A license number may be up to 60 characters where the board's format is not known.
LONG_LICENSE = "MW-" + "W" * 57


def test_a_60_character_license_number_stays_inside_the_certificate_frame():
    boxes = text_boxes(pdf.render_certificate(certificate_data(license_number=LONG_LICENSE)))
    assert LONG_LICENSE in "".join(b["text"] for b in boxes)
    for box in boxes:
        assert box["left"] >= 31 and box["right"] <= 792 - 31, box


@pytest.mark.parametrize("number", ["1234567890123", LONG_LICENSE])
def test_the_transcript_license_and_period_stay_inside_the_margins(number):
    line = pdf.license_line({"license_number": number, "license_state": "NCBTMB"})
    boxes = text_boxes(transcript(license=line))
    assert number in "".join(b["text"] for b in boxes)
    for box in boxes:
        assert box["left"] >= 54 - 0.5 and box["right"] <= box["page_width"] - 54 + 0.5, box


def test_transcript_code_column_holds_the_whole_code_without_touching_the_next_cell():
    boxes = text_boxes(transcript())
    codes = [b for b in boxes if b["text"] == CODE]
    assert len(codes) == 3
    delivery = [b for b in boxes if b["text"] == "Recorded webinar"]
    assert all(d["right"] < c["left"] for d, c in zip(delivery, codes, strict=True))


def test_verify_page_shows_a_right_to_left_name_whole_in_its_own_direction(app, client):
    from tests.certificates.helpers import code_of, completed_student

    name = "سارة بنت عبد الرحمن الهاشمي"
    s = completed_student(app, full_name=name, email="sara@example.com")
    html = client.get(f"/verify/{code_of(app, s.user_id)}").get_data(as_text=True)
    assert f'<dd class="verify-name" dir="auto">{name}</dd>' in html


def test_a_credential_draws_a_long_name_and_program_title_whole_inside_its_frame():
    from campus.programs.documents import render_pdf
    from campus.programs.models import Credential

    name = (LONG_NAME + " Ekström")[:120]
    title = "Advanced Clinical Certification in Myofascial Trigger Point Therapy " * 2
    data = {
        "holder_name": name,
        "program_title": title.strip(),
        "provider_name": "Campus Continuing Education",
        "earned_date_text": "March 1, 2026",
        "valid_until_text": "February 29, 2028",
        "standing": "A certificate program of Campus Continuing Education, not an accredited "
        "certification.",
        "verification_url": "https://campus.example/programs/verify/CR-7K3M-9Q2X",
    }
    boxes = text_boxes(render_pdf(Credential(code="CR-7K3M-9Q2X", data=data)))
    drawn = "".join("".join(b["text"] for b in boxes if b["font"] == "CertSerif-Bold").split())
    assert "".join(name.split()) in drawn
    assert "".join(title.split()) in drawn
    for box in boxes:
        assert box["left"] >= 31 and box["right"] <= 792 - 31, box
