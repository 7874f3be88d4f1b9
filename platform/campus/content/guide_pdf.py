"""The free hip-and-thigh stretching guide, drawn with ReportLab."""

from __future__ import annotations

from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import (
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

BRAND = colors.HexColor("#0f5e55")
ACCENT = colors.HexColor("#f6c65b")
SOFT = colors.HexColor("#e3f1ee")
INK = colors.HexColor("#1c2b2a")

TITLE = "Hip and Thigh Stretching Guide"

# (name, target, how, hold, cues)
STRETCHES = [
    (
        "Standing hamstring hinge",
        "Hamstrings (semitendinosus, semimembranosus, biceps femoris)",
        "Put one heel on a low step with the knee soft. Keep the back long and hinge forward "
        "from the hips until you feel a stretch behind the thigh. Turn the toes slightly in to "
        "bias the outer hamstring, slightly out for the inner ones.",
        "3 x 30 seconds each side",
        "Hinge at the hips, not the waist. A pulling feeling behind the knee or tingling in the "
        "foot means back off: that is the sciatic nerve, not the muscle.",
    ),
    (
        "Supine figure-four",
        "Piriformis and the deep hip rotators",
        "Lie on your back with both knees bent. Cross one ankle over the opposite knee, then "
        "draw the lower thigh toward the chest until the buttock of the crossed leg stretches.",
        "3 x 30 seconds each side",
        "Keep the pelvis flat on the floor. Press the crossed knee gently away to deepen it.",
    ),
    (
        "Half-kneeling hip flexor stretch",
        "Iliopsoas and rectus femoris",
        "Kneel on one knee on a cushion with the other foot in front. Tuck the tail under, "
        "squeeze the buttock of the kneeling side and shift forward a few centimetres.",
        "3 x 30 seconds each side",
        "The movement is small. Arching the low back takes the stretch away from the hip.",
    ),
    (
        "Side-lying quadriceps stretch",
        "Quadriceps, especially rectus femoris",
        "Lie on your side, hold the top ankle and bring the heel toward the buttock while the "
        "knees stay level. Push the hip forward to reach rectus femoris.",
        "3 x 30 seconds each side",
        "Use a strap around the ankle if the knee complains when fully bent.",
    ),
    (
        "Cross-over gluteus medius stretch",
        "Gluteus medius, gluteus minimus and tensor fasciae latae",
        "Stand beside a wall. Cross the leg nearest the wall behind the other one and let the "
        "hip drift toward the wall until the outside of the hip stretches.",
        "3 x 30 seconds each side",
        "Keep the trunk upright; leaning the shoulders away adds to the stretch.",
    ),
    (
        "Wide-stance adductor rock-back",
        "Adductor longus, brevis, magnus and gracilis",
        "Kneel on all fours, then slide one leg straight out to the side with the foot flat. "
        "Rock the hips slowly back toward the heel of the kneeling leg.",
        "8-10 slow rocks, then 20 seconds held",
        "Keep the spine neutral. A sharp pain in the groin is a stop sign.",
    ),
]

SAFETY = [
    "Stretch to a clear, comfortable pull, never to pain. Breathe slowly through each hold.",
    "Warm up first: five minutes of walking or cycling makes tissue more willing to lengthen.",
    "Numbness, tingling, burning or pain that spreads down the leg is not a stretch. Stop and "
    "see your clinician.",
    "After surgery, a recent injury or with a hip replacement, ask your clinician which of these "
    "positions are right for you.",
]


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle(
            "title", parent=base["Title"], textColor=colors.white, fontSize=26, leading=31,
            alignment=TA_LEFT, spaceAfter=6,
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base["Normal"], textColor=ACCENT, fontSize=12, leading=16
        ),
        "h2": ParagraphStyle(
            "h2", parent=base["Heading2"], textColor=BRAND, fontSize=15, leading=19,
            spaceBefore=4, spaceAfter=4,
        ),
        "body": ParagraphStyle(
            "body", parent=base["BodyText"], textColor=INK, fontSize=10.5, leading=14.5
        ),
        "small": ParagraphStyle(
            "small", parent=base["BodyText"], textColor=colors.HexColor("#4a5b59"), fontSize=9,
            leading=12,
        ),
        "label": ParagraphStyle(
            "label", parent=base["BodyText"], textColor=BRAND, fontSize=8.5, leading=11,
            fontName="Helvetica-Bold",
        ),
    }  # fmt: skip


def _banner(styles) -> Table:
    banner = Table(
        [
            [Paragraph(TITLE, styles["title"])],
            [
                Paragraph(
                    "Six stretches for the hamstrings, hip rotators, hip flexors, "
                    "quadriceps, lateral hip and adductors",
                    styles["subtitle"],
                )
            ],
        ],
        colWidths=[7 * inch],
    )
    banner.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), BRAND),
                ("LEFTPADDING", (0, 0), (-1, -1), 18),
                ("TOPPADDING", (0, 0), (0, 0), 18),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 18),
            ]
        )
    )
    return banner


def _stretch_card(number: int, stretch: tuple, styles) -> KeepTogether:
    name, target, how, hold, cues = stretch
    rows = [
        [Paragraph(f"{number}. {name}", styles["h2"]), ""],
        [Paragraph("TARGET", styles["label"]), Paragraph(target, styles["body"])],
        [Paragraph("HOW", styles["label"]), Paragraph(how, styles["body"])],
        [Paragraph("HOLD", styles["label"]), Paragraph(hold, styles["body"])],
        [Paragraph("CUES", styles["label"]), Paragraph(cues, styles["body"])],
    ]
    card = Table(rows, colWidths=[0.9 * inch, 6.1 * inch])
    card.setStyle(
        TableStyle(
            [
                ("SPAN", (0, 0), (-1, 0)),
                ("BACKGROUND", (0, 0), (-1, 0), SOFT),
                ("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor("#dfe6e4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return KeepTogether([card, Spacer(1, 12)])


def _footer(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFillColor(BRAND)
    canvas.rect(0, 0, LETTER[0], 0.32 * inch, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(0.75 * inch, 0.12 * inch, f"Campus · {TITLE}")
    canvas.drawRightString(LETTER[0] - 0.75 * inch, 0.12 * inch, f"Page {doc.page}")
    canvas.restoreState()


def build_stretching_guide() -> tuple[bytes, int]:
    """Draw the guide: its PDF bytes and its number of pages."""
    styles = _styles()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=LETTER, leftMargin=0.75 * inch, rightMargin=0.75 * inch,
        topMargin=0.7 * inch, bottomMargin=0.7 * inch, title=TITLE, author="Campus",
        subject="Stretches for the hip and thigh",
    )  # fmt: skip
    story: list = [_banner(styles), Spacer(1, 14)]
    story.append(
        Paragraph(
            "Tight, trigger-point-laden muscles around the hip are behind much of the low back, "
            "buttock and knee pain therapists see. These six stretches cover the main groups. "
            "Do them after a short warm-up, once or twice a day, and expect change over weeks "
            "rather than days.",
            styles["body"],
        )
    )
    story.append(Spacer(1, 10))
    story.append(Paragraph("Before you start", styles["h2"]))
    story.append(
        ListFlowable(
            [ListItem(Paragraph(line, styles["body"]), leftIndent=12) for line in SAFETY],
            bulletType="bullet",
            bulletColor=BRAND,
            leftIndent=12,
        )
    )
    story.append(Spacer(1, 14))
    for number, stretch in enumerate(STRETCHES, start=1):
        story.append(_stretch_card(number, stretch, styles))
    story.append(Spacer(1, 6))
    story.append(
        Paragraph(
            "This guide is general education for adults and does not replace an assessment by a "
            "licensed clinician.",
            styles["small"],
        )
    )
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue(), doc.page
