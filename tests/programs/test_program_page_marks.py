"""The program page's course lists say to a screen reader what the check marks show."""

from __future__ import annotations

import re

from campus.extensions import db
from tests import support
from tests.programs.helpers import complete, make_course, make_program


def _items(html: str, heading: str) -> list[str]:
    """The text a screen reader reads of each course row in the list under a heading."""
    section = html.split(heading, 1)[1].split("</ul>", 1)[0]
    rows = re.findall(r"<li[^>]*>(.*?)</li>", section, flags=re.S)
    # What a screen reader skips: the marks hidden from it.
    rows = [re.sub(r'<span[^>]*aria-hidden="true"[^>]*>.*?</span>', "", row) for row in rows]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def test_a_screen_reader_hears_which_elective_courses_are_done(app, client):
    with app.app_context():
        done, pending = make_course("elective-done", "3"), make_course("elective-open", "3")
        program = make_program(electives=[done, pending], elective_hours=3)
        user = support.create_user()
        complete(user.id, done)
        support.sign_in_directly(client, user.id)
        slug = program.slug
        db.session.commit()
    page = client.get(f"/programs/{slug}").text
    # The ✓ and ○ are hidden from assistive technology: the words must say it instead.
    assert _items(page, "Elective hours</h2>") == [
        "Course elective-done 3 CE hours completed",
        "Course elective-open 3 CE hours not completed",
    ]


def test_the_programs_list_says_a_badge_is_the_candidates_status_not_the_programs(app, client):
    with app.app_context():
        program = make_program(title="Certified Trigger Point Therapist")
        user = support.create_user()
        support.sign_in_directly(client, user.id)
        title = program.title
    page = client.get("/programs/").text
    heading = re.search(r"<h2>(.*?)</h2>", page, flags=re.S)
    assert heading is not None
    spoken = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", heading.group(1))).strip()
    # Read as "Certified Trigger Point Therapist revoked", the program itself seemed withdrawn.
    assert spoken == f"{title} Your status: in progress"
