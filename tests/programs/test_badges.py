"""The badges other features show: only valid credentials unless asked for all."""

from __future__ import annotations

import re
from datetime import timedelta

from campus.models.base import utcnow
from campus.programs.public import badges_for
from tests import support
from tests.programs.helpers import make_credential, make_program


def test_badges_list_only_valid_credentials_by_default(app):
    with app.app_context():
        user = support.create_user()
        other = support.create_user()
        valid = make_credential(user.id, make_program(slug="a", title="Program A"))
        expired = make_credential(
            user.id,
            make_program(slug="b", title="Program B"),
            valid_until=utcnow().date() - timedelta(days=1),
        )
        revoked = make_credential(user.id, make_program(slug="c"), status="revoked")
        make_credential(user.id, make_program(slug="d"), status="pending")
        make_credential(other.id, make_program(slug="e"))

        badges = badges_for(user.id)
        assert [b.code for b in badges] == [valid.code]
        assert badges[0].status == "valid"
        assert badges[0].program_title == "Program A"
        assert badges[0].verify_url.endswith(f"/programs/verify/{valid.code}")

        everything = {b.code: b.status for b in badges_for(user.id, include_invalid=True)}
        assert everything == {valid.code: "valid", expired.code: "expired", revoked.code: "revoked"}


def test_verify_page_shows_valid_expired_and_revoked(app, client):
    with app.app_context():
        user = support.create_user()
        valid = make_credential(user.id, make_program(slug="a"))
        expired = make_credential(
            user.id, make_program(slug="b"), valid_until=utcnow().date() - timedelta(days=1)
        )
        revoked = make_credential(
            user.id, make_program(slug="c"), status="revoked", revoked_reason="Found copying"
        )
        revoked.revoked_at = utcnow()
        from campus.extensions import db

        db.session.commit()
        codes = valid.code, expired.code, revoked.code
    assert "is valid until" in client.get(f"/programs/verify/{codes[0]}").text
    assert "expired on" in client.get(f"/programs/verify/{codes[1]}").text
    page = client.get(f"/programs/verify/{codes[2]}").text
    assert "Revoked" in page and "Found copying" not in page  # the reason is not public
    assert client.get("/programs/verify/CP-NOPE").status_code == 404


def test_a_badge_names_the_program_as_the_credential_states_it_after_a_rename(app, client):
    from campus.extensions import db

    with app.app_context():
        user = support.create_user()
        program = make_program(slug="tpt", title="Trigger Point Therapist")
        credential = make_credential(user.id, program)
        # The program is renamed (and its requirements raised) after the credential was earned.
        program.title = "Advanced Trigger Point Specialist"
        db.session.commit()
        [badge] = badges_for(user.id)
        code = credential.code
    assert badge.program_title == "Trigger Point Therapist"
    page = client.get(f"/programs/verify/{code}").text
    assert "Trigger Point Therapist" in page and "Advanced" not in page


def test_the_public_credential_page_hides_the_revocation_reason_from_all_but_the_holder(
    app, client
):
    from campus.extensions import db

    with app.app_context():
        user = support.create_user()
        program = make_program(slug="private-why")
        revoked = make_credential(
            user.id, program, status="revoked", revoked_reason="Misconduct complaint from client X"
        )
        revoked.revoked_at = utcnow()
        db.session.commit()
        code, email, slug = revoked.code, user.email, program.slug
    page = client.get(f"/programs/verify/{code}").text
    assert "Revoked" in page and "was revoked on" in page
    assert "Misconduct" not in page
    body = client.get(f"/programs/verify/{code}.json")
    assert "Misconduct" not in body.text
    assert body.json["status"] == "revoked" and body.json["revoked_at"]
    support.login(client, email)
    holder = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/programs/{slug}").text))
    # The holder's sentence ends with a full stop, the reason's own if it has one.
    assert "Misconduct complaint from client X. " in holder
