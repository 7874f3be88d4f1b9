"""records, catalog and programs: a deleted row's id is never given to a new one on SQLite

Revision ID: 0036_record_ids_kept
Revises: 0035_practical_reviewer_name
Create Date: 2026-12-05 05:00:00

"""
from alembic import op
from sqlalchemy import text


revision = "0036_record_ids_kept"
down_revision = "0035_practical_reviewer_name"
branch_labels = None
depends_on = None

# The audited tables whose rows something deletes: the admin (catalog, programs, renewal rules),
# a member's account deletion (waiting practicals, tokens, archives, leads), the housekeeping
# sweeps (leads, relayed messages) and the purge at the end of the retention (every CE record).
TABLES = (
    "articles",
    "categories",
    "tags",
    "downloads",
    "leads",
    "courses",
    "course_modules",
    "lessons",
    "quizzes",
    "quiz_questions",
    "board_approvals",
    "enrollments",
    "certificates",
    "reported_completions",
    "programs",
    "program_exam_questions",
    "program_exam_sittings",
    "program_practicals",
    "program_credentials",
    "renewal_rules",
    "directory_messages",
    "api_tokens",
    "data_exports",
    "retention_holds",
)


def upgrade():
    # The audit log files its entries about a row under its id: a new row given a deleted
    # one's id would show that row's history as its own (a purged certificate's revocation
    # on the next certificate issued). PostgreSQL's sequences never hand an id out twice;
    # SQLite's plain rowid reuses the highest one once its row is deleted, and only a rebuilt
    # table can say AUTOINCREMENT.
    _rebuild(True)


def downgrade():
    _rebuild(False)


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        # Dropping the old table drops its triggers (the articles' search index is kept in step
        # by three): made again on the rebuilt one.
        triggers = bind.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table},
        ).scalars().all()
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
        for sql in triggers:
            bind.exec_driver_sql(sql)
