"""Credentials across periods: one valid credential of a program at a time; only issued ones
are revoked; a retired program stays visible to its holders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from campus import dates
from campus.accounts.models import User
from campus.extensions import db
from campus.programs import actions, issuing
from campus.programs.models import Credential, Program
from campus.programs.tasks import renew_credentials
from tests import support
from tests.programs.helpers import (
    candidate,
    complete,
    make_course,
    make_credential,
    ready_program,
    right_answers,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _certified(app):
    """A candidate who passed the exam of a two-year program; returns (user id, program id)."""
    with app.app_context():
        program, courses = ready_program(validity_months=24, renewal_hours=4)
        user = candidate(courses, when=START - timedelta(days=10))
        with time_machine.travel(START, tick=False):
            sitting = actions.start_exam(user, program)
            actions.submit_exam(user, sitting, right_answers(sitting))
            db.session.commit()
        return user.id, program.id


def test_a_missed_renewal_does_not_renew_a_credential_earned_again_by_the_exam(app):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        program = db.session.get(Program, program_id)
        program.renewal_hours = 8
        db.session.commit()
        with time_machine.travel(START + timedelta(days=300), tick=False):
            # 4 of the 8 renewal hours then asked for earned in the period: not renewed.
            complete(user_id, make_course("missed-renewal", hours="4"))
        # Lapsed two days ago, within the renewal grace: the holder sits the exam again.
        with time_machine.travel(datetime(2028, 3, 2, 10, 0, tzinfo=UTC), tick=False):
            user = db.session.get(User, user_id)
            sitting = actions.start_exam(user, program)
            actions.submit_exam(user, sitting, right_answers(sitting))
            db.session.commit()
            # An admin lowers the renewal hours after: the lapsed period now earned them.
            program.renewal_hours = 4
            db.session.commit()
            renew_credentials.delay().get()
            db.session.expire_all()
            day = dates.today()
            valid = [
                c
                for c in db.session.scalars(select(Credential).where(Credential.user_id == user_id))
                if c.status_on(day) == "valid"
            ]
            assert [c.period for c in valid] == [2]


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_a_credential_never_issued_cannot_be_revoked(app, client, status):
    with app.app_context():
        program, _courses = ready_program()
        user = support.create_user()
        credential = make_credential(user.id, program, status=status)
        with pytest.raises(issuing.CredentialError):
            actions.revoke_credential(credential, "Exam misconduct", actor=None)
        db.session.rollback()
        code = credential.code
        assert db.session.get(Credential, credential.id).status == status
    assert client.get(f"/programs/verify/{code}").status_code == 404


def test_a_holder_of_a_retired_program_sees_it_while_a_newer_period_is_pending(app, client):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    lapsed = datetime(2028, 6, 1, 10, 0, tzinfo=UTC)
    with time_machine.travel(lapsed, tick=False):
        with app.app_context():
            program = db.session.get(Program, program_id)
            # The exam passed again after the lapse, the new period waiting for the worker; then
            # the program was retired.
            make_credential(user_id, program, period=2, status="pending")
            program.published = False
            db.session.commit()
            slug = program.slug
            support.sign_in_directly(client, user_id)
        assert client.get(f"/programs/{slug}").status_code == 200
        with client.get(f"/programs/{slug}/credential.pdf") as response:
            assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_in_the_renewal_grace_the_page_says_the_earned_hours_renew_it(app, client):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        with time_machine.travel(START + timedelta(days=300), tick=False):
            # Renewal hours earned in the period, but no worker ran to renew it yet.
            complete(user_id, make_course("grace-renewal", hours="4"))
        slug = db.session.get_one(Program, program_id).slug
    # Lapsed two days ago, within the grace: the next renewal check renews it on those hours.
    with time_machine.travel(datetime(2028, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        page = client.get(f"/programs/{slug}").text
    assert "Pass the exam again" not in page
    assert "renewed on the CE hours you earned" in page
    # Past the grace the hours no longer renew it: then the exam is the way back.
    with time_machine.travel(datetime(2028, 3, 20, 10, 0, tzinfo=UTC), tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        page = client.get(f"/programs/{slug}").text
    assert "Pass the exam again" in page
    assert "renewed on the CE hours you earned" not in page
