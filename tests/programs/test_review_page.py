"""An assessor's review page is named for the practical it reviews, not as the queue is."""

from __future__ import annotations

import re

from sqlalchemy import select

from campus.extensions import db
from campus.programs.models import PracticalSubmission
from tests import support
from tests.programs.test_practical import MP4, _assessor_client, _setup, _upload


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None
    return re.sub(r"\s+", " ", found.group(1)).strip()


def test_the_review_page_has_a_title_of_its_own(app, client):
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "first.mp4")
    assessor = _assessor_client(app)
    with app.app_context():
        submission = db.session.scalar(select(PracticalSubmission))
        submission_id, program = submission.id, submission.program.title
        name = submission.user.full_name
    queue = _title(assessor.get("/admin/assessments/").text)
    review = _title(assessor.get(f"/admin/assessments/{submission_id}/").text)
    assert review != queue
    assert program in review and name in review


def test_a_video_sent_again_is_reviewed_beside_what_was_asked_of_it(app, client):
    # The page of the second video showed the video and the rubric alone: the assessor (often
    # another one) could not check the comments the return made had been answered.
    from tests.programs.test_practical import WEBM

    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "first.mp4")
    assessor = _assessor_client(app)
    with app.app_context():
        first_id = db.session.scalar(select(PracticalSubmission.id))
    support.post_form(
        assessor,
        f"/admin/assessments/{first_id}/",
        {"decision": "return", "criterion-0": "met", "comments": "Film closer to the muscle."},
    )
    _upload(client, slug, WEBM, "second.webm")
    with app.app_context():
        second_id = db.session.scalar(
            select(PracticalSubmission.id).where(PracticalSubmission.id != first_id)
        )
    page = re.sub(r"\s+", " ", assessor.get(f"/admin/assessments/{second_id}/").text)
    assert "Earlier videos of this candidate" in page
    assert "Film closer to the muscle." in page
    assert "Safe pressure: not met" in page
    assert f'href="/admin/assessments/{first_id}/"' in page
    # The first one's own page lists nothing earlier.
    first = assessor.get(f"/admin/assessments/{first_id}/").text
    assert "Earlier videos of this candidate" not in first
