"""A practical video over the limit: the candidate is told the video's limit."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from campus.extensions import db
from campus.programs.models import PracticalSubmission
from tests import support
from tests.programs.helpers import ready_program

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + b"\x00" * 2048


def test_a_video_far_over_the_limit_is_told_the_videos_limit_not_the_sites(app, client):
    app.config["PRACTICAL_MAX_BYTES"] = 10 * 1024
    with app.app_context():
        program, _courses = ready_program(
            practical_required=True,
            practical_techniques="Ischemic compression",
            rubric="Finds the point",
        )
        user = support.create_user()
        support.sign_in_directly(client, user.id)
        slug = program.slug
    response = support.post_form(
        client,
        f"/programs/{slug}/practical",
        {"video": (io.BytesIO(MP4 * 100), "me.mp4")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    # It named the site's 1 MB form limit: the candidate was told to send under 1 MB a video
    # the page allows up to the practical's limit.
    assert "1024 kB" not in response.text
    assert "Your video is larger than 10 KB, the most a practical video may be." in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PracticalSubmission)) == 0


def test_the_page_and_the_refusal_name_a_limit_under_a_megabyte_as_the_413_does(app, client):
    # Both divided the limit into whole megabytes: "up to 0 MB" on the page and "larger than
    # 0 MB" in the refusal, for a limit the too-large page calls 10 KB.
    app.config["PRACTICAL_MAX_BYTES"] = 10 * 1024
    with app.app_context():
        program, _courses = ready_program(
            practical_required=True,
            practical_techniques="Ischemic compression",
            rubric="Finds the point",
        )
        support.sign_in_directly(client, support.create_user().id)
        slug = program.slug
    page = client.get(f"/programs/{slug}").text
    assert "up to 10 KB" in page and "0 MB" not in page
    # Over the video's limit by a little: within the form's room, refused once read.
    video = MP4 + b"\x00" * (10 * 1024)
    support.post_form(
        client,
        f"/programs/{slug}/practical",
        {"video": (io.BytesIO(video), "me.mp4")},
        content_type="multipart/form-data",
    )
    refused = client.get(f"/programs/{slug}").text
    assert "The video is larger than 10 KB." in refused
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PracticalSubmission)) == 0
