"""Live badges: a valid credential shows (linked to its verify page) and filters the search;
an expired or revoked one disappears from the page and the filter at once."""

from __future__ import annotations

from datetime import timedelta

from campus.models.base import utcnow
from tests import support
from tests.directory.helpers import make_profile
from tests.programs.helpers import make_credential, make_program


def test_a_valid_credential_shows_and_filters_until_it_is_revoked(app, client):
    from campus.extensions import db

    with app.app_context():
        program = make_program(slug="certified-tpt", title="Certified Trigger Point Therapist")
        program.published = True
        db.session.commit()
        holder = support.create_user(full_name="Holder One")
        lapsed = support.create_user(full_name="Lapsed Two")
        credential = make_credential(holder.id, program)
        make_credential(lapsed.id, program, valid_until=utcnow().date() - timedelta(days=1))
        holder_slug = make_profile("10001", user=holder).slug
        lapsed_slug = make_profile("10001", user=lapsed).slug
        code, credential_id = credential.code, credential.id

    page = client.get(f"/directory/{holder_slug}").text
    assert "Certified Trigger Point Therapist" in page and f"/programs/verify/{code}" in page
    assert "Certified Trigger Point Therapist" not in client.get(f"/directory/{lapsed_slug}").text
    found = client.get("/directory/?zip=10001&credential=certified-tpt").text
    assert holder_slug in found and lapsed_slug not in found

    from campus.programs.models import Credential

    with app.app_context():
        db.session.get(Credential, credential_id).status = "revoked"
        db.session.commit()
    assert "Certified Trigger Point Therapist" not in client.get(f"/directory/{holder_slug}").text
    assert holder_slug not in client.get("/directory/?zip=10001&credential=certified-tpt").text


def test_a_license_on_file_shows_on_the_profile(app, client):
    from campus.extensions import db
    from campus.licenses.models import License

    with app.app_context():
        user = support.create_user()
        slug = make_profile("10001", user=user).slug
        user_id = user.id
    assert "License on file" not in client.get(f"/directory/{slug}").text
    with app.app_context():
        db.session.add(
            License(user_id=user_id, profession="massage_therapist", jurisdiction="ME", number="1")
        )
        db.session.commit()
    assert "License on file" in client.get(f"/directory/{slug}").text


def test_an_expired_license_is_not_shown_as_a_current_one(app, client, pacific):
    # The badge says "a current license is recorded": it is judged on the provider's date.
    from datetime import UTC, date, datetime

    import time_machine

    from campus.extensions import db
    from campus.licenses.models import License

    with app.app_context():
        user = support.create_user()
        slug = make_profile("10001", user=user).slug
        db.session.add(
            License(user_id=user.id, profession="massage_therapist", jurisdiction="ME",
                    number="1", expires_on=date(2026, 3, 5))
        )  # fmt: skip
        db.session.commit()
    # 9 pm on its last day in California, already the next day in UTC: still current.
    with time_machine.travel(datetime(2026, 3, 6, 5, 0, tzinfo=UTC), tick=False):
        assert "License on file" in client.get(f"/directory/{slug}").text
    with time_machine.travel(datetime(2026, 3, 6, 9, 0, tzinfo=UTC), tick=False):
        assert "License on file" not in client.get(f"/directory/{slug}").text
