"""Migration 0024: rejections stored before it whose reasons are the provider's are marked."""

from __future__ import annotations

import pytest

from campus.extensions import db
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

    now = "2026-11-01 10:00:00"
    with migrating(backend, tmp_path):
        upgrade(revision="0023_report_sent")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, full_name, profession, role, "
                    "created_at, updated_at) VALUES (1, 'a@example.com', 'x', 'Pat Lee', "
                    "'massage_therapist', 'student', :now, :now)"
                ),
                {"now": now},
            )
            rows = [(cid, "rejected", reason) for cid, reason in REASONS.items()]
            rows.append((4, "accepted", REASONS[2]))  # an old reason on a settled report
            for cid, status, reason in rows:
                conn.execute(
                    text(
                        "INSERT INTO certificates (id, code, user_id, status, data, ce_hours, "
                        "completed_at, attempts, created_at, updated_at) VALUES "
                        "(:id, :code, 1, 'issued', '{}', 2, :now, 1, :now, :now)"
                    ),
                    {"id": cid, "code": f"CE-{cid}", "now": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO reported_completions (certificate_id, system, jurisdiction, "
                        "status, reason, attempts, created_at, updated_at) VALUES (:id, "
                        "'cebroker', 'FL', :status, :reason, 1, :now, :now)"
                    ),
                    {"id": cid, "status": status, "reason": reason, "now": now},
                )
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
