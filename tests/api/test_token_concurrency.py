"""API tokens made or revoked from two tabs at once."""

from __future__ import annotations

from sqlalchemy import func, select

from tests import support
from tests.api.helpers import make_token
from tests.learning.test_concurrency import _race


def test_tokens_made_at_once_stay_within_the_limit(app, monkeypatch):
    from campus.accounts import tokens
    from campus.accounts.models import User
    from campus.extensions import db

    with app.app_context():
        user_id = support.create_user().id
        for n in range(tokens.MAX_ACTIVE - 1):
            make_token(user_id, name=f"clinic {n}")
    # Each has counted the tokens in force before either is made.
    support.hold_in_pairs(monkeypatch, tokens, "record")

    def make() -> int:
        return tokens.create_token(
            db.session.get_one(User, user_id), "one more", "read", "30", support.DEFAULT_PASSWORD
        )[0].id

    results, errors = _race(app, 2, make)
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], tokens.TokenError)
    with app.app_context():
        alive = db.session.scalar(
            select(func.count()).where(
                tokens.ApiToken.user_id == user_id, tokens.ApiToken.revoked_at.is_(None)
            )
        )
        assert alive == tokens.MAX_ACTIVE


def test_a_token_revoked_from_two_tabs_at_once_is_revoked_and_logged_once(app):
    from campus.accounts import tokens
    from campus.accounts.models import User
    from campus.audit import AuditEntry
    from campus.extensions import db

    with app.app_context():
        user_id = support.create_user().id
        make_token(user_id)
        token_id = db.session.scalar(select(tokens.ApiToken.id))

    def revoke():
        return tokens.revoke_token(db.session.get_one(User, user_id), token_id).revoked_at

    results, errors = _race(app, 3, revoke)
    assert len(results) == 1
    assert len(errors) == 2 and all(isinstance(e, tokens.TokenError) for e in errors)
    with app.app_context():
        logged = db.session.scalar(
            select(func.count()).where(AuditEntry.action == "api_token_revoked")
        )
        assert logged == 1
        assert db.session.get_one(tokens.ApiToken, token_id).revoked_at == results[0]
