"""Campus on the S3 backend: certificates, lesson resources and free downloads go through the
bucket, stream back only past the access checks, and a failing store never half-issues."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests import support
from tests.certificates.helpers import certificate_of, completed_student
from tests.storage.s3 import LocalS3


@pytest.fixture
def s3_app(_database, s3_server: LocalS3, bucket: str):
    """An eager app whose files live in the test bucket (two attempts per S3 request)."""
    app = support.make_app(**s3_server.settings(bucket), STORAGE_S3_MAX_ATTEMPTS=2)
    try:
        yield app
    finally:
        support.clean_database(app)


class FailingPuts:
    """Make the first `failures` PutObject requests fail as a dropped connection would."""

    def __init__(self, app, failures: int) -> None:
        from campus.storage import get_storage

        self.failures, self.calls = failures, 0
        with app.app_context():
            client = get_storage().client  # type: ignore[attr-defined]
        client.meta.events.register("before-send.s3.PutObject", self)

    def __call__(self, request, **_kwargs):
        from botocore.exceptions import EndpointConnectionError

        self.calls += 1
        if self.calls <= self.failures:
            raise EndpointConnectionError(endpoint_url=request.url)
        return None


def test_an_issued_certificate_is_stored_in_the_bucket_and_streams_only_to_its_owner(
    s3_app, s3_server, bucket
):
    s = completed_student(s3_app)
    with s3_app.app_context():
        cert = certificate_of(s.user_id)
        code, key = cert.code, cert.storage_key
    assert cert.status == "issued" and key == f"certificates/{code}.pdf"
    stored = s3_server.keys(bucket)
    assert list(stored) == [f"campus/certificates/{code}.pdf"]
    assert not (s3_app.config["INSTANCE_PATH"] / "certificates").exists()  # nothing on disk
    owner = s3_app.test_client()
    support.login(owner, s.email)
    with owner.get(f"/certificates/{code}.pdf") as got:
        assert got.status_code == 200 and got.mimetype == "application/pdf"
        assert "no-store" in got.headers["Cache-Control"]
        assert int(got.headers["Content-Length"]) == len(stored[f"campus/certificates/{code}.pdf"])
        assert got.data == stored[f"campus/certificates/{code}.pdf"]
    assert PdfReader(io.BytesIO(got.data)).pages
    stranger = s3_app.test_client()
    with s3_app.app_context():
        other = support.create_user(email="other@example.com")
        support.sign_in_directly(stranger, other.id)
    assert stranger.get(f"/certificates/{code}.pdf").status_code == 404


def test_a_store_failing_mid_write_is_retried_and_the_certificate_is_issued_once(
    s3_app, s3_server, bucket
):
    """Five dropped PutObjects: botocore retries each once, the task retries twice more."""
    failing = FailingPuts(s3_app, failures=5)
    s = completed_student(s3_app)
    assert failing.calls == 6
    with s3_app.app_context():
        cert = certificate_of(s.user_id)
        kinds = [event.kind for event in cert.events]
        assert kinds == ["created", "failed", "failed", "issued"]
        assert "could not store" in cert.events[1].detail
        assert cert.status == "issued" and cert.attempts == 3
        key = cert.storage_key
    assert list(s3_server.keys(bucket)) == [f"campus/{key}"]
    assert len(support.outbox(s3_app)) == 1


def test_a_store_that_stays_down_leaves_a_failed_certificate_and_no_object(
    s3_app, s3_server, bucket
):
    from campus.certificates.tasks import sweep_certificates

    s3_app.config["CERTIFICATE_SWEEP_AFTER"] = 0
    failing = FailingPuts(s3_app, failures=10_000)
    s = completed_student(s3_app)
    with s3_app.app_context():
        cert = certificate_of(s.user_id)
        assert cert.status == "failed" and cert.storage_key is None  # never marked issued
        assert "could not store" in cert.last_error
        code = cert.code
    assert s3_server.keys(bucket) == {}
    client = s3_app.test_client()
    support.login(client, s.email)
    assert client.get(f"/certificates/{code}.pdf").status_code == 404
    assert support.outbox(s3_app) == []

    failing.failures = 0  # the store is back: the sweep issues it
    with s3_app.app_context():
        assert sweep_certificates.apply().get() == 1
        assert certificate_of(s.user_id).status == "issued"
    assert list(s3_server.keys(bucket)) == [f"campus/certificates/{code}.pdf"]


def test_lesson_resources_live_in_the_bucket_and_follow_the_lesson_rule(s3_app, s3_server, bucket):
    from tests.learning.helpers import make_course, make_reader

    with s3_app.app_context():
        from campus.extensions import db
        from campus.learning import services
        from campus.learning.models import Lesson

        course = make_course()
        lesson = db.session.get(Lesson, course.lesson_ids[0])
        item = services.add_resource(lesson, "Handout", "hand out.pdf", b"%PDF-1 x", "text/plain")
        db.session.commit()
        url = f"/courses/{course.slug}/lessons/{lesson.id}/resources/{item.id}"
        assert services.resource_bytes(item) == b"%PDF-1 x"
    assert list(s3_server.keys(bucket)) == [f"campus/{item.storage_key}"]
    assert item.storage_key.startswith(f"learning-resources/{lesson.id}/")
    free = s3_app.test_client()
    make_reader(s3_app, "free", free, course)
    assert free.get(url).status_code == 302  # no paid access: sent to the plans
    member = s3_app.test_client()
    make_reader(s3_app, "member", member, course)
    with member.get(url) as got:
        assert got.status_code == 200 and got.data == b"%PDF-1 x"
        assert "hand-out.pdf" in got.headers["Content-Disposition"]
    s3_server.client().delete_object(Bucket=bucket, Key=f"campus/{item.storage_key}")
    assert member.get(url).status_code == 404


@pytest.mark.parametrize("presign", [0, 120])
def test_the_free_guide_is_seeded_into_the_bucket_and_sent_past_its_link_check(
    s3_app, s3_server, bucket, presign
):
    import urllib.request

    from campus.content import downloads
    from campus.content.demo import GUIDE_FILE, GUIDE_SLUG, seed
    from campus.extensions import db

    s3_app.config["STORAGE_S3_PRESIGN_SECONDS"] = presign
    with s3_app.app_context():
        seed()
        db.session.commit()
        item = downloads.active_download(GUIDE_SLUG)
        link = f"/articles/downloads/{GUIDE_SLUG}/file/{downloads.download_token(item, 'a@b.c')}"
    guide = s3_server.keys(bucket)[f"campus/downloads/{GUIDE_FILE}"]
    assert guide.startswith(b"%PDF")
    client = s3_app.test_client()
    assert client.get(f"/articles/downloads/{GUIDE_SLUG}/file/forged").status_code == 400
    with client.get(link) as got:
        if presign:
            assert got.status_code == 303 and got.headers["Cache-Control"] == "private, no-store"
            assert f"X-Amz-Expires={presign}" in got.headers["Location"]
            with urllib.request.urlopen(got.headers["Location"], timeout=10) as answer:
                assert answer.read() == guide
        else:
            assert got.status_code == 200 and got.data == guide


class FailingGets:
    """Make every GetObject and HeadObject request fail as an unreachable store would."""

    def __init__(self, app) -> None:
        from campus.storage import get_storage

        with app.app_context():
            client = get_storage().client  # type: ignore[attr-defined]
        for operation in ("GetObject", "HeadObject"):
            client.meta.events.register(f"before-send.s3.{operation}", self)

    def __call__(self, request, **_kwargs):
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url=request.url)


def test_a_download_while_the_store_is_unreachable_is_a_503_to_try_again(s3_app):
    """Nothing is wrong with the request or the file: the member is told to try again soon."""
    s = completed_student(s3_app)
    with s3_app.app_context():
        code = certificate_of(s.user_id).code
    FailingGets(s3_app)
    client = s3_app.test_client()
    support.login(client, s.email)
    page = client.get(f"/certificates/{code}.pdf")
    assert page.status_code == 503
    assert "briefly unavailable" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]
