"""A deleted record's id is never handed to a new one: the log's entries about it stay its own.

SQLite gives the highest id again once its row is gone, unless the table says AUTOINCREMENT;
the audit log files its entries under (type, id), so a new row given a deleted one's id would
show that row's history as its own. PostgreSQL's sequences never hand an id out twice.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, time

import time_machine
from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests import support
from tests.records.helpers import full_member

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + b"\x00" * 2048


def _about(object_type: str, object_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
            .order_by(AuditEntry.id)
        )
    )


def _delete(client):
    form = {"password": support.DEFAULT_PASSWORD, "code": "", "confirmation": "DELETE"}
    assert support.post_form(client, "/account/delete", form).status_code == 302


def test_a_new_practical_never_takes_the_id_of_one_its_member_deleted(app, client):
    from campus.programs import actions
    from tests.programs.helpers import ready_program

    with app.app_context():
        program, _courses = ready_program(practical_required=True, rubric="Finds the point")
        program_id = program.id
        first = support.create_user(email="first@example.com")
        gone_id = actions.submit_practical(first, program, io.BytesIO(MP4), "me.mp4").id
        db.session.commit()
    # Waiting for review, the video and its row leave with the account.
    support.login(client, "first@example.com")
    _delete(client)
    with app.app_context():
        from campus.programs.models import Program

        program = db.session.get(Program, program_id)
        second = support.create_user(email="second@example.com")
        new = actions.submit_practical(second, program, io.BytesIO(MP4), "me.mp4")
        db.session.commit()
        assert new.id != gone_id
        assert _about("PracticalSubmission", new.id) == ["program_practical_submit"]


def test_a_new_article_never_takes_the_id_of_a_deleted_one(app):
    from campus.content import actions

    with app.app_context():
        admin = support.create_user(role="admin")
        old, _created = actions.save_article(
            actor=admin, slug="old-news", title="Old news", body_md="Gone."
        )
        old_id = old.id
        actions.delete_article(old, actor=admin)
        db.session.commit()
        new, _created = actions.save_article(
            actor=admin, slug="new-news", title="New news", body_md="Here."
        )
        db.session.commit()
        assert new.id != old_id
        assert _about("Article", new.id) == ["create"]


def test_purged_records_leave_their_ids_and_history_behind(app, client):
    from campus.certificates import actions as certificate_actions
    from campus.certificates.models import Certificate
    from campus.records.models import RetentionHold
    from campus.records.tasks import purge_retained

    m = full_member(app, email="gone@example.com")
    with app.app_context():
        admin = support.create_user(role="admin")
        certificate_actions.revoke(m.code, "Attendance not verified", actor=admin)
        db.session.commit()
        certificate_id = db.session.scalar(select(Certificate.id).where(Certificate.code == m.code))
    support.login(client, "gone@example.com")
    _delete(client)
    with app.app_context():
        hold = db.session.scalars(select(RetentionHold)).one()
        hold_id, purge_after = hold.id, hold.purge_after
    with time_machine.travel(datetime.combine(purge_after, time(3), tzinfo=UTC), tick=False):
        with app.app_context():
            assert purge_retained.apply().get() == 1
        # The next member to earn a certificate, and to delete their account, after the purge.
        n = full_member(app, slug="neck-basics", email="next@example.com")
        client = app.test_client()
        support.login(client, "next@example.com")
        _delete(client)
    with app.app_context():
        new_certificate = db.session.scalar(select(Certificate).where(Certificate.code == n.code))
        assert new_certificate.id != certificate_id
        assert n.enrollment_id != m.enrollment_id
        assert "certificate_revoke" not in _about("Certificate", new_certificate.id)
        new_hold = db.session.scalars(select(RetentionHold)).one()
        assert new_hold.id != hold_id
        assert "retained_records_purged" not in _about("RetentionHold", new_hold.id)


def test_every_table_said_to_keep_its_ids_does_so_in_the_migrated_database(app):
    """A later migration that rebuilds such a table on SQLite must say AUTOINCREMENT again."""
    from sqlalchemy import text

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return  # PostgreSQL's sequences never hand an id out twice
        kept = sorted(
            table.name
            for table in db.metadata.sorted_tables
            if table.dialect_options["sqlite"]["autoincrement"]
        )
        assert {"certificates", "program_practicals", "users"} <= set(kept)
        built = db.session.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE :a"),
            {"a": "%AUTOINCREMENT%"},
        ).scalars()
        assert sorted(set(kept) - set(built)) == []


def test_the_migration_keeps_every_row_what_hangs_from_it_and_the_article_search(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.scratch import migrating

    stamp = "'2026-01-01 00:00:00'"
    with migrating("sqlite", tmp_path):
        upgrade(revision="0035_practical_reviewer_name")
        with db.engine.begin() as conn:
            for download_id in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO downloads (id, slug, title, description, filename, pages, "
                        f"active, created_at, updated_at) VALUES (:id, :slug, 'G', '', 'g.pdf', "
                        f"1, 1, {stamp}, {stamp})"
                    ),
                    {"id": download_id, "slug": f"guide-{download_id}"},
                )
            conn.execute(
                text(
                    "INSERT INTO leads (download_id, email, name, consent_text, requests, "
                    f"last_requested_at, marketing, asked_at) VALUES (2, 'a@example.com', 'A', "
                    f"'', 1, {stamp}, 0, {stamp})"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO articles (id, slug, title, summary, body_md, preview_html, "
                    "full_html, preview_text, full_text, reading_minutes, visibility, status, "
                    f"author_name, created_at, updated_at) VALUES (1, 'knots', 'Knots', '', '', "
                    f"'', '', 'trapezius', 'trapezius', 1, 'public', 'published', '', {stamp}, "
                    f"{stamp})"
                )
            )
        # Rebuilt, a table must not take its children with it (ON DELETE CASCADE), nor the
        # triggers that keep the article search in step.
        upgrade(revision="0036_record_ids_kept")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM downloads")).scalar_one() == 2
            assert conn.execute(text("SELECT download_id FROM leads")).scalar_one() == 2
            conn.execute(text("UPDATE articles SET full_text = 'levator scapulae'"))
            found = text("SELECT rowid FROM article_fts WHERE article_fts MATCH :q")
            assert conn.execute(found, {"q": "levator"}).scalars().all() == [1]
            assert conn.execute(found, {"q": "trapezius"}).scalars().all() == [1]  # preview
            conn.execute(text("DELETE FROM leads"))
            conn.execute(text("DELETE FROM downloads WHERE id = 2"))
            conn.execute(
                text(
                    "INSERT INTO downloads (slug, title, description, filename, pages, active, "
                    f"created_at, updated_at) VALUES ('new', 'G', '', 'g.pdf', 1, 1, {stamp}, "
                    f"{stamp})"
                )
            )
            new_id = conn.execute(text("SELECT id FROM downloads WHERE slug = 'new'")).scalar_one()
        assert new_id == 3
        downgrade(revision="0035_practical_reviewer_name")
        with db.engine.begin() as conn:
            assert conn.execute(found, {"q": "levator"}).scalars().all() == [1]
