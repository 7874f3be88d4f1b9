"""Migration 0024: rejections stored before it whose reasons are the provider's are marked."""

from __future__ import annotations

import pytest

from campus.extensions import db
from tests.reporting.helpers import insert_old_reports
from tests.scratch import migrating

REASONS = {
    1: "The course has no CE Broker course tracking number (20-...) among its approvals; "
    "add its CE Broker approval to the course.",
    2: "CE Broker refused the request (HTTP 401).",
    3: "Invalid license Number (code 80)",
}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_marks_the_providers_rejections_and_no_other(tmp_path, backend):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with migrating(backend, tmp_path):
        upgrade(revision="0023_report_sent")
        rows = [{"id": cid, "status": "rejected", "reason": r} for cid, r in REASONS.items()]
        rows.append({"id": 4, "status": "accepted", "reason": REASONS[2]})  # settled since
        with db.engine.begin() as conn:
            insert_old_reports(conn, rows)
        upgrade(revision="0024_report_provider_fault")
        with db.engine.connect() as conn:
            marked = dict(
                conn.execute(
                    text("SELECT certificate_id, provider_fault FROM reported_completions")
                ).all()
            )
        assert {cid: bool(flag) for cid, flag in marked.items()} == {
            1: True,
            2: True,
            3: False,
            4: False,
        }
        downgrade(revision="0023_report_sent")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_superseded_records_migration_keeps_reports_both_ways(tmp_path, backend):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with migrating(backend, tmp_path):
        upgrade(revision="0041_report_reference_text")
        with db.engine.begin() as conn:
            insert_old_reports(conn, [{"id": 1, "status": "accepted"}])
        upgrade(revision="0042_report_superseded")
        with db.engine.connect() as conn:
            row = conn.execute(
                text("SELECT status, superseded, superseded_due_at FROM reported_completions")
            ).one()
        assert tuple(row) == ("accepted", None, None)
        downgrade(revision="0041_report_reference_text")
        with db.engine.connect() as conn:
            statuses = conn.execute(text("SELECT status FROM reported_completions")).scalars()
            assert statuses.all() == ["accepted"]
