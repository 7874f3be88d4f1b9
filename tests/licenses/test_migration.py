"""Migration 0014 moves each user's single license into a licenses row, and back on downgrade."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from tests.scratch import migrating

NOW = "2026-11-01 10:00:00"


def _insert_user(conn, user_id: int, number: str | None, state: str | None) -> None:
    conn.execute(
        text(
            "INSERT INTO users (id, email, password_hash, full_name, profession, role, "
            "license_number, license_state, created_at, updated_at) VALUES (:id, :email, 'x', "
            "'Pat Lee', 'massage_therapist', 'student', :number, :state, :now, :now)"
        ),
        {
            "id": user_id,
            "email": f"u{user_id}@example.com",
            "number": number,
            "state": state,
            "now": NOW,
        },
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_license_moves_into_a_row_and_certificates_link_to_it(tmp_path, backend):
    from flask_migrate import downgrade, upgrade

    from campus.extensions import db

    with migrating(backend, tmp_path):
        upgrade(revision="0013_api")
        with db.engine.begin() as conn:
            _insert_user(conn, 1, "MA12345", "Florida")
            _insert_user(conn, 2, "PT-77", "tx")
            _insert_user(conn, 3, None, None)
            _insert_user(conn, 4, "LMT 9", "Ontario")  # not a state: kept as typed
            conn.execute(
                text(
                    "INSERT INTO certificates (id, code, user_id, status, data, ce_hours, "
                    "completed_at, attempts, created_at, updated_at) VALUES (1, 'C-1', 1, "
                    "'issued', :data, 2, :now, 1, :now, :now)"
                ),
                {"data": json.dumps({"license_number": "MA12345"}), "now": NOW},
            )
        upgrade(revision="0014_licenses")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT user_id, profession, jurisdiction, number FROM licenses "
                    "ORDER BY user_id"
                )
            ).all()
            linked = conn.execute(text("SELECT license_id FROM certificates")).scalar_one()
            first_id = conn.execute(text("SELECT id FROM licenses WHERE user_id = 1")).scalar_one()
        assert [tuple(r) for r in rows] == [
            (1, "massage_therapist", "FL", "MA12345"),
            (2, "massage_therapist", "TX", "PT-77"),
            (4, "massage_therapist", "Ontario", "LMT 9"),
        ]
        assert linked == first_id

        downgrade(revision="0013_api")
        with db.engine.connect() as conn:
            back = conn.execute(
                text("SELECT id, license_number, license_state FROM users ORDER BY id")
            ).all()
        assert [tuple(r) for r in back] == [
            (1, "MA12345", "FL"),
            (2, "PT-77", "TX"),
            (3, None, None),
            (4, "LMT 9", "Ontario"),
        ]
        db.engine.dispose()
