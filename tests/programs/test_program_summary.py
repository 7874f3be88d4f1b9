"""The program page's side panel names the practical's state in the page's own words."""

from __future__ import annotations

import re

import pytest

from campus.extensions import db
from tests import support
from tests.programs.helpers import candidate, ready_program


def _summary(html: str) -> str:
    """The text of the side panel's summary list."""
    section = html.split('class="plain program-summary"', 1)[1].split("</ul>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section)).strip()


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("submitted", "Practical: waiting for review"),
        ("passed", "Practical: passed"),
        ("returned", "Practical: returned"),
    ],
)
def test_the_side_panel_says_the_practicals_state_as_the_page_does(app, client, status, said):
    # It printed the stored status: "Practical: submitted" beside "Your video is waiting for
    # review" in the practical section.
    from campus.models.base import utcnow
    from campus.programs.models import PracticalSubmission

    with app.app_context():
        program, courses = ready_program(practical_required=True)
        user = candidate(courses)
        db.session.add(
            PracticalSubmission(
                program_id=program.id,
                user_id=user.id,
                storage_key="programs/practicals/x.mp4",
                filename="x.mp4",
                content_type="video/mp4",
                size_bytes=10,
                status=status,
                reviewed_at=None if status == "submitted" else utcnow(),
                comments="" if status != "returned" else "Film the whole technique.",
            )
        )
        db.session.commit()
        support.sign_in_directly(client, user.id)
        slug = program.slug
    summary = _summary(client.get(f"/programs/{slug}").text)
    assert said in summary
