"""A removed license's id is never handed to a new one: the log's entries about it stay its own."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests import support


def test_a_new_license_never_takes_the_id_of_a_removed_one(app):
    from campus.licenses import actions

    with app.app_context():
        first = support.create_user(email="ann@example.com")
        old = actions.add_license(
            first,
            profession="massage_therapist",
            jurisdiction="ME",
            number="MT-1111",
            expires_on=date(2031, 1, 31),
        )
        old_id = old.id
        actions.remove_license(first, old_id)
        db.session.commit()
        other = support.create_user(email="sam@example.com")
        new = actions.add_license(
            other,
            profession="massage_therapist",
            jurisdiction="ME",
            number="MT-2222",
            expires_on=date(2031, 1, 31),
        )
        db.session.commit()
        # SQLite gives the highest id again once its row is gone, unless the table says not to:
        # the entries about the first member's license would read as the second member's.
        assert new.id != old_id
        about_new = db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "License", AuditEntry.object_id == str(new.id)
            )
        ).all()
        assert about_new == ["license_added"]


def test_the_migration_keeps_every_license_and_its_reminders(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.scratch import migrating

    stamp = "'2026-01-01 00:00:00'"
    with migrating("sqlite", tmp_path):
        upgrade(revision="0033_user_ids_kept")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, full_name, profession, role, "
                    f"created_at, updated_at) VALUES (1, 'm@example.com', 'x', 'N', 'other', "
                    f"'student', {stamp}, {stamp})"
                )
            )
            for license_id in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO licenses (id, user_id, profession, jurisdiction, number, "
                        f"reminders, created_at, updated_at) VALUES (:id, 1, 'other', 'FL', "
                        f":number, 1, {stamp}, {stamp})"
                    ),
                    {"id": license_id, "number": f"MA{license_id}"},
                )
            conn.execute(
                text(
                    "INSERT INTO renewal_reminders (license_id, cycle_ends_on, days_before, "
                    f"sent_at) VALUES (2, '2027-01-31', 30, {stamp})"
                )
            )
        # Rebuilt, the table must not take the reminders with it (ON DELETE CASCADE).
        upgrade(revision="0034_license_ids_kept")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM licenses")).scalar_one() == 2
            assert conn.execute(text("SELECT license_id FROM renewal_reminders")).scalar_one() == 2
            conn.execute(text("DELETE FROM renewal_reminders"))
            conn.execute(text("DELETE FROM licenses WHERE id = 2"))
            conn.execute(
                text(
                    "INSERT INTO licenses (user_id, profession, jurisdiction, number, reminders, "
                    f"created_at, updated_at) VALUES (1, 'other', 'FL', 'MA3', 1, {stamp}, "
                    f"{stamp})"
                )
            )
            new_id = conn.execute(text("SELECT id FROM licenses WHERE number = 'MA3'")).scalar_one()
        assert new_id == 3
        downgrade(revision="0033_user_ids_kept")
