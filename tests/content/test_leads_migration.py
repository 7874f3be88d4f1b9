"""Migration 0025: a lead keeps its first request apart from its consent, which only some gave."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.scratch import migrating

ASKED = "2026-10-01 09:00:00"
AGREED = "2026-10-05 12:30:00"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_lead_that_never_agreed_loses_its_consent_date_and_keeps_when_it_asked(tmp_path, backend):
    from flask_migrate import downgrade, upgrade

    from campus.content.models import Lead
    from campus.extensions import db

    with migrating(backend, tmp_path):
        upgrade(revision="0024_report_provider_fault")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO downloads (id, slug, title, description, filename, pages, "
                    "active, created_at, updated_at) "
                    "VALUES (1, 'guide', 'Guide', '', 'guide.pdf', 2, :yes, :now, :now)"
                ),
                {"yes": True, "now": ASKED},
            )
            for lead_id, consent, marketing, stamp in (
                (1, "", False, ASKED),  # asked, never agreed
                (2, "Also send me emails.", True, AGREED),  # agreed (then or later)
                (3, "", True, ASKED),  # on the list from before consent texts were kept
            ):
                conn.execute(
                    text(
                        "INSERT INTO leads (id, download_id, email, name, consent_text, "
                        "marketing, consented_at, requests, last_requested_at) VALUES "
                        "(:id, 1, :email, 'N', :consent, :marketing, :stamp, 1, :stamp)"
                    ),
                    {
                        "id": lead_id,
                        "email": f"l{lead_id}@example.com",
                        "consent": consent,
                        "marketing": marketing,
                        "stamp": stamp,
                    },
                )
        upgrade(revision="0025_lead_asked_at")
        leads = {lead.id: lead for lead in db.session.scalars(db.select(Lead))}
        asked, agreed = (
            datetime.fromisoformat(stamp).replace(tzinfo=UTC) for stamp in (ASKED, AGREED)
        )
        assert (leads[1].asked_at, leads[1].consented_at) == (asked, None)
        assert (leads[2].asked_at, leads[2].consented_at) == (agreed, agreed)
        assert (leads[3].asked_at, leads[3].consented_at) == (asked, asked)
        db.session.rollback()
        downgrade(revision="0024_report_provider_fault")
        with db.engine.connect() as conn:
            kept = conn.execute(text("SELECT id, consented_at FROM leads ORDER BY id")).all()
        assert [row[1] is not None for row in kept] == [True, True, True]
