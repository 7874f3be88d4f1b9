"""A deleted account's id is never handed to a new account: the log's entries stay its own."""

from __future__ import annotations

from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests import support


def _delete(client):
    return support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "code": "", "confirmation": "DELETE"},
    )


def test_a_new_account_never_takes_the_id_of_one_deleted_outright(app, client):
    with app.app_context():
        user = support.create_user(email="first@example.com")
        gone_id = user.id
    support.login(client, "first@example.com")
    assert _delete(client).status_code == 302
    with app.app_context():
        # SQLite gives the highest id again once its row is gone, unless the table says not to.
        newcomer = support.create_user(email="second@example.com")
        assert newcomer.id != gone_id
        about_newcomer = db.session.scalars(
            select(AuditEntry.summary).where(
                AuditEntry.object_type == "User", AuditEntry.object_id == str(newcomer.id)
            )
        ).all()
        # The first account's deletion (and its sign-ins) are not the newcomer's history.
        assert not any("deleted" in summary for summary in about_newcomer)


def test_the_migration_keeps_every_account_and_what_hangs_from_it(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.scratch import migrating

    with migrating("sqlite", tmp_path):
        upgrade(revision="0032_quiz_paper_pass_mark")
        with db.engine.begin() as conn:
            for user_id in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO users (id, email, password_hash, full_name, profession, "
                        "role, created_at, updated_at) VALUES (:id, :email, 'x', 'N', 'other', "
                        "'student', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    ),
                    {"id": user_id, "email": f"m{user_id}@example.com"},
                )
            conn.execute(
                text(
                    "INSERT INTO licenses (id, user_id, profession, jurisdiction, number, "
                    "reminders, created_at, updated_at) VALUES (1, 2, 'other', 'FL', 'MA1', 1, "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        # Rebuilt, the table must not take the licenses with it (ON DELETE CASCADE).
        upgrade(revision="0033_user_ids_kept")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 2
            assert conn.execute(text("SELECT user_id FROM licenses")).scalar_one() == 2
            conn.execute(text("DELETE FROM users WHERE id = 2"))
            conn.execute(
                text(
                    "INSERT INTO users (email, password_hash, full_name, profession, role, "
                    "created_at, updated_at) VALUES ('new@example.com', 'x', 'N', 'other', "
                    "'student', '2026-01-02 00:00:00', '2026-01-02 00:00:00')"
                )
            )
            new_id = conn.execute(
                text("SELECT id FROM users WHERE email = 'new@example.com'")
            ).scalar_one()
        assert new_id == 3
        downgrade(revision="0032_quiz_paper_pass_mark")
