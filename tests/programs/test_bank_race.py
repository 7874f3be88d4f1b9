"""Two admins deleting exam questions at once cannot leave a published exam short."""

from __future__ import annotations

from sqlalchemy import func, select

from campus.admin import base as admin_base
from campus.extensions import db
from campus.programs.models import ExamQuestion
from tests import support
from tests.admin import helpers as admin
from tests.programs.helpers import add_questions, make_program


def test_two_admins_deleting_questions_at_once_leave_the_published_exam_whole(app, monkeypatch):
    with app.app_context():
        program = make_program(slug="race-bank")  # draws 2 Anatomy and 2 Technique questions
        anatomy = add_questions(program, "Anatomy", 3)  # one to spare
        add_questions(program, "Technique", 2)
    clients = [app.test_client() for _ in range(2)]
    tokens = []
    for client in clients:
        admin.sign_in_admin(app, client)
        tokens.append(support.csrf_token(client))
    # Each deletion is held just before it is logged: one that checked the bank while the other
    # had not deleted yet gets there too, and both would go.
    support.hold_in_pairs(monkeypatch, admin_base, "record")
    support.run_together(
        [
            lambda client=client, token=token, question_id=question_id: client.post(
                "/admin/exam-questions/delete/", data={"id": question_id, "csrf_token": token}
            )
            for client, token, question_id in zip(clients, tokens, anatomy[:2], strict=True)
        ]
    )
    with app.app_context():
        left = db.session.scalar(
            select(func.count()).select_from(ExamQuestion).where(ExamQuestion.domain == "Anatomy")
        )
        assert left == 2
