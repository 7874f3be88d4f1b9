"""Migration 0038: approvals gain an optional first day; those before it keep none."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from campus.extensions import db
from tests.scratch import migrating


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_adds_an_empty_first_day_and_takes_it_back(tmp_path, backend):
    from flask_migrate import downgrade, upgrade

    with migrating(backend, tmp_path):
        upgrade(revision="0037_enrollment_completed_course")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO courses (id, slug, title, summary, description, description_html,"
                    " objectives, presenters, presenter_bio, ce_hours, delivery_type, level, topic,"
                    " status, created_at, updated_at) VALUES (1, 'c', 'C', '', '', '', '', '', '',"
                    " 2, 'home_study', 'introductory', 't', 'draft', :now, :now)"
                ),
                {"now": "2026-01-01 00:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO board_approvals (id, course_id, board, approval_number,"
                    " valid_until, created_at, updated_at) VALUES (1, 1, 'NCBTMB', '1',"
                    " '2027-12-31', :now, :now)"
                ),
                {"now": "2026-01-01 00:00:00"},
            )
        upgrade(revision="0038_approval_valid_from")
        with db.engine.connect() as conn:
            row = conn.execute(
                text("SELECT valid_from, valid_until FROM board_approvals WHERE id = 1")
            ).one()
        assert row[0] is None and str(row[1]) == "2027-12-31"
        downgrade(revision="0037_enrollment_completed_course")
        columns = {c["name"] for c in inspect(db.engine).get_columns("board_approvals")}
        assert "valid_from" not in columns and "valid_until" in columns
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM board_approvals")).scalar() == 1
        upgrade()
