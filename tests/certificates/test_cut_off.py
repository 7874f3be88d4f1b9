"""A certificate whose drawing kills its worker is given up after a few tries, not forever."""

from __future__ import annotations

from tests.admin import helpers
from tests.certificates.helpers import certificate_of, student
from tests.learning.helpers import make_course


class _WorkerKilled(BaseException):
    """What a task sees of its worker dying mid-run: nothing after it runs, nothing commits."""


def _completed_quietly(app) -> tuple[int, int]:
    """(user id, enrollment id) of a completion whose certificate task was never sent."""
    from campus.learning.signals import enrollment_evaluated
    from tests.certificates.helpers import complete_course

    with app.app_context():
        course = make_course("cut-off")
        user_id = student().id
        with enrollment_evaluated.muted():
            enrollment_id = complete_course(user_id, course)
    return user_id, enrollment_id


def _run_killed(app, enrollment_id: int) -> None:
    """One delivery of the issuing task whose worker dies while it draws."""
    from campus.certificates.tasks import issue_certificate
    from campus.extensions import db

    with app.app_context():
        try:
            issue_certificate.run(enrollment_id)
        except _WorkerKilled:
            db.session.rollback()  # the dead worker's transaction ends with it
        finally:
            db.session.remove()


def _state(app, user_id: int) -> tuple[str, int, str | None]:
    with app.app_context():
        cert = certificate_of(user_id)
        return cert.status, cert.cut_off_tries, cert.last_error


def test_a_certificate_whose_drawing_kills_its_worker_is_left_failed_for_an_admin(
    app, client, monkeypatch
):
    from campus.certificates import services
    from campus.certificates.tasks import sweep_certificates

    app.config["CERTIFICATE_SWEEP_AFTER"] = 0
    limit = app.config["CERTIFICATE_MAX_CUT_OFF_TRIES"]
    user_id, enrollment_id = _completed_quietly(app)
    drawn = []

    def crash(certificate, **_kwargs):
        drawn.append(certificate.id)
        raise _WorkerKilled

    monkeypatch.setattr(services, "render", crash)
    for tries in range(1, limit + 1):
        _run_killed(app, enrollment_id)
        assert _state(app, user_id)[:2] == ("pending", tries)  # each try counted before drawing
    assert len(drawn) == limit

    _run_killed(app, enrollment_id)  # its message again, or the sweep's
    status, _tries, error = _state(app, user_id)
    assert len(drawn) == limit  # not drawn again: no worker killed
    assert status == "failed" and f"cut off {limit} times" in error
    assert sweep_certificates.apply().get() == 0  # never sent again
    _run_killed(app, enrollment_id)  # a late copy changes nothing
    assert len(drawn) == limit and _state(app, user_id)[0] == "failed"

    with app.app_context():
        from sqlalchemy import select

        from campus.audit import AuditEntry
        from campus.extensions import db

        cert_id = certificate_of(user_id).id
        assert [e.kind for e in certificate_of(user_id).events][-1] == "failed"
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "certificate_given_up")
        ).all()
        assert entry.object_id == str(cert_id) and f"cut off {limit} times" in entry.summary
    from tests import support

    with app.app_context():
        email = certificate_of(user_id).user.email
    own = app.test_client()
    support.login(own, email)
    page = own.get("/certificates/").get_data(as_text=True)
    # Its student is not told it is being retried: it waits for the staff.
    assert "retried automatically" not in page and "Delayed, retrying" not in page
    assert "our staff" in page

    helpers.sign_in_admin(app, client)
    details = client.get(f"/admin/certificates/details/?id={cert_id}").get_data(as_text=True)
    assert f"cut off {limit} times" in details and "Reissue with a new code" in details

    # The admin's reissue starts it afresh, with every try again.
    monkeypatch.undo()
    app.config["CERTIFICATE_SWEEP_AFTER"] = 0
    with app.app_context():
        code = certificate_of(user_id).code
    result = app.test_cli_runner().invoke(
        args=["certificates", "reissue", code, "--reason", "Drawing fixed"]
    )
    assert result.exit_code == 0, result.output
    assert _state(app, user_id) == ("issued", 0, None)


def test_failing_tries_are_retried_without_counting_as_cut_off(app, monkeypatch):
    from campus.certificates import services
    from campus.certificates.tasks import issue_certificate, sweep_certificates

    app.config["CERTIFICATE_SWEEP_AFTER"] = 0
    limit = app.config["CERTIFICATE_MAX_CUT_OFF_TRIES"]
    user_id, enrollment_id = _completed_quietly(app)
    drawing = services.render

    def fail(certificate, **_kwargs):
        raise OSError("font cache unreadable")

    monkeypatch.setattr(services, "render", fail)
    for _ in range(limit + 1):  # each run retries six times more
        assert issue_certificate.apply(args=[enrollment_id]).get() == "failed"
    status, tries, error = _state(app, user_id)
    assert (status, tries) == ("failed", 0) and "font cache unreadable" in error

    def crash(certificate, **_kwargs):
        raise _WorkerKilled

    # One try cut off among them still leaves the rest.
    monkeypatch.setattr(services, "render", crash)
    _run_killed(app, enrollment_id)
    assert _state(app, user_id)[:2] == ("failed", 1)
    monkeypatch.setattr(services, "render", drawing)
    assert sweep_certificates.apply().get() == 1  # failed ones are still swept, as documented
    assert _state(app, user_id) == ("issued", 0, None)


def test_a_certificate_given_up_does_not_keep_reloading_its_students_page(app):
    from campus.extensions import db
    from tests import support
    from tests.certificates.helpers import completed_student

    s = completed_student(app)
    with app.app_context():
        cert = certificate_of(s.user_id)
        own = app.test_client()
        support.login(own, cert.user.email)
        # Failed with tries left: retried within minutes, so the page watches for it.
        cert.status = "failed"
        db.session.commit()
    assert 'http-equiv="refresh"' in own.get("/certificates/").get_data(as_text=True)
    with app.app_context():
        cert = certificate_of(s.user_id)
        cert.cut_off_tries = app.config["CERTIFICATE_MAX_CUT_OFF_TRIES"] + 1
        db.session.commit()
    page = own.get("/certificates/").get_data(as_text=True)
    # Nothing changes until the staff reissue it: no reload every 3 seconds for days.
    assert "our staff" in page and 'http-equiv="refresh"' not in page


def test_a_try_that_failed_before_it_was_counted_takes_no_cut_off_back(app, monkeypatch):
    from campus.certificates import services, tries
    from campus.certificates.tasks import issue_certificate
    from campus.extensions import db

    user_id, enrollment_id = _completed_quietly(app)
    with app.app_context():
        services.ensure_pending(enrollment_id)
        certificate_of(user_id).cut_off_tries = 3  # three drawings killed their worker
        db.session.commit()

    def unreachable(_certificate_id):
        raise OSError("the database went away")  # before the try was counted

    monkeypatch.setattr(tries, "start", unreachable)
    assert issue_certificate.apply(args=[enrollment_id]).get() == "failed"
    status, cut_off, error = _state(app, user_id)
    # Those seven runs never drew: the three tries cut off still count, none was taken back.
    assert (status, cut_off) == ("failed", 3) and "database went away" in error


def test_the_api_tells_a_certificate_given_up_from_one_being_retried(app):
    # Both said only "failed": a client could not tell "wait, it is retried" from "given up,
    # ask the provider". status keeps its meaning; given_up says which.
    from campus.extensions import db
    from tests import support
    from tests.certificates.helpers import completed_student

    s = completed_student(app)
    own = app.test_client()
    support.login(own, s.email)
    with app.app_context():
        code = certificate_of(s.user_id).code

    def shown() -> tuple[str, bool]:
        listed = own.get("/api/v1/certificates").get_json()["certificates"][0]
        one = own.get(f"/api/v1/certificates/{code}").get_json()
        assert (one["status"], one["given_up"]) == (listed["status"], listed["given_up"])
        return one["status"], one["given_up"]

    assert shown() == ("issued", False)
    with app.app_context():
        certificate_of(s.user_id).status = "failed"
        db.session.commit()
    assert shown() == ("failed", False)  # tries left: retried
    with app.app_context():
        cert = certificate_of(s.user_id)
        cert.cut_off_tries = app.config["CERTIFICATE_MAX_CUT_OFF_TRIES"] + 1
        db.session.commit()
    assert shown() == ("failed", True)
    document = own.get("/api/v1/openapi.json").get_json()
    field = document["components"]["schemas"]["Certificate"]["properties"]["given_up"]
    assert field["type"] == "boolean" and "reissue" in field["description"]
