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
