"""Two admins (or two clicks) changing one member or profile at once change and log it once
(PostgreSQL)."""

from __future__ import annotations

import pytest

from tests import support
from tests.admin.helpers import audit_entries, sign_in_admin
from tests.learning.test_concurrency import _race

pytestmark = pytest.mark.skipif(
    not support.is_postgres(),
    reason="needs PostgreSQL: SQLite serializes every writer, so it cannot show the race",
)


def test_hiding_one_profile_at_once_hides_logs_and_emails_it_once(app):
    from sqlalchemy import func, select

    from campus.directory import actions
    from campus.directory.models import DirectoryProfile
    from campus.directory.services import DirectoryError
    from campus.extensions import db
    from campus.mail.models import EmailMessage
    from tests.directory.helpers import make_profile

    with app.app_context():
        owner = support.create_user(email="pat@example.org")
        profile_id = make_profile("10001", user=owner).id

    def hide() -> str:
        profile = db.session.get_one(DirectoryProfile, profile_id)
        actions.hide_profile(profile, "Claims a fake license", actor=None)
        return "hidden"

    results, errors = _race(app, 3, hide)
    assert results == ["hidden"]
    assert len(errors) == 2 and all(isinstance(e, DirectoryError) for e in errors)
    assert len(audit_entries(app, action="directory_hide")) == 1
    with app.app_context():
        emails = db.session.scalar(
            select(func.count())
            .select_from(EmailMessage)
            .where(EmailMessage.to == "pat@example.org")
        )
        assert emails == 1


def test_ending_a_comp_at_once_ends_and_logs_it_once(app):
    from campus.accounts.models import User
    from campus.billing import actions
    from campus.billing.services import BillingError
    from campus.extensions import db

    with app.app_context():
        member_id = support.create_user().id
        actions.grant_comp(db.session.get_one(User, member_id), days=30, reason="Demo", actor=None)
        db.session.commit()

    def end() -> int:
        return actions.end_comp(db.session.get_one(User, member_id), actor=None)

    results, errors = _race(app, 3, end)
    assert results == [1]
    assert len(errors) == 2 and all(isinstance(e, BillingError) for e in errors)
    assert len(audit_entries(app, action="comp_end")) == 1


def test_a_comp_granted_by_a_double_click_is_granted_and_emailed_once(app):
    from sqlalchemy import func, select

    from campus.billing.models import CompMembership
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    with app.app_context():
        member_id = support.create_user(email="comped@example.org").id
    # One admin clicking twice: two requests of one session.
    clients = [app.test_client() for _ in range(2)]
    sign_in_admin(app, clients[0])
    with clients[0].session_transaction() as session:
        signed_in = dict(session)
    with clients[1].session_transaction() as session:
        session.update(signed_in)
    tokens = [support.csrf_token(client) for client in clients]
    path = f"/admin/members/{member_id}/comp"
    form = {"days": "30", "reason": "Conference speaker"}
    support.run_together(
        [
            lambda client=client, token=token: client.post(path, data={"csrf_token": token, **form})
            for client, token in zip(clients, tokens, strict=True)
        ]
    )
    assert len(audit_entries(app, action="comp_grant")) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CompMembership)) == 1
        emails = db.session.scalar(
            select(func.count())
            .select_from(EmailMessage)
            .where(EmailMessage.to == "comped@example.org")
        )
        assert emails == 1


def test_disabling_a_member_at_once_disables_and_logs_it_once(app):
    with app.app_context():
        member_id = support.create_user().id
    clients = [app.test_client() for _ in range(3)]
    tokens = []
    for client in clients:
        sign_in_admin(app, client)
        tokens.append(support.csrf_token(client))
    path = f"/admin/members/{member_id}/disable"
    support.run_together(
        [
            lambda client=client, token=token: client.post(path, data={"csrf_token": token})
            for client, token in zip(clients, tokens, strict=True)
        ]
    )
    assert len(audit_entries(app, action="disable")) == 1
