"""License.current_since in a rolling deploy: the release before it still adds licenses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_license_added_by_the_previous_release_is_stored_current_from_then(tmp_path, backend):
    from flask_migrate import upgrade

    from campus.extensions import db
    from campus.licenses.models import License
    from campus.models.base import utcnow
    from tests.scratch import migrating

    with migrating(backend, tmp_path):
        upgrade()
        now = utcnow()
        db.session.execute(
            text(
                "INSERT INTO users (email, password_hash, full_name, profession, role,"
                " created_at, updated_at) VALUES ('old@example.org', 'x', 'Old Release',"
                " 'massage_therapist', 'member', :now, :now)"
            ),
            {"now": now},
        )
        # The INSERT of a release that knows no current_since: old and new code run side by
        # side while a deploy rolls, and a member adding a license then must not get a 500.
        db.session.execute(
            text(
                "INSERT INTO licenses (user_id, profession, jurisdiction, number, reminders,"
                " created_at, updated_at) SELECT id, 'massage_therapist', 'FL', 'MA1', :yes,"
                " :now, :now FROM users WHERE email = 'old@example.org'"
            ),
            {"now": now, "yes": True},
        )
        db.session.commit()
        license = db.session.query(License).one()
        assert abs(license.current_since - now) < timedelta(minutes=5)
        db.session.remove()
