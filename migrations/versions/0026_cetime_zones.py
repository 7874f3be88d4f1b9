"""learning: the seat-time and evaluation times keep their zone on PostgreSQL

Revision ID: 0026_cetime_zones
Revises: 0025_lead_asked_at
Create Date: 2026-12-04 00:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0026_cetime_zones"
down_revision = "0025_lead_asked_at"
branch_labels = None
depends_on = None

# Migration 0010 made these without a zone, unlike every other time: PostgreSQL then stores the
# server's local time and hands it back as if it were UTC, hours off where the server is not on
# UTC (a heartbeat's gap looked hours long, and earned nothing). SQLite keeps no zone anyway.
COLUMNS = (
    ("enrollments", "seat_beat_at", True),
    ("enrollments", "evaluated_at", True),
    ("lesson_seat_time", "first_at", False),
    ("lesson_seat_time", "last_at", False),
    ("course_evaluations", "submitted_at", False),
)


def upgrade():
    _retype(sa.DateTime(), sa.DateTime(timezone=True))


def downgrade():
    _retype(sa.DateTime(timezone=True), sa.DateTime())


def _retype(old: sa.DateTime, new: sa.DateTime) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # PostgreSQL converts with the session's time zone, the one the values were written in.
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, existing_type=old, type_=new, existing_nullable=nullable)
