"""A certificate names the license it was earned for: the learner's pick when several fit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campus.certificates.models import Certificate
from campus.extensions import db
from tests.certificates.helpers import certificate_of, student
from tests.learning.helpers import (
    complete_all_lessons,
    enroll_directly,
    evaluate,
    make_course,
    right_answers,
    sign_in,
)
from tests.licenses.helpers import add_license, import_shipped_rules
from tests.support import post_form

EVALUATION = {
    "objectives_met": "5",
    "relevance": "4",
    "presenter": "5",
    "content_quality": "4",
    "minutes_taken": "130",
    "comments": "",
    "attest": "y",
}


def _completed(app, **fields):
    """A student with no license yet who completed (not evaluated) a new NCBTMB-approved course."""
    from campus.accounts.models import User
    from campus.learning import quiz as quizzes
    from campus.learning.models import Course

    with app.app_context():
        course = make_course("hip-basics")
        user = student(license_number=None, license_state=None, **fields)
        enrollment_id = enroll_directly(user.id, course.id)
        complete_all_lessons(user.id, course)
        quizzes.submit_attempt(
            db.session.get(User, user.id), db.session.get(Course, course.id), right_answers(course)
        )
        db.session.commit()
        return user.id, course, enrollment_id


def test_with_two_fitting_licenses_the_learner_picks_and_the_certificate_freezes_it(app, client):
    user_id, course, _ = _completed(app)
    with app.app_context():
        add_license(user_id, jurisdiction="ME", number="MT-1")
        picked = add_license(user_id, jurisdiction="NCBTMB", number="123456-00").id
    sign_in(client, user_id)
    page = client.get(f"/courses/{course.slug}/evaluation").get_data(as_text=True)
    assert "Which license is this certificate for?" in page
    missing = post_form(client, f"/courses/{course.slug}/evaluation", EVALUATION)
    assert missing.status_code == 422
    assert "Choose the license this certificate is for." in missing.get_data(as_text=True)
    with app.app_context():
        assert certificate_of(user_id) is None  # nothing stored without the pick
    r = post_form(
        client, f"/courses/{course.slug}/evaluation", {**EVALUATION, "license_id": str(picked)}
    )
    assert r.status_code == 302
    with app.app_context():
        certificate = certificate_of(user_id)
        assert certificate.license_id == picked
        assert (certificate.data["license_number"], certificate.data["license_state"]) == (
            "123456-00",
            "NCBTMB",
        )


def test_another_members_license_cannot_be_picked(app, client):
    user_id, course, _ = _completed(app)
    with app.app_context():
        add_license(user_id, jurisdiction="ME", number="MT-1")
        add_license(user_id, jurisdiction="NH", number="MT-2")
        other = add_license(student().id, jurisdiction="VT", number="MT-3").id
    sign_in(client, user_id)
    r = post_form(
        client, f"/courses/{course.slug}/evaluation", {**EVALUATION, "license_id": str(other)}
    )
    assert r.status_code == 422
    with app.app_context():
        assert certificate_of(user_id) is None


@pytest.mark.parametrize(
    ("licenses", "printed"),
    [
        ([("ME", "MT-1")], ("MT-1", "ME")),  # the only license is the default
        # Florida massage accepts only Florida-approved courses: the NCBTMB course fits the
        # Maine license alone, so it is the default without asking.
        ([("FL", "MA12345"), ("ME", "MT-1")], ("MT-1", "ME")),
        ([], ("", "")),  # no license on file: the certificate says so
    ],
)
def test_the_default_is_the_only_license_that_fits(app, licenses, printed):
    user_id, course, _ = _completed(app)
    with app.app_context():
        import_shipped_rules()
        for jurisdiction, number in licenses:
            add_license(user_id, jurisdiction=jurisdiction, number=number)
        evaluate(user_id, course)
        certificate = certificate_of(user_id)
        assert (certificate.data["license_number"], certificate.data["license_state"]) == printed


def test_a_removed_license_leaves_the_certificate_its_frozen_number(app, client):
    from campus.licenses.models import License

    user_id, course, _ = _completed(app)
    with app.app_context():
        license_id = add_license(user_id, jurisdiction="ME", number="MT-204518").id
        evaluate(user_id, course)
        db.session.delete(db.session.get(License, license_id))
        db.session.commit()
        db.session.expire_all()
        certificate = certificate_of(user_id)
        assert certificate.license_id is None
        assert certificate.data["license_number"] == "MT-204518"
        code = certificate.code
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "MT-204518" not in page and "4518" in page  # the verify page shows the last digits


def test_a_transcript_of_certificates_for_two_licenses_names_each_rows_license(app):
    # A massage therapist who is also a physical therapist: each course was earned for the
    # license of its profession, and the transcript must not print one license over both.
    import io

    from pypdf import PdfReader

    from campus import dates
    from campus.certificates import transcripts
    from tests.certificates.helpers import complete_course

    with app.app_context():
        massage = make_course("massage-only")
        physio = make_course("physio-only", professions=("physical_therapist",))
        user = student(license_number=None, license_state=None)
        add_license(user.id, number="MA12345")
        add_license(user.id, number="PT12345", profession="physical_therapist")
        complete_course(user.id, massage)
        complete_course(user.id, physio)
        printed = sorted(
            c.data["license_number"]
            for c in db.session.scalars(select(Certificate).where(Certificate.user_id == user.id))
        )
        assert printed == ["MA12345", "PT12345"]
        today = dates.today()
        body = transcripts.transcript_pdf(user, today.replace(month=1, day=1), today)
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(body)).pages
    )
    # Under each course, the license it was earned for.
    assert "For License no. MA12345 · FL" in text and "For License no. PT12345 · FL" in text


def test_the_default_is_a_license_current_on_the_completion_day(app):
    from datetime import timedelta

    from campus import dates

    user_id, course, _ = _completed(app)
    with app.app_context():
        lapsed = dates.today() - timedelta(days=30)
        add_license(user_id, jurisdiction="ME", number="MT-1", expires_on=lapsed)
        add_license(user_id, jurisdiction="NH", number="MT-2")
        evaluate(user_id, course)  # issued without a pick, as a reissue or a worker does
        certificate = certificate_of(user_id)
        assert (certificate.data["license_number"], certificate.data["license_state"]) == (
            "MT-2",
            "NH",
        )


def test_the_license_is_chosen_by_the_course_as_completed_not_as_edited_since(app, client):
    # Completed as a massage course; the admin opened it to physical therapists before the
    # learner evaluated it. The PT license was never one the completion counted for.
    from campus.learning.models import Course, CourseProfession

    user_id, course, _ = _completed(app)
    with app.app_context():
        add_license(user_id, jurisdiction="FL", number="PT12345", profession="physical_therapist")
        add_license(user_id, jurisdiction="ME", number="MT-1")
        edited = db.session.get(Course, course.id)
        edited.audience.append(CourseProfession(profession="physical_therapist"))
        db.session.commit()
    sign_in(client, user_id)
    page = client.get(f"/courses/{course.slug}/evaluation").get_data(as_text=True)
    assert "Which license is this certificate for?" not in page
    with app.app_context():
        evaluate(user_id, course)
        certificate = certificate_of(user_id)
        assert (certificate.data["license_number"], certificate.data["license_state"]) == (
            "MT-1",
            "ME",
        )


def test_a_license_lapsed_by_the_completion_day_is_offered_marked_and_after_current_ones(
    app, client
):
    import re
    from datetime import timedelta

    from campus import dates

    user_id, course, _ = _completed(app)
    lapsed_on = dates.today() - timedelta(days=10)
    with app.app_context():
        lapsed = add_license(
            user_id, jurisdiction="NCBTMB", number="123456-00", expires_on=lapsed_on
        )
        current = add_license(user_id, jurisdiction="ME", number="MT-1")
        lapsed_id, current_id = lapsed.id, current.id
    sign_in(client, user_id)
    page = client.get(f"/courses/{course.slug}/evaluation").get_data(as_text=True)
    options = re.findall(
        r'<label class="rating-option"><input type="radio" name="license_id"[^\n]*', page
    )
    assert [re.search(r'value="(\d+)"', o).group(1) for o in options] == [
        str(current_id),
        str(lapsed_id),
    ]
    # A member reinstating it may need it named, so it stays; but it says it had lapsed.
    assert "expired" not in options[0]
    assert f"expired on {lapsed_on:%B} {lapsed_on.day}, {lapsed_on.year}" in options[1]
    assert not any("checked" in o for o in options)
