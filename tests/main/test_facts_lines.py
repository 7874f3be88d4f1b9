"""Facts written in running text are items of a facts line, never parted by a written dot."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import time_machine

from campus.extensions import db
from campus.programs import actions
from tests import support
from tests.licenses.helpers import add_license
from tests.programs.helpers import candidate, ready_program


class _FactsLines(HTMLParser):
    """Collect, for each facts line marked with a class, its children and any text between them."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker, self.depth, self.lines = marker, 0, []  # depth inside a facts line

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
            if self.depth == 2:  # a child of the line: a new item
                self.lines[-1].append(["" if tag == "span" else f"<{tag}>", ""])
        elif "facts-line" in classes and self.marker in classes:
            self.depth = 1
            self.lines.append([])

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth == 1:  # written between the items
            assert not data.strip(), f"{data!r} written between a facts line's items"
        elif self.depth > 1:
            self.lines[-1][-1][1] += data


def _facts_items(page: str, marker: str) -> list[list[str]]:
    """The items (their text) of each facts line on the page with the class marker."""
    parser = _FactsLines(marker)
    parser.feed(page)
    found = []
    for line in parser.lines:
        assert all(tag == "" for tag, _ in line), "an item that is not its own span"
        texts = [" ".join(text.split()) for _, text in line]
        assert not any("·" in t for t in texts), texts
        found.append(texts)
    return found


def test_a_programs_attempt_lines_are_facts_lines(app, client):
    # "Attempt 1: 0% · not passed · May 4, 2026" could end a phone's line with its dot.
    with app.app_context():
        program, courses = ready_program(exam_attempts_allowed=2)
        user = candidate(courses)
        with time_machine.travel("2026-05-04 12:00Z", tick=False):
            sitting = actions.start_exam(user, program)
            actions.submit_exam(user, sitting, {})
            db.session.commit()
        slug = program.slug
        support.sign_in_directly(client, user.id)
    page = client.get(f"/programs/{slug}").text
    assert _facts_items(page, "program-sitting") == [["Attempt 1: 0%", "not passed", "May 4, 2026"]]


def test_the_profiles_license_lines_are_facts_lines(app, client):
    # "MA12345 · expires June 30, 2027" on the account page.
    with app.app_context():
        user = support.create_user()
        add_license(user.id, number="MA12345", expires_on=date(2027, 6, 30))
        add_license(user.id, number=None)
        support.sign_in_directly(client, user.id)
    page = client.get("/account").text
    assert _facts_items(page, "muted") == [["MA12345", "expires June 30, 2027"], ["no number yet"]]


def test_a_lessons_kicker_is_a_facts_line(app, client):
    # "Module 1 · Lesson 2 of 3 · 12 min" could end a phone's line with its dot.
    from tests.learning.helpers import enroll_directly, make_course, make_reader

    with app.app_context():
        course = make_course(lessons=3)
    user_id = make_reader(app, "member", client)
    with app.app_context():
        enroll_directly(user_id, course.id)
    page = client.get(f"/courses/{course.slug}/lessons/{course.lesson_ids[1]}").text
    ((module, number, minutes),) = _facts_items(page, "lesson-kicker")
    assert (module, number) == ("Module 1", "Lesson 2 of 3") and minutes.endswith(" min")
