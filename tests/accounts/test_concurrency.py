"""Second-factor codes, recovery codes and reset links asked for at once are each counted."""

from __future__ import annotations

import contextlib
import threading

from sqlalchemy import func, select

from tests import support

EMAIL = "theo@example.com"
GUESSES = 8


def test_wrong_codes_sent_at_once_are_each_counted_against_the_sign_in(app, monkeypatch):
    from campus.accounts import mfa
    from campus.accounts.mfa import LoginChallenge
    from campus.audit import AuditEntry
    from campus.extensions import db

    with app.app_context():
        support.enable_totp(support.create_user(email=EMAIL).id)
    # Someone who has the password, guessing the code from as many requests at once.
    first = app.test_client()
    support.post_form(first, "/login", {"email": EMAIL, "password": support.DEFAULT_PASSWORD})
    with first.session_transaction() as session:
        waiting = dict(session)
    guessers = [first] + [app.test_client() for _ in range(GUESSES - 1)]
    for guesser in guessers[1:]:
        with guesser.session_transaction() as session:
            session.update(waiting)
    tokens = [support.csrf_token(guesser, "/login/verify") for guesser in guessers]

    # Every guess has read the sign-in before any is checked.
    meet = threading.Barrier(GUESSES)
    real_check = mfa.check_code

    def check(user, code):
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait(timeout=2)
        return real_check(user, code)

    monkeypatch.setattr(mfa, "check_code", check)
    support.run_together(
        [
            lambda guesser=guesser, token=token, n=n: guesser.post(
                "/login/verify", data={"csrf_token": token, "code": f"{n:06d}"}
            )
            for n, (guesser, token) in enumerate(zip(guessers, tokens, strict=True))
        ]
    )
    with app.app_context():
        checked = db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "sign_in_failed",
                AuditEntry.summary.contains("wrong second-factor code"),
            )
        )
        counted = db.session.scalar(select(func.sum(LoginChallenge.failures)))
    # No more guesses than a sign-in allows, and each one counted.
    assert checked <= mfa.CHALLENGE_MAX_FAILURES
    assert counted == checked


def test_recovery_codes_replaced_from_two_tabs_at_once_leave_one_set(app, monkeypatch):
    from campus.accounts import mfa
    from campus.accounts.models import RecoveryCode, User
    from campus.extensions import db

    with app.app_context():
        user_id = support.create_user(email=EMAIL).id
        support.enable_totp(user_id)
        mfa._new_recovery_codes(db.session.get_one(User, user_id))
        db.session.commit()
    # Both tabs have checked the password and a code when either replaces the codes (each its
    # own code: the spending of one is raced in the sign-in tests).
    monkeypatch.setattr(mfa, "check_code", lambda user, code: "totp")
    # The notice is tested on its own: eager tasks sent from two threads at once left Celery's
    # task stack behind, and a later test's task.get() was refused as a call within a task.
    monkeypatch.setattr(mfa, "tell_member", lambda user, change, name="": None)
    support.hold_in_pairs(monkeypatch, mfa, "_new_recovery_codes")
    shown: list[list[str]] = []

    def replace() -> None:
        with app.app_context():
            user = db.session.get_one(User, user_id)
            shown.append(mfa.regenerate_recovery_codes(user, support.DEFAULT_PASSWORD, "123456"))
            db.session.commit()

    support.run_together([replace, replace])
    with app.app_context():
        working = db.session.scalar(
            select(func.count()).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
    # "The old ones no longer work": only the last set shown stays valid.
    assert len(shown) == 2
    assert working == mfa.RECOVERY_CODE_COUNT


def test_reset_links_asked_for_at_once_stay_within_the_limit(app, monkeypatch):
    from campus.accounts import reset
    from campus.accounts.models import UserToken
    from campus.extensions import db
    from tests.learning.test_concurrency import _race

    with app.app_context():
        support.create_user(email=EMAIL)
        for n in range(reset.MAX_LIVE_LINKS - 1):
            assert reset.send_password_reset_email(EMAIL, f"earlier-{n}")
        db.session.commit()
    # Each request has counted the links still out before either sends its own.
    support.hold_in_pairs(monkeypatch, reset, "_live_links")
    names = iter(["one", "two"])

    def ask() -> bool:
        return reset.send_password_reset_email(EMAIL, next(names))

    results, errors = _race(app, 2, ask)
    assert errors == []
    assert sorted(results) == [False, True]
    with app.app_context():
        links = db.session.scalar(select(func.count()).where(UserToken.purpose == "reset_password"))
    assert links == reset.MAX_LIVE_LINKS
