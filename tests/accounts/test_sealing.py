"""TOTP secrets are sealed at rest: the database copy cannot make codes; keys can be replaced."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select, text

from campus.accounts import mfa, sealing
from campus.accounts.models import User
from campus.audit import AuditEntry
from campus.extensions import db
from tests import support
from tests.scratch import migrating


def _raw(user_id: int) -> str:
    return db.session.execute(
        text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user_id}
    ).scalar_one()


def test_the_database_holds_the_secret_sealed_and_the_app_reads_it_plain(app):
    with app.app_context():
        user = support.create_user()
        secret = support.enable_totp(user.id)
        stored = _raw(user.id)
        assert secret not in stored and len(stored) > 100
        # Sealed afresh on every write (a random IV): equal secrets do not look equal.
        other = support.create_user(email="other@example.com")
        db.session.get(User, other.id).totp_secret = secret
        db.session.commit()
        assert _raw(other.id) != stored
        db.session.expire_all()
        assert db.session.get(User, user.id).totp_secret == secret
        assert mfa.check_code(db.session.get(User, user.id), pyotp.TOTP(secret).now()) == "totp"


def test_a_secret_no_key_opens_keeps_the_second_factor_and_matches_no_code(app, caplog):
    with app.app_context():
        user = support.create_user()
        secret = support.enable_totp(user.id)
        foreign = sealing.sealer(["some other key"]).encrypt(secret.encode()).decode()
        db.session.execute(
            text("UPDATE users SET totp_secret = :t WHERE id = :id"), {"t": foreign, "id": user.id}
        )
        db.session.commit()
        db.session.expire_all()
        locked = db.session.get(User, user.id)
        assert locked.totp_enabled and locked.totp_secret == sealing.UNREADABLE
        # No code matches, and none raises (pyotp cannot read the placeholder as base32).
        assert mfa.check_code(locked, pyotp.TOTP(secret).now()) is None
        assert mfa.check_code(locked, "000000") is None
        assert "cannot be opened" in caplog.text


def test_a_new_key_with_the_old_one_as_fallback_reads_everything_and_reseals_it(fresh_app):
    app = fresh_app
    with app.app_context():
        user = support.create_user()
        secret = support.enable_totp(user.id)
        old = sealing.keys_from(app.config)[0]
        app.config["TOTP_ENCRYPTION_KEY"] = "the new key, from the vault"
        app.config["TOTP_ENCRYPTION_KEY_FALLBACKS"] = [old]
        db.session.expire_all()
        assert db.session.get(User, user.id).totp_secret == secret
        result = app.test_cli_runner().invoke(args=["accounts", "reseal-totp"])
        assert result.exit_code == 0 and "1 TOTP secret(s) sealed" in result.output
        new_only = sealing.sealer(["the new key, from the vault"])
        assert new_only.decrypt(_raw(user.id).encode()).decode() == secret
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "totp_secrets_resealed")
        )
        assert entry is not None and "1 TOTP secret(s)" in entry.summary
        # An operator's command: no one named, and the summary says so.
        assert entry.actor_id is None and entry.summary.startswith("cli: ")
        # Without the fallback a secret sealed with the old key is reported, not lost silently.
        app.config["TOTP_ENCRYPTION_KEY_FALLBACKS"] = []
        stale = sealing.sealer([old]).encrypt(b"JBSWY3DPEHPK3PXP").decode()
        db.session.execute(
            text("UPDATE users SET totp_pending_secret = :t WHERE id = :id"),
            {"t": stale, "id": user.id},
        )
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["accounts", "reseal-totp"])
        assert result.exit_code == 1 and "1 secret(s) open with none" in result.output


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_seals_existing_secrets_and_the_downgrade_opens_them(tmp_path, backend):
    from flask_migrate import downgrade, upgrade

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with migrating(backend, tmp_path) as app:
        upgrade(revision="0019_directory_bands")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, full_name, profession, role, "
                    "totp_secret, created_at, updated_at) VALUES (1, 'a@example.com', 'x', "
                    "'Pat Lee', 'massage_therapist', 'student', :s, :now, :now), (2, "
                    "'b@example.com', 'x', 'Sam Roe', 'massage_therapist', 'student', NULL, "
                    ":now, :now)"
                ),
                {"s": secret, "now": "2026-11-01 10:00:00"},
            )
        upgrade(revision="0020_totp_sealed")
        with db.engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT id, totp_secret FROM users")).all())
        assert stored[2] is None and stored[1] != secret
        assert sealing.sealer(sealing.keys_from(app.config)).decrypt(stored[1].encode()) == (
            secret.encode()
        )
        downgrade(revision="0019_directory_bands")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT totp_secret FROM users WHERE id = 1")).scalar() == (
                secret
            )


def test_resealing_leaves_an_account_changed_meanwhile_as_its_member_left_it(fresh_app):
    from sqlalchemy import event

    app = fresh_app
    with app.app_context():
        user = support.create_user()
        support.enable_totp(user.id)
        engine = db.engine
        fired = []

        def turn_off_first(conn, cursor, statement, parameters, context, executemany):
            # Between the command's read and its write, the member turns the app off.
            if statement.lstrip().upper().startswith("UPDATE USERS") and not fired:
                fired.append(True)
                conn.exec_driver_sql(
                    "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL "
                    f"WHERE id = {int(user.id)}"
                )

        event.listen(engine, "before_cursor_execute", turn_off_first)
        try:
            resealed, unreadable = sealing.reseal_all()
        finally:
            event.remove(engine, "before_cursor_execute", turn_off_first)
        db.session.commit()
        assert (resealed, unreadable) == (0, 0)
        assert _raw(user.id) is None
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "totp_secrets_resealed")
        )
        assert "1 account(s) changed meanwhile" in entry.summary
