"""The practical: upload limits and type checks, review by an assessor, emails, resubmission."""

from __future__ import annotations

import io
import re
import tracemalloc

import pytest
from sqlalchemy import func, select

from campus.extensions import db
from campus.programs.models import PracticalSubmission
from campus.storage import get_storage
from tests import support
from tests.admin.helpers import audit_entries, flashes
from tests.programs.helpers import ready_program

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + b"\x00" * 2048
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 2048


def _setup(app, **fields):
    with app.app_context():
        program, _courses = ready_program(
            practical_required=True,
            practical_techniques="Ischemic compression\nStretch after release",
            rubric="Finds the point\nSafe pressure",
            **fields,
        )
        user = support.create_user()
        return program.slug, user.id


def _upload(client, slug: str, data: bytes, name: str):
    return support.post_form(
        client,
        f"/programs/{slug}/practical",
        {"video": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(PracticalSubmission))


@pytest.mark.parametrize(("data", "name"), [(MP4, "me.mp4"), (MP4, "me.MOV"), (WEBM, "me.webm")])
def test_a_real_video_is_stored_for_review(app, client, data, name):
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    response = _upload(client, slug, data, name)
    assert response.status_code == 302
    with app.app_context():
        submission = db.session.scalar(select(PracticalSubmission))
        assert submission.status == "submitted"
        assert submission.storage_key.startswith("programs/practicals/")
        assert get_storage().read(submission.storage_key) == data
    assert "waiting for review" in client.get(f"/programs/{slug}").text


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("my\x00clip\x07.mp4", "myclip.mp4"),
        ("\x00\x01.mp4", ".mp4"),
        ("x" * 300 + ".mp4", None),
        # A right-to-left override shows "clip\u202egnp.mp4" to the assessor as "clip4pm.png".
        ("clip\u202egnp.mp4", "clipgnp.mp4"),
        ("\u2067clip\u2069\u200f.mp4", "clip.mp4"),
    ],
)
def test_the_file_name_is_stored_without_control_characters(app, client, name, shown):
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    assert _upload(client, slug, MP4, name).status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(PracticalSubmission.filename))
        assert stored == (shown or name[-200:])


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (MP4, "me.avi", "MP4, MOV or WebM"),
        # The page and the file picker offer MP4, MOV and WebM only; the server agrees.
        (MP4, "me.m4v", "MP4, MOV or WebM"),
        (b"MZ\x90\x00 not a video at all" * 10, "me.mp4", "not a real MP4"),
        (WEBM, "me.mp4", "not a real MP4"),
        (MP4, "me.webm", "not a real WEBM"),
        (b"", "me.mp4", "empty"),
    ],
)
def test_wrong_types_are_refused_and_nothing_is_stored(app, client, data, name, message):
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    response = _upload(client, slug, data, name)
    assert response.status_code == 302
    page = client.get(f"/programs/{slug}").text
    assert message in page.replace("&#39;", "'")
    with app.app_context():
        assert _count() == 0


def test_the_file_picker_offers_exactly_the_types_the_server_accepts(app, client):
    from campus.programs.practicals import EXTENSIONS

    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    page = client.get(f"/programs/{slug}").text
    accept = re.search(r'id="video" name="video" accept="([^"]*)"', page)
    assert accept is not None
    offered = {part[1:] for part in accept.group(1).split(",") if part.startswith(".")}
    assert offered == set(EXTENSIONS)
    types = {part for part in accept.group(1).split(",") if not part.startswith(".")}
    assert types == {content_type for content_type, _kind in EXTENSIONS.values()}


def test_a_video_over_the_limit_is_refused(app, client):
    app.config["PRACTICAL_MAX_BYTES"] = 1024
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "me.mp4")
    assert "larger than" in client.get(f"/programs/{slug}").text
    with app.app_context():
        assert _count() == 0


def test_a_body_far_over_the_limit_is_cut_off(app, client):
    app.config["PRACTICAL_MAX_BYTES"] = 1024
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    response = _upload(client, slug, MP4 * 200, "me.mp4")
    assert response.status_code == 413
    with app.app_context():
        assert _count() == 0


def test_larger_than_the_site_limit_but_within_the_practical_limit_is_accepted(app, client):
    # (A small site limit: the test client spools bodies over 500 KB to a file it never closes.)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    big = MP4 + b"\x00" * 4096
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    assert _upload(client, slug, big, "me.mp4").status_code == 302
    with app.app_context():
        assert _count() == 1


def test_a_large_video_goes_to_storage_without_being_held_in_memory(app, client):
    # Up to 200 MB each: a video kept whole in memory (twice, while its pieces were joined) let
    # two candidates uploading at once exhaust a web worker's memory and lose both uploads.
    size = 16 * 1024 * 1024
    video = MP4 + bytes(range(256)) * (size // 256)
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    token = support.csrf_token(client).encode()
    body = (
        b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token + b"\r\n"
        b'--B\r\nContent-Disposition: form-data; name="video"; filename="me.mp4"\r\n'
        b"Content-Type: video/mp4\r\n\r\n" + video + b"\r\n--B--\r\n"
    )
    environ = {
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "multipart/form-data; boundary=B",
    }
    tracemalloc.start()
    try:
        response = client.post(f"/programs/{slug}/practical", environ_overrides=environ)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 302
    assert peak < size // 4, f"{peak:,} bytes held for a {size:,}-byte video"
    with app.app_context():
        submission = db.session.scalar(select(PracticalSubmission))
        assert submission.size_bytes == len(video)
        assert get_storage().read(submission.storage_key) == video


class _CountingBody(io.RawIOBase):
    """A multipart body of `size` bytes holding one video field, counting what is read of it."""

    def __init__(self, size: int) -> None:
        self.head = (
            b'--B\r\nContent-Disposition: form-data; name="video"; filename="me.mp4"\r\n'
            b"Content-Type: video/mp4\r\n\r\n" + MP4
        )
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        chunk = (self.head + b"\x00" * max(0, n))[self.read_bytes : self.read_bytes + n]
        buffer[: len(chunk)] = chunk
        self.read_bytes += len(chunk)
        return len(chunk)


def _post_large(client, slug: str, size: int = 3 * 1024 * 1024):
    body = _CountingBody(size)
    environ = {
        "wsgi.input": body,
        "CONTENT_LENGTH": str(size),
        "CONTENT_TYPE": "multipart/form-data; boundary=B",
    }
    return client.post(f"/programs/{slug}/practical", environ_overrides=environ), body


@pytest.mark.parametrize("who", ["visitor", "not certifiable", "waiting for review", "no program"])
def test_a_large_body_from_someone_who_may_not_upload_is_refused_unread(app, client, who):
    # The site's 1 MB limit stands for anyone the upload form is not shown to: the practical's
    # 200 MB was granted to every request to this address, and read to its end before the CSRF
    # check, the sign-in or the rate limit refused it.
    slug, user_id = _setup(app, professions=["chiropractor"] if who == "not certifiable" else [])
    if who != "visitor":
        with app.app_context():
            support.sign_in_directly(client, user_id)
    if who == "waiting for review":
        assert _upload(client, slug, MP4, "first.mp4").status_code == 302
    response, body = _post_large(client, "no-such-program" if who == "no program" else slug)
    assert response.status_code == 413
    assert body.read_bytes == 0
    with app.app_context():
        assert _count() == (1 if who == "waiting for review" else 0)


def _assessor_client(app):
    client = app.test_client()
    with app.app_context():
        assessor_id = support.create_user(role="assessor").id
        support.enable_totp(assessor_id)
        support.sign_in_directly(client, assessor_id, second_factor=True)
    return client


def test_a_return_with_zero_width_comments_alone_is_refused(app, client):
    # The candidate would be emailed to film again with nothing said about what to improve.
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "first.mp4")
    assessor = _assessor_client(app)
    with app.app_context():
        submission_id = db.session.scalar(select(PracticalSubmission.id))
    support.post_form(
        assessor,
        f"/admin/assessments/{submission_id}/",
        {"decision": "return", "comments": "\u200b\u200d \u0301"},
    )
    with app.app_context():
        assert db.session.get(PracticalSubmission, submission_id).status == "submitted"
    assert support.outbox(app) == []


def test_assessor_returns_then_passes_and_the_candidate_is_emailed(app, client):
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "first.mp4")
    assessor = _assessor_client(app)
    with app.app_context():
        first_id = db.session.scalar(select(PracticalSubmission.id))
    queue = assessor.get("/admin/assessments/")
    assert queue.status_code == 200 and "first.mp4" in queue.text
    with app.app_context():
        # A short clip: its size reads in KB, not as "0.0 MB".
        db.session.get(PracticalSubmission, first_id).size_bytes = 50 * 1024
        db.session.commit()
    queue = assessor.get("/admin/assessments/")
    assert "first.mp4 (50 KB)" in queue.text and "0.0 MB" not in queue.text
    with assessor.get(f"/admin/assessments/{first_id}/video") as video:
        assert video.status_code == 200 and video.data == MP4
        assert "no-store" in video.headers["Cache-Control"]
    # A return needs comments; a pass needs every criterion.
    support.post_form(assessor, f"/admin/assessments/{first_id}/", {"decision": "return"})
    support.post_form(
        assessor, f"/admin/assessments/{first_id}/", {"decision": "pass", "criterion-0": "met"}
    )
    with app.app_context():
        assert db.session.get(PracticalSubmission, first_id).status == "submitted"
    support.post_form(
        assessor,
        f"/admin/assessments/{first_id}/",
        {"decision": "return", "criterion-0": "met", "comments": "Film closer to the muscle."},
    )
    mail = support.outbox(app)
    assert len(mail) == 1 and "returned" in mail[0]["Subject"]
    assert "Film closer to the muscle." in support.body_of(mail[0])
    page = client.get(f"/programs/{slug}").text
    assert "Film closer to the muscle." in page and "Upload for review" in page
    # The page, like the email, says which criteria the next video has to meet.
    assert "Finds the point: met" in page and "Safe pressure: not yet" in page

    _upload(client, slug, WEBM, "second.webm")
    with app.app_context():
        second_id = db.session.scalar(
            select(PracticalSubmission.id).where(PracticalSubmission.id != first_id)
        )
    support.post_form(
        assessor,
        f"/admin/assessments/{second_id}/",
        {"decision": "pass", "criterion-0": "met", "criterion-1": "met"},
    )
    with app.app_context():
        assert db.session.get(PracticalSubmission, second_id).status == "passed"
    mail = support.outbox(app)
    assert len(mail) == 2 and "passed" in mail[1]["Subject"]
    # The log keeps each verdict's grounds: the rubric's marks and comments, before and after.
    returned, passed = audit_entries(app, action="program_practical_review")
    assert returned.before["status"] == "submitted" and returned.after["status"] == "returned"
    assert returned.after["comments"] == "Film closer to the muscle."
    assert passed.after["status"] == "passed" and all(passed.after["rubric_marks"].values())
    assert "second.webm" not in str(passed.before) + str(passed.after)


@pytest.mark.parametrize(
    ("rubric", "decision", "marks", "comments"),
    [
        pytest.param("", "pass", {}, "", id="no-rubric-passed"),
        pytest.param("Finds the point\nSafe pressure", "pass", {0: 1, 1: 1}, "", id="passed"),
        pytest.param("", "return", {}, "Film closer.", id="no-rubric-returned"),
    ],
)
def test_the_verdict_email_has_no_empty_rubric_and_no_gaps(
    app, client, rubric, decision, marks, comments
):
    slug, user_id = _setup(app)
    with app.app_context():
        from campus.programs.models import Program

        db.session.scalar(select(Program).where(Program.slug == slug)).rubric = rubric
        db.session.commit()
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "first.mp4")
    assessor = _assessor_client(app)
    with app.app_context():
        submission_id = db.session.scalar(select(PracticalSubmission.id))
    fields = {f"criterion-{index}": "met" for index in marks}
    support.post_form(
        assessor,
        f"/admin/assessments/{submission_id}/",
        {"decision": decision, "comments": comments, **fields},
    )
    [message] = support.outbox(app)
    body = support.body_of(message)
    assert ("Rubric:" in body) == bool(rubric)
    assert "\n\n\n" not in body


def test_an_assessor_cannot_review_their_own_practical(app, client):
    slug, _candidate = _setup(app)
    with app.app_context():
        assessor_id = support.create_user(role="assessor").id
        support.enable_totp(assessor_id)
        support.sign_in_directly(client, assessor_id, second_factor=True)
    _upload(client, slug, MP4, "mine.mp4")
    with app.app_context():
        mine = db.session.scalar(select(PracticalSubmission.id))
    page = support.post_form(
        client,
        f"/admin/assessments/{mine}/",
        {"decision": "pass", "criterion-0": "met", "criterion-1": "met"},
        follow_redirects=True,
    )
    assert "reviewed by another assessor" in page.text
    with app.app_context():
        assert db.session.get(PracticalSubmission, mine).status == "submitted"
    assert support.outbox(app) == []
    # Another assessor may.
    support.post_form(
        _assessor_client(app),
        f"/admin/assessments/{mine}/",
        {"decision": "pass", "criterion-0": "met", "criterion-1": "met"},
    )
    with app.app_context():
        assert db.session.get(PracticalSubmission, mine).status == "passed"


def test_the_assessor_seeks_in_the_video_by_byte_range(app, client):
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    video = MP4 + bytes(range(256))
    _upload(client, slug, video, "seek.mp4")
    assessor = _assessor_client(app)
    with app.app_context():
        url = f"/admin/assessments/{db.session.scalar(select(PracticalSubmission.id))}/video"
    size = len(video)
    with assessor.get(url) as whole:
        assert whole.status_code == 200 and whole.data == video
        assert whole.headers["Accept-Ranges"] == "bytes"
    with assessor.get(url, headers={"Range": "bytes=2100-2119"}) as part:
        assert part.status_code == 206 and part.data == video[2100:2120]
        assert part.headers["Content-Range"] == f"bytes 2100-2119/{size}"
        assert part.headers["Content-Length"] == "20"
    with assessor.get(url, headers={"Range": "bytes=-5"}) as tail:
        assert tail.status_code == 206 and tail.data == video[-5:]
    with assessor.get(url, headers={"Range": f"bytes=-{size + 100}"}) as everything:
        assert everything.status_code == 206 and everything.data == video
        assert everything.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    # A range that holds only if the file is unchanged: nothing here can say it is, so all of it.
    with assessor.get(url, headers={"Range": "bytes=0-9", "If-Range": '"abc"'}) as checked:
        assert checked.status_code == 200 and len(checked.data) == size
    with assessor.get(url, headers={"Range": f"bytes=2000-{size + 50}"}) as clipped:
        assert clipped.data == video[2000:]
        assert clipped.headers["Content-Range"] == f"bytes 2000-{size - 1}/{size}"
    with assessor.get(url, headers={"Range": "bytes=2300-"}) as rest:
        assert rest.data == video[2300:] and "no-store" in rest.headers["Cache-Control"]
    with assessor.get(url, headers={"Range": f"bytes={size}-"}) as past:
        assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{size}"
    # Several ranges at once, or a header that is not a byte range: the whole video.
    for header in ("bytes=0-1,5-6", "pages=1-2"):
        with assessor.get(url, headers={"Range": header}) as answer:
            assert answer.status_code == 200 and answer.data == video


def test_no_second_video_while_one_waits(app, client):
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "a.mp4")
    _upload(client, slug, MP4, "b.mp4")
    with app.app_context():
        assert _count() == 1


def test_students_cannot_stream_a_video(app, client):
    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "a.mp4")
    with app.app_context():
        submission_id = db.session.scalar(select(PracticalSubmission.id))
    assert client.get(f"/admin/assessments/{submission_id}/video").status_code == 403


def test_the_assessors_sidebar_links_only_to_what_they_may_open(app, client):
    import re

    assessor = _assessor_client(app)
    page = assessor.get("/admin/assessments/")
    assert page.status_code == 200
    side = page.text.split('class="admin-side"', 1)[1].split("</aside>", 1)[0]
    links = re.findall(r'href="([^"]+)"', side)
    assert links and 'href="/admin/"' not in side  # the dashboard is for admins
    for link in links:
        assert assessor.get(link).status_code == 200, link


def test_a_member_the_program_cannot_certify_cannot_send_a_video(app, client):
    # As for the exam: their video would only take an assessor's time.
    slug, user_id = _setup(app, professions=["chiropractor"])  # the member is a massage therapist
    with app.app_context():
        support.sign_in_directly(client, user_id)
    page = client.get(f"/programs/{slug}").text
    assert 'name="video"' not in page and "The practical opens to members" in page
    response = _upload(client, slug, MP4, "me.mp4")
    assert response.status_code == 302
    with app.app_context():
        assert _count() == 0
    page = client.get(f"/programs/{slug}")
    refused = [m for m in flashes(page) if m.startswith("The video was not accepted")]
    assert len(refused) == 1 and "open to chiropractors only" in refused[0]
    # Said as the site's other refusals are: a sentence is not glued on after a colon.
    assert not re.match(r"The video was not accepted:\s+[A-Z]", refused[0]), refused[0]


def test_marks_made_on_a_rubric_changed_since_are_not_recorded_against_the_new_one(app, client):
    import re

    from campus.programs.models import Program

    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "clip.mp4")
    assessor = _assessor_client(app)
    with app.app_context():
        submission_id = db.session.scalar(select(PracticalSubmission.id))
    page = assessor.get(f"/admin/assessments/{submission_id}/").text
    # The rubric the page showed, as its form sends it back.
    shown = dict(re.findall(r'<input[^>]*name="(rubric)"[^>]*value="([^"]*)"', page))
    with app.app_context():
        # An admin puts a criterion first while the assessor watches the video.
        program = db.session.scalar(select(Program).where(Program.slug == slug))
        program.rubric = "Screens for contraindications\nFinds the point\nSafe pressure"
        db.session.commit()
    # Ticked against "Finds the point" (met) and "Safe pressure" (not met), the marks landed
    # on "Screens for contraindications" and "Finds the point", and the candidate was told so.
    response = support.post_form(
        assessor,
        f"/admin/assessments/{submission_id}/",
        {**shown, "decision": "return", "criterion-0": "met", "comments": "Press gently."},
        follow_redirects=True,
    )
    with app.app_context():
        submission = db.session.get(PracticalSubmission, submission_id)
        assert submission.status == "submitted", submission.rubric_marks
    assert any("rubric changed" in m for m in flashes(response)), flashes(response)
    assert support.outbox(app) == []


def test_a_candidate_whose_license_ran_out_still_reads_why_their_video_was_returned(app, client):
    from datetime import timedelta

    from campus.models.base import utcnow
    from campus.programs.models import Program
    from tests.licenses.helpers import add_license

    slug, user_id = _setup(app, license_required=True)
    with app.app_context():
        program = db.session.scalar(select(Program).where(Program.slug == slug))
        add_license(user_id, expires_on=utcnow().date() - timedelta(days=1))
        db.session.add(
            PracticalSubmission(
                program_id=program.id,
                user_id=user_id,
                storage_key="programs/practicals/x.mp4",
                filename="x.mp4",
                content_type="video/mp4",
                size_bytes=10,
                status="returned",
                reviewed_at=utcnow(),
                comments="Film closer to the muscle.",
            )
        )
        db.session.commit()
        support.sign_in_directly(client, user_id)
    page = client.get(f"/programs/{slug}").text
    # No new video until the license is current again, but what to improve stays in view.
    assert 'name="video"' not in page and "The practical opens to members" in page
    assert "Film closer to the muscle." in page


def test_a_return_on_a_retired_program_says_so_to_the_assessor_and_the_candidate(app, client):
    from campus.programs.models import Program

    slug, user_id = _setup(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "first.mp4")
    with app.app_context():
        # Retired (unpublished) while the video waited for review.
        db.session.scalar(select(Program).where(Program.slug == slug)).published = False
        db.session.commit()
        submission_id = db.session.scalar(select(PracticalSubmission.id))
    # While it waits the candidate still sees the page, told the program is retired, with no
    # upload form: only new videos need a published program.
    waiting = client.get(f"/programs/{slug}")
    assert waiting.status_code == 200 and "This program is retired" in waiting.text
    assert 'name="video"' not in waiting.text
    assessor = _assessor_client(app)
    page = assessor.get(f"/admin/assessments/{submission_id}/").text
    assert "no longer offered" in page and "cannot send another video" in page
    support.post_form(
        assessor,
        f"/admin/assessments/{submission_id}/",
        {"decision": "return", "criterion-0": "met", "comments": "Film closer to the muscle."},
    )
    [mail] = support.outbox(app)
    body = support.body_of(mail)
    assert "\n\n\n" not in body
    assert "Film closer to the muscle." in body
    # Not told to upload again on a page that is a 404 to them.
    assert "upload a new video" not in body and f"/programs/{slug}" not in body
    assert "no longer offered" in body and app.config["PROVIDER_EMAIL"] in body
    # Returned, nothing of theirs goes on in it: the page is gone, as for anyone else.
    assert client.get(f"/programs/{slug}").status_code == 404


def test_a_pass_on_a_retired_program_still_earns_the_credential(app, client):
    from campus.programs import actions
    from campus.programs.models import Credential, Program
    from tests.programs.helpers import candidate, right_answers

    with app.app_context():
        program, courses = ready_program(
            practical_required=True, practical_techniques="Pin", rubric="Safe"
        )
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        actions.submit_exam(user, sitting, right_answers(sitting))
        db.session.commit()
        slug, user_id = program.slug, user.id
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "first.mp4")
    with app.app_context():
        db.session.scalar(select(Program).where(Program.slug == slug)).published = False
        db.session.commit()
        submission_id = db.session.scalar(select(PracticalSubmission.id))
    support.post_form(
        _assessor_client(app),
        f"/admin/assessments/{submission_id}/",
        {"decision": "pass", "criterion-0": "met"},
    )
    with app.app_context():
        assert db.session.scalar(select(Credential.status)) == "issued"
    # The link in the email leads to the page the holder of a retired program still sees.
    assert client.get(f"/programs/{slug}").status_code == 200


def test_a_pass_on_a_retired_program_without_its_exam_promises_no_credential(app, client):
    from campus.programs.models import Credential, Program

    slug, user_id = _setup(app)  # never sat the exam, which a retired program no longer starts
    with app.app_context():
        support.sign_in_directly(client, user_id)
    _upload(client, slug, MP4, "first.mp4")
    with app.app_context():
        db.session.scalar(select(Program).where(Program.slug == slug)).published = False
        db.session.commit()
        submission_id = db.session.scalar(select(PracticalSubmission.id))
    assessor = _assessor_client(app)
    page = assessor.get(f"/admin/assessments/{submission_id}/").text
    # Told before deciding that a pass earns this candidate nothing, not that it earns it all.
    assert "A pass still earns the credential" not in page
    assert "has not passed its exam" in page and "earns no credential" in page
    support.post_form(
        assessor,
        f"/admin/assessments/{submission_id}/",
        {"decision": "pass", "criterion-0": "met", "criterion-1": "met"},
    )
    with app.app_context():
        assert db.session.scalar(select(Credential.id)) is None
    assert client.get(f"/programs/{slug}").status_code == 404
    [mail] = support.outbox(app)
    body = support.body_of(mail)
    # No link to a page that is a 404 to them; what happens now, and whom to ask.
    assert f"/programs/{slug}" not in body and "\n\n\n" not in body
    assert "no longer offered" in body and "exam" in body
    assert app.config["PROVIDER_EMAIL"] in body
