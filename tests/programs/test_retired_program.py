"""A retired (unpublished) program: its page still opens to a candidate with work in it (a
credential, an exam sitting, a video waiting for review), saying what the retirement means for
them; to everyone else it is gone, and it is listed nowhere."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from campus.extensions import db
from campus.programs import actions
from campus.programs.models import Program
from tests import support
from tests.programs.helpers import candidate, make_credential, ready_program, right_answers

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + b"\x00" * 2048
RETIRED = "This program is retired"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _program(practical: bool = True) -> tuple[Program, list]:
    fields = {"practical_required": True, "practical_techniques": "Pin", "rubric": "Safe"}
    return ready_program(**(fields if practical else {}))


def _retire(slug: str) -> None:
    db.session.scalar(select(Program).where(Program.slug == slug)).published = False
    db.session.commit()


def _upload(client, slug: str) -> None:
    response = support.post_form(
        client,
        f"/programs/{slug}/practical",
        {"video": (io.BytesIO(MP4), "me.mp4")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302


def _sit(user, program, *, passed: bool | None) -> None:
    """Start a sitting; submit it passed or failed, or (None) leave it open."""
    sitting = actions.start_exam(user, program)
    if passed is not None:
        actions.submit_exam(user, sitting, right_answers(sitting) if passed else {})
    db.session.commit()


def _outsiders_see_nothing(app, slug: str) -> None:
    assert app.test_client().get(f"/programs/{slug}").status_code == 404
    other = app.test_client()
    with app.app_context():
        support.sign_in_directly(other, support.create_user().id)
    assert other.get(f"/programs/{slug}").status_code == 404
    assert slug not in other.get("/programs/").text
    assert slug not in other.get("/api/v1/programs").text


def test_a_candidate_whose_video_waits_for_review_still_sees_the_retired_program(app, client):
    with app.app_context():
        program, courses = _program()
        slug = program.slug
        support.sign_in_directly(client, candidate(courses).id)
    _upload(client, slug)
    with app.app_context():
        _retire(slug)
    response = client.get(f"/programs/{slug}")
    assert response.status_code == 200
    page = _text(response.text)
    assert RETIRED in page
    assert "Your video will still be reviewed" in page
    assert "you have not passed its exam, which can no longer be taken" in page
    assert "Draft" not in page
    assert "waiting for review" in page
    assert slug not in client.get("/programs/").text
    _outsiders_see_nothing(app, slug)


def test_a_waiting_video_with_the_exam_passed_still_counts_toward_the_credential(app, client):
    with app.app_context():
        program, courses = _program()
        user = candidate(courses)
        _sit(user, program, passed=True)
        slug = program.slug
        support.sign_in_directly(client, user.id)
    _upload(client, slug)
    with app.app_context():
        _retire(slug)
    page = _text(client.get(f"/programs/{slug}").text)
    assert RETIRED in page
    assert "Your video will still be reviewed, and a pass counts toward the credential" in page


def test_a_candidate_with_an_exam_under_way_finishes_it_from_the_retired_program(app, client):
    with app.app_context():
        program, courses = _program(practical=False)
        user = candidate(courses)
        _sit(user, program, passed=None)
        slug = program.slug
        _retire(slug)
        support.sign_in_directly(client, user.id)
    response = client.get(f"/programs/{slug}")
    assert response.status_code == 200
    page = _text(response.text)
    assert RETIRED in page and "You can still finish the exam you started" in page
    assert "Continue your exam" in page and "Start the exam" not in page
    _outsiders_see_nothing(app, slug)


@pytest.mark.parametrize("practical", [True, False])
def test_a_candidate_who_failed_its_exam_is_told_no_new_attempt_starts(app, client, practical):
    with app.app_context():
        program, courses = _program(practical=practical)
        user = candidate(courses)
        _sit(user, program, passed=False)
        slug = program.slug
        _retire(slug)
        support.sign_in_directly(client, user.id)
    response = client.get(f"/programs/{slug}")
    assert response.status_code == 200
    page = _text(response.text)
    assert RETIRED in page and "no new attempt at its exam can start" in page
    assert "Start the exam" not in page
    # Nothing to send a video to: the upload is refused on a retired program.
    assert 'name="video"' not in response.text
    assert f"write to {app.config['PROVIDER_EMAIL']}" in page


def test_a_holder_is_told_their_credential_stays_valid(app, client):
    with app.app_context():
        program, _courses = _program(practical=False)
        user = support.create_user()
        credential = make_credential(user.id, program)
        slug, until = program.slug, credential.valid_until
        _retire(slug)
        support.sign_in_directly(client, user.id)
    page = _text(client.get(f"/programs/{slug}").text)
    assert RETIRED in page
    assert f"Your credential stays valid until {until:%B} {until.day}, {until.year}" in page
    assert "Draft" not in page


def test_a_returned_video_alone_opens_nothing(app, client):
    # No sitting and no credential: nothing of theirs moves on, and the email linked nowhere.
    with app.app_context():
        program, courses = _program()
        slug = program.slug
        support.sign_in_directly(client, candidate(courses).id)
    _upload(client, slug)
    with app.app_context():
        from campus.programs.models import PracticalSubmission

        submission = db.session.scalar(select(PracticalSubmission))
        submission.status = "returned"
        db.session.commit()
        _retire(slug)
    assert client.get(f"/programs/{slug}").status_code == 404


def test_a_waiting_video_beside_an_exam_under_way_counts_if_that_exam_passes(app, client):
    with app.app_context():
        program, courses = _program()
        user = candidate(courses)
        _sit(user, program, passed=None)
        slug = program.slug
        support.sign_in_directly(client, user.id)
    _upload(client, slug)
    with app.app_context():
        _retire(slug)
    page = _text(client.get(f"/programs/{slug}").text)
    assert "You can still finish the exam you started" in page
    assert "a pass counts toward the credential if you pass the exam you started" in page


def test_a_return_emails_the_page_link_to_a_candidate_the_page_still_opens_to(app, client):
    # A failed sitting keeps the retired program's page open to them: the email links to it.
    from tests.programs.test_practical import _assessor_client

    with app.app_context():
        program, courses = _program()
        user = candidate(courses)
        _sit(user, program, passed=False)
        slug = program.slug
        support.sign_in_directly(client, user.id)
    _upload(client, slug)
    with app.app_context():
        _retire(slug)
        from campus.programs.models import PracticalSubmission

        submission_id = db.session.scalar(select(PracticalSubmission.id))
    support.post_form(
        _assessor_client(app),
        f"/admin/assessments/{submission_id}/",
        {"decision": "return", "criterion-0": "met", "comments": "Film closer to the muscle."},
    )
    [mail] = support.outbox(app)
    body = support.body_of(mail)
    assert f"/programs/{slug}" in body and "no new video can be sent" in body
    assert client.get(f"/programs/{slug}").status_code == 200
