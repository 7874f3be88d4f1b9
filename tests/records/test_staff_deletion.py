"""Staff accounts stay: what they decided about members' records keeps naming them."""

from __future__ import annotations

import time_machine

from campus.extensions import db
from campus.models.base import utcnow
from tests import support


def test_an_assessor_cannot_delete_the_account_their_verdicts_name(app, client):
    from campus.accounts.models import User

    with app.app_context():
        assessor = support.create_user(email="assessor@example.com", role="assessor")
        assessor_id = assessor.id
        secret = support.enable_totp(assessor_id)
    support.login_with_code(client, "assessor@example.com", support.totp_code(secret))
    response = support.post_form(
        client,
        "/account/delete",
        {
            "password": support.DEFAULT_PASSWORD,
            "code": support.totp_code(secret, steps=1),
            "confirmation": "DELETE",
        },
    )
    # Their pass or return of a candidate's practical is a record the candidate's credential
    # rests on: deleted, the review and its audit entry would name no one.
    assert response.status_code == 403
    assert "assessor account cannot be deleted" in response.get_data(as_text=True)
    with app.app_context():
        kept = db.session.get(User, assessor_id)
        assert kept is not None and kept.email == "assessor@example.com"


def test_the_refusal_names_the_way_out_and_a_retired_assessor_can_leave(app, client):

    # The clock stands still: the codes of the last, this and the next 30-second step serve in
    # turn, and a step ending halfway through would make the first of them too old.
    with time_machine.travel(utcnow(), tick=False):
        _retire_and_leave(app, client)


def _retire_and_leave(app, client) -> None:
    from campus.accounts.models import User

    with app.app_context():
        assessor_id = support.create_user(email="assessor@example.com", role="assessor").id
        secret = support.enable_totp(assessor_id)
    # Each code is taken once: the codes of the last, this and the next step serve in turn.
    support.login_with_code(client, "assessor@example.com", support.totp_code(secret, steps=-1))
    form = {
        "password": support.DEFAULT_PASSWORD,
        "code": support.totp_code(secret),
        "confirmation": "DELETE",
    }
    refused = support.post_form(client, "/account/delete", form)
    assert refused.status_code == 403
    assert "ask an admin to remove the assessor role" in refused.get_data(as_text=True)
    # The operator (or an admin, from the member's page) retires the assessor.
    result = app.test_cli_runner().invoke(args=["set-role", "assessor@example.com", "student"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    support.login_with_code(client, "assessor@example.com", support.totp_code(secret))
    form["code"] = support.totp_code(secret, steps=1)
    response = support.post_form(client, "/account/delete", form)
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.get(User, assessor_id) is None


def test_a_retired_assessors_verdicts_still_name_them_after_their_account_is_gone(app):
    from sqlalchemy import select

    from campus.accounts.roles import set_role
    from campus.programs import actions as program_actions
    from campus.programs.models import PracticalSubmission
    from campus.records import actions as records_actions
    from tests.programs.helpers import make_program

    with app.app_context():
        candidate = support.create_user(email="cand@example.com", full_name="Cory Candidate")
        assessor = support.create_user(
            email="pat@example.com", full_name="Pat Reviewer", role="assessor"
        )
        program = make_program(slug="reviewed", practical_required=True, rubric="Finds it")
        db.session.add(
            PracticalSubmission(
                program_id=program.id,
                user_id=candidate.id,
                storage_key="programs/practicals/cory.mp4",
                filename="me.mp4",
                content_type="video/mp4",
                size_bytes=4,
            )
        )
        db.session.commit()
        submission = db.session.scalars(select(PracticalSubmission)).one()
        program_actions.review_practical(submission, assessor, {"Finds it": True}, "pass", "")
        db.session.commit()
        # Retired by the operator, then gone: they have no CE records, so the row goes too.
        set_role(assessor, "student", actor=None)
        db.session.commit()
        records_actions.delete_account(
            assessor, password=support.DEFAULT_PASSWORD, code=None, confirmation="DELETE"
        )
        db.session.commit()
        db.session.expunge_all()
        kept = db.session.scalars(select(PracticalSubmission)).one()
        kept_id = kept.id
        # Who passed the candidate's practical is the candidate's record, kept with it.
        assert kept.status == "passed"
        assert kept.reviewer_name == "Pat Reviewer"
        # The log, kept for good, names them no more than their other entries do.
        from campus.audit import AuditEntry

        review = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "program_practical_review")
        ).one()
        assert "Pat Reviewer" not in str([review.summary, review.before, review.after])
        admin_id = support.create_user(role="admin").id
        support.enable_totp(admin_id)
    admin = app.test_client()
    with app.app_context():
        support.sign_in_directly(admin, admin_id, second_factor=True)
    page = admin.get("/admin/assessments/").get_data(as_text=True)
    assert "Cory Candidate" in page and "Pat Reviewer" in page
    assert "by Pat Reviewer" in admin.get(f"/admin/assessments/{kept_id}/").get_data(as_text=True)
