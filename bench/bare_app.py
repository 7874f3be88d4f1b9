"""The yardstick: a bare Flask app rendering a comparable page (layout, nav, a form) per request."""

from flask import Flask, render_template

app = Flask(__name__, template_folder="bare_templates")


@app.get("/")
def page() -> str:
    """Render the comparable page."""
    return render_template(
        "page.html",
        title="Welcome back",
        lead="Log in to continue your courses and read the member library.",
        nav=["Articles", "Courses", "Membership"],
        fields=["email", "password"],
        paragraphs=["Trigger-point therapy education for hands-on clinicians."] * 8,
        year=2026,
    )
