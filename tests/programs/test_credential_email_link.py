"""The credential email's link to the program page leads to the page as it is when it is sent."""

from __future__ import annotations

from campus.extensions import db
from campus.programs import actions, exam, issuing
from campus.programs.models import Program
from tests import support
from tests.programs.helpers import candidate, ready_program, right_answers


def test_a_credential_issued_after_the_program_was_renamed_links_to_its_page(app, client):
    with app.app_context():
        program, courses = ready_program(slug="neck-therapist")
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        # Passed, its issuing held back (the worker away, or failing and tried again later).
        exam.submit(sitting, right_answers(sitting))
        db.session.commit()
        credential_id = issuing.ensure_pending(user.id, program.id)
        db.session.commit()
        # Meanwhile an admin gives the program another address.
        db.session.get(Program, program.id).slug = "neck-pain-therapist"
        db.session.commit()
        assert issuing.issue(credential_id)
        db.session.commit()
        support.sign_in_directly(client, user.id)
    [mail] = [m for m in support.outbox(app) if "Your credential" in m["Subject"]]
    link = support.link_in(mail)
    assert link == "/programs/neck-pain-therapist"
    assert client.get(link).status_code == 200
