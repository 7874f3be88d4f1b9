"""An assessor's review refused for a missing comment keeps the rubric as it was marked."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from campus.extensions import db
from campus.programs.models import PracticalSubmission
from tests import support
from tests.programs.helpers import ready_program

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + b"\x00" * 2048


def test_a_return_refused_for_want_of_comments_keeps_the_ticked_criteria(app, client):
    with app.app_context():
        program, _courses = ready_program(
            practical_required=True,
            practical_techniques="Ischemic compression",
            rubric="Finds the point\nSafe pressure\nStretch after release",
        )
        candidate_id, slug = support.create_user().id, program.slug
        assessor_id = support.create_user(role="assessor").id
        support.enable_totp(assessor_id)
        support.sign_in_directly(client, candidate_id)
    support.post_form(
        client,
        f"/programs/{slug}/practical",
        {"video": (io.BytesIO(MP4), "clip.mp4")},
        content_type="multipart/form-data",
    )
    assessor = app.test_client()
    with app.app_context():
        support.sign_in_directly(assessor, assessor_id, second_factor=True)
        submission_id = db.session.scalar(select(PracticalSubmission.id))
    url = f"/admin/assessments/{submission_id}/"
    shown = dict(
        re.findall(r'<input[^>]*name="(rubric)"[^>]*value="([^"]*)"', assessor.get(url).text)
    )
    page = support.post_form(
        assessor,
        url,
        {**shown, "decision": "return", "criterion-0": "met", "criterion-2": "met"},
    ).text
    assert "a returned video needs comments" in page
    # Not "Nothing was recorded: Say what to improve: ...", two colons and a capital after one.
    assert "Nothing was recorded. Say what to improve: a returned video needs comments." in page
    # Said at the comments box too, which takes the focus: on a phone it is screens below the
    # message at the top, under the video and the rubric.
    box = re.search(r'<textarea[^>]*id="comments"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in box and "autofocus" in box
    under = re.search(r'<div id="comments-msg">(.*?)</div>', page, re.S).group(1)
    assert "a returned video needs comments" in under
    ticked = re.findall(r'<input type="checkbox" name="(criterion-\d+)"[^>]*\bchecked\b', page)
    # The ticks were dropped: sent again once the comment was written, the candidate was told
    # that criteria the assessor had seen met were "not yet" met.
    assert ticked == ["criterion-0", "criterion-2"]
    with app.app_context():
        assert db.session.get(PracticalSubmission, submission_id).status == "submitted"
