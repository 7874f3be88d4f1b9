"""The yardstick: a bare Flask app rendering a comparable page per request.

The same template features as ours (a layout it extends, navigation, url_for, loops,
escaping) and about as much markup as a Campus article or lesson page (~9 KB), with no
application logic: no database, session, login, CSRF or rate limiting.
"""

from flask import Flask, render_template

app = Flask(__name__, template_folder="bare_templates")

PARAGRAPH = (
    "Trigger points in this muscle refer pain in a predictable pattern; palpate across the "
    "fibres with the patient relaxed, note the twitch response and compare both sides."
)
SECTIONS = [
    {"heading": heading, "paragraphs": [PARAGRAPH] * 3}
    for heading in (
        "Anatomy",
        "Referred pain pattern",
        "Symptoms",
        "Causes",
        "Differential diagnosis",
        "Associated muscles",
        "Self help",
        "Treatment techniques",
    )
]


@app.get("/")
@app.get("/<section>")
def page(section: str | None = None) -> str:
    """Render the comparable page."""
    return render_template(
        "page.html",
        title="Hamstrings",
        eyebrow="Hip and thigh",
        lead="Log in to continue your courses and read the member library.",
        description="Trigger-point therapy education for hands-on clinicians.",
        nav=["Articles", "Courses", "Membership"],
        fields=["email", "password"],
        sections=SECTIONS,
        related=["Gluteus medius", "Piriformis", "Quadratus lumborum", "Gastrocnemius"],
        tagline="Trigger-point therapy articles and continuing education.",
        provider="Campus Continuing Education",
        year=2026,
    )
