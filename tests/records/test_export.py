"""A member's data archive: asked for once at a time, built by the worker, linked by email."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import time_machine
from pypdf import PdfReader

from tests import support
from tests.records.helpers import full_member


def _archive_link(app, email: str) -> str:
    messages = [m for m in support.outbox(app) if m["To"] == email and "archive" in m["Subject"]]
    assert len(messages) == 1, [m["Subject"] for m in support.outbox(app)]
    return support.link_in(messages[0])


def _archive(client, link: str) -> zipfile.ZipFile:
    """Download the archive (a streamed response, closed once read) and open it."""
    with client.get(link) as response:
        return zipfile.ZipFile(io.BytesIO(response.data))


def _pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_member_downloads_an_archive_with_every_part(app, client):
    m = full_member(app)
    support.login(client, m.email)
    response = support.post_form(client, "/account/data/export")
    assert response.status_code == 302
    link = _archive_link(app, m.email)
    with client.get(link) as download:
        assert download.status_code == 200
        assert download.mimetype == "application/zip"
        assert "no-store" in download.headers["Cache-Control"]
        body = download.data
    archive = zipfile.ZipFile(io.BytesIO(body))
    names = set(archive.namelist())
    assert {
        "README.txt",
        "profile.json",
        "licenses.json",
        "enrollments.json",
        "quiz_attempts.json",
        "evaluations.json",
        "seat_time.json",
        "certificates.json",
        f"certificates/{m.code}.pdf",
        "transcript.pdf",
        "payments.json",
        "consents.json",
        "programs.json",
        "directory.json",
        "security.json",
        "emails.json",
    } == names

    def part(name):
        return json.loads(archive.read(name))

    profile = part("profile.json")
    assert profile["email"] == m.email and profile["full_name"] == "Casey Moreno"
    assert "password_hash" not in profile and "totp_secret" not in profile
    [license_] = part("licenses.json")
    assert (license_["profession"], license_["number"], license_["jurisdiction_code"]) == (
        "Massage therapist",
        "MT-004512",
        "Maine",
    )
    [enrollment] = part("enrollments.json")
    assert enrollment["course_slug"] == "hip-basics" and enrollment["completed_at"]
    assert len(enrollment["lessons_completed"]) == len(m.course.lesson_ids)
    [attempt] = part("quiz_attempts.json")
    assert attempt["passed"] is True and attempt["score_percent"] == 100
    [evaluation] = part("evaluations.json")
    assert evaluation["comments"] == "Clear and practical." and evaluation["attestation"]
    [seat] = part("seat_time.json")
    assert seat["total_seconds"] == 1800 and seat["lessons"][0]["seconds"] == 1800
    [certificate] = part("certificates.json")
    assert certificate["code"] == m.code
    assert certificate["printed"]["participant_name"] == "Casey Moreno"
    assert certificate["file"] == f"certificates/{m.code}.pdf"
    pdf = archive.read(f"certificates/{m.code}.pdf")
    assert pdf.startswith(b"%PDF") and "Casey Moreno" in _pdf_text(pdf)
    transcript = _pdf_text(archive.read("transcript.pdf"))
    assert m.code in transcript
    payments = part("payments.json")
    assert [s["status"] for s in payments["subscriptions"]] == ["active"]
    [consent] = part("consents.json")
    assert consent["marketing_email"] is True and consent["download"] == "Trigger point guide"


def test_the_archive_holds_the_members_programs_and_directory_profile(app, client):
    """Credentials, exam sittings, practicals and the public profile are theirs too."""
    from datetime import UTC, datetime

    from campus.accounts.models import User
    from campus.extensions import db
    from campus.programs.models import ExamSitting, PracticalSubmission
    from tests.directory.helpers import make_profile, message_fields
    from tests.programs.helpers import make_credential, make_program

    m = full_member(app)
    with app.app_context():
        user = db.session.get_one(User, m.user_id)
        program = make_program(slug="trigger-point-certified", practical_required=True)
        program_id, title = program.id, program.title
        code = make_credential(m.user_id, program).code
        db.session.add(
            ExamSitting(
                program_id=program_id,
                user_id=m.user_id,
                number=1,
                deadline_at=datetime(2026, 5, 1, 11, tzinfo=UTC),
                closed_at=datetime(2026, 5, 1, 10, 40, tzinfo=UTC),
                closed_reason="submitted",
                layout=[],
                pass_mark=80,
                score_percent=90,
                passed=True,
            )
        )
        db.session.add(
            PracticalSubmission(
                program_id=program_id,
                user_id=m.user_id,
                storage_key="programs/practicals/mine.mp4",
                filename="mine.mp4",
                content_type="video/mp4",
                size_bytes=4,
                status="returned",
                reviewed_at=datetime(2026, 5, 2, tzinfo=UTC),
                comments="Film the hands closer.",
            )
        )
        db.session.commit()
        profile = make_profile("04101", user=user, street="12 Lantern Lane", phone="(207) 555-0199")
        profile_id, slug = profile.id, profile.slug
    sent = support.post_form(
        app.test_client(), f"/directory/{slug}/contact", message_fields(app, profile_id)
    )
    assert sent.status_code == 302
    support.login(client, m.email)
    support.post_form(client, "/account/data/export")
    archive = _archive(client, _archive_link(app, m.email))

    programs = json.loads(archive.read("programs.json"))
    [credential] = programs["credentials"]
    assert credential["code"] == code and credential["program"] == title
    [sitting] = programs["exam_sittings"]
    assert (sitting["score_percent"], sitting["passed"]) == (90, True)
    [practical] = programs["practicals"]
    assert practical["status"] == "returned" and practical["comments"] == "Film the hands closer."
    directory = json.loads(archive.read("directory.json"))
    assert (directory["street"], directory["phone"]) == ("12 Lantern Lane", "(207) 555-0199")
    assert directory["messages_received"] == 1
    # The client who wrote is someone else: their address is not the member's data to take.
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert message_fields(app, profile_id)["email"].encode() not in everything


def test_the_archive_holds_the_members_sign_ins_api_tokens_and_emails(app, client):
    """Devices and addresses they signed in from, their tokens' names, what we mailed them."""
    from campus.accounts import tokens
    from campus.accounts.models import User
    from campus.extensions import db

    m = full_member(app)
    with app.app_context():
        tokens.create_token(
            db.session.get_one(User, m.user_id),
            "laptop script",
            "read",
            "30",
            support.DEFAULT_PASSWORD,
        )
        db.session.commit()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    support.login(client, m.email)
    support.post_form(client, "/account/data/export")
    archive = _archive(client, _archive_link(app, m.email))

    security = json.loads(archive.read("security.json"))
    assert "198.51.100.23" in [s["ip_address"] for s in security["sessions"]]
    [token] = security["api_tokens"]
    assert (token["name"], token["scope"]) == ("laptop script", "read")
    assert "token_hash" not in token
    [ready] = [e for e in json.loads(archive.read("emails.json")) if "ready" in e["subject"]]
    assert ready["subject"] == "Your CE certificate is ready" and ready["status"] == "sent"


def test_one_request_at_a_time_and_not_again_too_soon(app, client):
    m = full_member(app)
    support.login(client, m.email)
    support.post_form(client, "/account/data/export")
    again = support.post_form(client, "/account/data/export", follow_redirects=True)
    assert "You can ask again in" in again.get_data(as_text=True)
    with app.app_context():
        from sqlalchemy import func, select

        from campus.extensions import db
        from campus.records.models import DataExport

        assert db.session.scalar(select(func.count()).select_from(DataExport)) == 1


def test_two_clicks_at_once_ask_for_one_archive(app, monkeypatch):
    from sqlalchemy import func, select

    from campus.extensions import db
    from campus.records import services
    from campus.records.models import DataExport
    from tests.learning.test_concurrency import _race

    m = full_member(app)
    queued: list[int] = []
    monkeypatch.setattr(services, "enqueue_after_commit", lambda name, export_id: queued.append(1))
    # Each click has looked for an archive under way before either asks for one.
    support.hold_in_pairs(monkeypatch, services, "latest_export")

    def ask() -> int:
        return services.request_export(db.session.get_one(services.User, m.user_id)).id

    results, errors = _race(app, 2, ask)
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], services.RecordsError)
    assert len(queued) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataExport)) == 1


def test_a_pending_archive_blocks_a_second_request(app, client):
    m = full_member(app)
    support.login(client, m.email)
    with app.app_context():
        from datetime import UTC, datetime

        from campus.extensions import db
        from campus.records.models import DataExport

        # Asked for long ago and still not built (a worker outage): still one at a time.
        long_ago = datetime(2020, 1, 1, tzinfo=UTC)
        db.session.add(DataExport(user_id=m.user_id, requested_at=long_ago))
        db.session.commit()
    page = support.post_form(client, "/account/data/export", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Your archive is being prepared" in html
    assert "Prepare a new archive" not in html
    # The sweep finds the lost build and runs it again; the link goes out once.
    with app.app_context():
        from campus.records.tasks import sweep_exports

        sweep_exports.apply()
        sweep_exports.apply()
    _archive_link(app, m.email)
    assert "Download the archive" in client.get("/account/data").get_data(as_text=True)


def _requested_export(app, monkeypatch) -> tuple[int, int]:
    """(member id, archive id) of an archive asked for whose build has not run."""
    from campus.extensions import db
    from campus.records import services

    m = full_member(app)
    with app.app_context():
        user = db.session.get_one(services.User, m.user_id)
        monkeypatch.setattr(services, "enqueue_after_commit", lambda *args: None)  # run below
        export_id = services.request_export(user).id
        db.session.commit()
    return m.user_id, export_id


def test_a_build_run_again_after_a_kill_leaves_one_file(app, monkeypatch):
    from sqlalchemy import select

    from campus.extensions import db
    from campus.records import services
    from campus.records.models import DataExport
    from campus.records.tasks import build_export
    from campus.storage import get_storage

    user_id, export_id = _requested_export(app, monkeypatch)
    with app.app_context():
        # A worker killed after storing the file, before its commit: the message comes back.
        assert services.build_export(export_id) is True
        db.session.rollback()
        assert build_export.apply(args=[export_id]).get() is True
        export = db.session.scalars(select(DataExport)).one()
        folder = get_storage().root / "exports" / str(user_id)
        assert [p.name for p in folder.iterdir()] == [export.storage_key.rsplit("/", 1)[1]]


def test_a_failed_build_leaves_no_file(app, monkeypatch):
    from sqlalchemy import select

    from campus.extensions import db
    from campus.records import services
    from campus.records.models import DataExport
    from campus.storage import get_storage

    _user_id, export_id = _requested_export(app, monkeypatch)
    with app.app_context():
        key = db.session.get_one(DataExport, export_id).storage_key
        get_storage().save(key, b"half an archive")  # stored, then the build failed
        services.record_failure(export_id, RuntimeError("mail server down"))
        db.session.commit()
        export = db.session.scalars(select(DataExport)).one()
        assert export.status == "failed" and export.storage_key is None
        assert not get_storage().exists(key)


def test_the_link_works_only_for_its_owner_signed_in(app, client):
    m = full_member(app)
    support.login(client, m.email)
    support.post_form(client, "/account/data/export")
    link = _archive_link(app, m.email)
    support.post_form(client, "/logout")
    with client.get(link) as anonymous:
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    with app.app_context():
        other = support.create_user().email
    support.login(client, other)
    with client.get(link) as stranger:
        assert stranger.status_code == 404
        assert b"PK" not in stranger.data[:2]


def test_the_link_expires_and_the_sweep_removes_the_file(app, client):
    m = full_member(app)
    support.login(client, m.email)
    support.post_form(client, "/account/data/export")
    link = _archive_link(app, m.email)
    with app.app_context():
        from sqlalchemy import select

        from campus.extensions import db
        from campus.models.base import utcnow
        from campus.records.models import DataExport
        from campus.records.tasks import sweep_exports
        from campus.storage import get_storage

        export = db.session.scalars(select(DataExport)).one()
        key = export.storage_key
        assert get_storage().exists(key) and key.startswith(f"exports/{m.user_id}/")
        later = utcnow() + timedelta(days=7, minutes=1)
    with time_machine.travel(later, tick=False):
        support.login(client, m.email)  # the session ended long ago; the link needs a new one
        with client.get(link) as expired:
            assert expired.status_code == 410
            assert "expired" in expired.get_data(as_text=True)
        with app.app_context():
            assert sweep_exports.apply().get() == 1
            assert sweep_exports.apply().get() == 0  # twice is harmless
            assert not get_storage().exists(key)
            db.session.expire_all()
            assert db.session.scalars(select(DataExport)).one().status == "expired"


def test_the_link_works_until_the_moment_the_email_names(app, client):
    # "Works until December 10" reads as the whole of that day: a member who opens it that
    # evening must not find it expired.
    import re
    from datetime import UTC, datetime, time

    m = full_member(app)
    support.login(client, m.email)
    support.post_form(client, "/account/data/export")
    [message] = [x for x in support.outbox(app) if "archive" in x["Subject"]]
    stated = re.search(r"works until (.+?);", support.body_of(message)).group(1)
    try:
        last = datetime.strptime(stated, "%B %d, %Y at %H:%M %Z").replace(tzinfo=UTC)
    except ValueError:  # a date alone promises the whole day
        day = datetime.strptime(stated, "%B %d, %Y").date()
        last = datetime.combine(day, time(23, 59), tzinfo=UTC)
    link = support.link_in(message)
    with time_machine.travel(last - timedelta(minutes=1), tick=False):
        support.login(client, m.email)
        with client.get(link) as download:
            assert download.status_code == 200
    with time_machine.travel(last + timedelta(minutes=1), tick=False), client.get(link) as gone:
        assert gone.status_code == 410


def test_the_archive_holds_what_is_kept_under_the_members_earlier_address(app, client):
    """A deletion takes it as theirs (tests/records/test_deletion.py); so does the archive."""
    m = full_member(app)  # a download lead and a "certificate ready" email to this address
    support.login(client, m.email)
    assert support.post_form(
        client, "/account/email", {"email": "new@example.com", "password": support.DEFAULT_PASSWORD}
    ).status_code in (200, 302)
    [link] = [sent for sent in support.outbox(app) if sent["To"] == "new@example.com"]
    assert support.confirm_link(client, support.link_in(link)).status_code == 302
    support.post_form(client, "/account/data/export")
    archive = _archive(client, _archive_link(app, "new@example.com"))
    [consent] = json.loads(archive.read("consents.json"))
    assert consent["download"] == "Trigger point guide" and consent["marketing_email"] is True
    subjects = [e["subject"] for e in json.loads(archive.read("emails.json"))]
    assert "Your CE certificate is ready" in subjects


def test_the_request_and_the_download_are_audited(app, client):
    m = full_member(app)
    support.login(client, m.email)
    support.post_form(client, "/account/data/export")
    with client.get(_archive_link(app, m.email)) as response:
        assert response.status_code == 200
    with app.app_context():
        from sqlalchemy import select

        from campus.audit import AuditEntry
        from campus.extensions import db

        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"data_export_requested", "data_export_downloaded"} <= actions


def test_the_data_page_shows_the_ready_archive(app, client):
    m = full_member(app)
    support.login(client, m.email)
    page = client.get("/account/data").get_data(as_text=True)
    assert "Download my data" in page
    # Nothing was prepared yet: not "a new archive", and the card's one action stands out.
    assert '<button type="submit" class="button">Prepare my archive</button>' in page
    assert "Prepare a new archive" not in page
    # The page says what the archive holds: each part added to it is named there too.
    for part in (
        "programs and credentials",
        "directory profile",
        "sign-ins",
        "API tokens",
        "emails we sent you",
    ):
        assert part in page, part
    support.post_form(client, "/account/data/export")
    page = client.get("/account/data").get_data(as_text=True)
    assert "Ready" in page and "Download the archive" in page


def test_a_build_that_gives_up_tells_the_member_once(app, monkeypatch):
    from campus.records import services
    from campus.records.tasks import build_export

    user_id, export_id = _requested_export(app, monkeypatch)

    def broken(user):
        raise OSError("storage unreachable")

    monkeypatch.setattr(services, "build_archive", broken)
    for _ in range(2):  # given up, then the same message delivered again
        assert build_export.apply(args=[export_id]).get() is False
    with app.app_context():
        from campus.accounts.models import User
        from campus.extensions import db

        email = db.session.get_one(User, user_id).email
    # The page promised an email: it comes, says the archive failed, and links to ask again.
    [message] = [m for m in support.outbox(app) if m["To"] == email and "archive" in m["Subject"]]
    assert "could not be prepared" in message["Subject"]
    assert support.link_in(message).endswith("/account/data")


def test_an_archive_that_could_not_be_prepared_can_be_asked_for_again_at_once(
    app, client, monkeypatch
):
    from sqlalchemy import select

    from campus.extensions import db
    from campus.records import services
    from campus.records.models import DataExport

    m = full_member(app)
    support.login(client, m.email)

    def broken(user):
        raise OSError("storage unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(services, "build_archive", broken)
        support.post_form(client, "/account/data/export")
    [failed] = [msg for msg in support.outbox(app) if "could not be prepared" in msg["Subject"]]
    # The email says to ask again: asking again is not refused as "too soon".
    assert "Please ask for it again" in support.body_of(failed)
    again = support.post_form(client, "/account/data/export", follow_redirects=True)
    assert "We are preparing your archive" in again.get_data(as_text=True)
    with app.app_context():
        statuses = db.session.scalars(select(DataExport.status).order_by(DataExport.id)).all()
    assert statuses == ["failed", "ready"]
    assert "Your Campus data archive is ready" in [msg["Subject"] for msg in support.outbox(app)]


def test_the_archived_transcript_lists_a_first_certificate_printed_a_day_earlier(app, pacific):
    # Finished at 10 p.m. on December 31 in California and printed that day; the provider has
    # moved its calendar to New York since, where that moment is already January 1.
    from datetime import UTC, datetime

    from campus.accounts.models import User
    from campus.extensions import db
    from campus.records.archive import build_archive

    with time_machine.travel(datetime(2027, 1, 1, 6, 0, tzinfo=UTC), tick=False):
        m = full_member(app)
    app.config["TIME_ZONE"] = "America/New_York"
    with app.app_context():
        archive = zipfile.ZipFile(io.BytesIO(build_archive(db.session.get_one(User, m.user_id))))
    [certificate] = json.loads(archive.read("certificates.json"))
    assert certificate["printed"]["completion_date"] == "2026-12-31"
    assert m.code in _pdf_text(archive.read("transcript.pdf"))


def test_an_archive_missing_from_storage_is_a_404_and_no_download_is_logged(app, client):
    """A file the store lost (or a host that never saw it) is told as such, never a 500."""
    from sqlalchemy import select

    from campus.audit import AuditEntry
    from campus.extensions import db
    from campus.records.models import DataExport
    from campus.storage import get_storage

    m = full_member(app)
    support.login(client, m.email)
    support.post_form(client, "/account/data/export")
    link = _archive_link(app, m.email)
    with app.app_context():
        get_storage().delete(db.session.scalars(select(DataExport)).one().storage_key)
    with client.get(link) as missing:
        assert missing.status_code == 404
        assert "Ask for a new archive" in missing.get_data(as_text=True)
    with app.app_context():
        assert "data_export_downloaded" not in set(db.session.scalars(select(AuditEntry.action)))


def test_the_archive_names_a_course_renamed_after_completion_as_its_certificate_does(app):
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.records.archive import build_archive
    from tests.certificates.helpers import edit_course

    m = full_member(app, title="Hip Release for LMTs")
    with app.app_context():
        edit_course(m.course.id, title="Hip Release, Second Edition")
        archive = zipfile.ZipFile(io.BytesIO(build_archive(db.session.get_one(User, m.user_id))))
    parts = ("enrollments.json", "quiz_attempts.json", "evaluations.json", "seat_time.json")
    titles = {row["course"] for part in parts for row in json.loads(archive.read(part))}
    assert titles == {"Hip Release for LMTs"}
    [certificate] = json.loads(archive.read("certificates.json"))
    assert certificate["printed"]["course_title"] == "Hip Release for LMTs"


class _WorkerKilled(BaseException):
    """What a task sees of its worker dying mid-run: nothing after it runs, nothing commits."""


def test_an_archive_whose_build_killed_its_worker_every_time_is_given_up(app, client, monkeypatch):
    from campus.extensions import db
    from campus.records import services
    from campus.records.models import DataExport
    from campus.records.tasks import build_export

    user_id, export_id = _requested_export(app, monkeypatch)

    def crash(_user):
        raise _WorkerKilled

    monkeypatch.setattr(services, "build_archive", crash)
    with app.app_context():
        for _ in range(services.MAX_BUILD_TRIES):
            try:
                build_export.run(export_id)
            except _WorkerKilled:
                db.session.rollback()  # the dead worker's transaction ends with it
        # Delivered once more (the broker's redelivery, or the sweep): it gives up, not builds.
        assert build_export.run(export_id) is False
        export = db.session.get_one(DataExport, export_id)
        assert export.status == "failed" and "cut off" in export.last_error
        email = db.session.get_one(services.User, user_id).email
    notices = [m["Subject"] for m in support.outbox(app) if m["To"] == email]
    assert [s for s in notices if "archive" in s] == [
        "Your Campus data archive could not be prepared"
    ]
