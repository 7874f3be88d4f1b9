"""Revoking a certificate whose reissue is still being drawn, retried or given up."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campus.extensions import db
from tests import support
from tests.certificates.helpers import certificate_of, code_of, completed_student


def _reissue_left(app, code: str, state: str, monkeypatch) -> str:
    """Reissue a certificate whose new PDF is not drawn (pending, failed or given up); new code."""
    from campus.certificates import actions

    with app.app_context():
        with monkeypatch.context() as patch:
            patch.setattr(actions, "enqueue_after_commit", lambda *args, **kwargs: None)
            certificate = actions.reissue(code, "Name misspelled", actor=None)
        if state == "given_up":
            certificate.status = "failed"
            certificate.cut_off_tries = app.config["CERTIFICATE_MAX_CUT_OFF_TRIES"] + 1
            certificate.last_error = "Drawing it was cut off 3 times"
        else:
            certificate.status = state
        db.session.commit()
        return certificate.code


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["certificates", *args])


def _hours(app, user_id: int) -> tuple:
    from campus.learning import credit

    with app.app_context():
        return credit.earned_hours(user_id), credit.earned_hours(user_id, certified=True)


@pytest.mark.parametrize("state", ["pending", "failed", "given_up"])
def test_a_certificate_being_reissued_is_revoked_at_once_everywhere(
    app, client, monkeypatch, state
):
    from campus.audit import AuditEntry
    from campus.certificates.services import verification_url

    s = completed_student(app, full_name="Jordan Smtih", title="Hip Basics")
    old = code_of(app, s.user_id)
    new = _reissue_left(app, old, state, monkeypatch)
    counted = _hours(app, s.user_id)
    assert counted[1] > 0  # the completion stands while the reissue is drawn

    result = _cli(app, "revoke", new, "--reason", "Fraud found")
    assert result.exit_code == 0, result.output

    with app.app_context():
        certificate = certificate_of(s.user_id)
        assert (certificate.status, certificate.revoked_reason) == ("revoked", "Fraud found")
        assert certificate.revoked_at is not None and not certificate.given_up
        assert certificate.events[-1].kind == "revoked"
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "revoke"))
        assert entry.summary == f"cli: {new}: revoke (Fraud found)"
        assert entry.before["status"] == ("failed" if state == "given_up" else state)
        assert entry.after["status"] == "revoked"
        old_id, new_id = verification_url(old), verification_url(new)
    assert _hours(app, s.user_id) == (0, 0)
    revoked = [
        m for m in support.outbox(app) if m["Subject"] == "Your certificate has been revoked"
    ]
    assert len(revoked) == 1

    # Both the code the holder's credential was signed under and the current one are revoked,
    # and neither says it was replaced: no replacement was ever issued.
    for code, signed_id in ((old, old_id), (new, new_id)):
        body = client.get(f"/verify/{code}/revocations.json").get_json()
        assert body["revokedCredentials"] == [{"id": signed_id, "revoked": True}], code
    page = client.get(f"/verify/{new}").get_data(as_text=True)
    assert "was revoked" in page and "is valid" not in page
    assert client.get(f"/verify/{new}.json").get_json()["status"] == "revoked"
    # The old code reads revoked too, naming no replacement: none was ever issued.
    assert client.get(f"/verify/{old}.json").get_json()["status"] == "revoked"

    support.login(client, s.email)
    transcript = client.get("/certificates/transcript.csv").get_data(as_text=True)
    assert "Hip Basics" not in transcript and old not in transcript
    listed = client.get("/api/v1/certificates").get_json()
    assert listed["total_ce_hours"] == 0
    assert listed["certificates"][0]["status"] == "revoked"


@pytest.mark.parametrize("state", ["pending", "failed", "given_up"])
def test_a_late_drawing_of_the_cancelled_reissue_leaves_it_revoked(app, client, monkeypatch, state):
    from campus.certificates.services import sweep_candidates
    from campus.certificates.tasks import issue_certificate

    app.config["CERTIFICATE_SWEEP_AFTER"] = 0
    s = completed_student(app)
    new = _reissue_left(app, code_of(app, s.user_id), state, monkeypatch)
    assert _cli(app, "revoke", new, "--reason", "Fraud found").exit_code == 0
    with app.app_context():
        assert s.enrollment_id not in sweep_candidates()
        issue_certificate.run(s.enrollment_id)  # its message, delivered late
        db.session.remove()
        certificate = certificate_of(s.user_id)
        assert certificate.status == "revoked" and certificate.storage_key is None
        assert certificate.events[-1].kind == "revoked"
    assert client.get(f"/verify/{new}.json").get_json()["status"] == "revoked"
    assert _hours(app, s.user_id) == (0, 0)


def test_a_first_issue_never_drawn_is_still_not_revocable(app, monkeypatch):
    # Never certified: there is nothing to revoke, and the refusal changes nothing.
    from campus.certificates import actions
    from campus.certificates.models import Certificate
    from campus.certificates.services import CertificateError, ensure_pending
    from campus.learning.signals import enrollment_evaluated
    from tests.certificates.helpers import complete_course, student
    from tests.learning.helpers import make_course

    with app.app_context():
        course = make_course("never-drawn")
        user_id = student().id
        with enrollment_evaluated.muted():
            enrollment_id = complete_course(user_id, course)
        certificate = db.session.get_one(Certificate, ensure_pending(enrollment_id))
        certificate.status = "failed"  # its drawing failed, and is retried
        db.session.commit()
        with pytest.raises(CertificateError, match="not issued"):
            actions.revoke(certificate.code, "Fraud found", actor=None)
        db.session.rollback()
        assert certificate_of(user_id).status == "failed"


def test_reinstating_after_revoking_a_reissue_counts_it_again(app, client, monkeypatch):
    s = completed_student(app)
    old = code_of(app, s.user_id)
    new = _reissue_left(app, old, "given_up", monkeypatch)
    assert _cli(app, "revoke", new, "--reason", "Fraud found").exit_code == 0
    result = _cli(app, "reissue", new, "--reason", "Revoked in error")
    assert result.exit_code == 0, result.output
    third = code_of(app, s.user_id)
    with app.app_context():
        certificate = certificate_of(s.user_id)
        assert certificate.status == "issued" and certificate.cut_off_tries == 0
        assert certificate.revoked_at is None and certificate.revoked_reason is None
    assert _hours(app, s.user_id)[1] > 0
    assert client.get(f"/verify/{third}.json").get_json()["status"] == "valid"
    assert client.get(f"/verify/{third}/revocations.json").get_json()["revokedCredentials"] == []
    for code in (old, new):
        (entry,) = client.get(f"/verify/{code}/revocations.json").get_json()["revokedCredentials"]
        assert third in entry["revocationReason"], code


def test_revoking_a_reinstatement_not_drawn_keeps_the_certificate_revoked(app, client, monkeypatch):
    # Reissued after a revocation (to reinstate it), and revoked again before that was drawn:
    # the reinstatement is cancelled, and its late drawing does not bring the hours back.
    from campus.certificates.tasks import issue_certificate

    s = completed_student(app)
    first = code_of(app, s.user_id)
    assert _cli(app, "revoke", first, "--reason", "Quiz answers shared").exit_code == 0
    second = _reissue_left(app, first, "pending", monkeypatch)
    result = _cli(app, "revoke", second, "--reason", "Reinstated in error")
    assert result.exit_code == 0, result.output
    with app.app_context():
        issue_certificate.run(s.enrollment_id)
        db.session.remove()
        certificate = certificate_of(s.user_id)
        assert (certificate.status, certificate.revoked_reason) == (
            "revoked",
            "Reinstated in error",
        )
    assert _hours(app, s.user_id) == (0, 0)
    for code in (first, second):
        body = client.get(f"/verify/{code}/revocations.json").get_json()
        assert len(body["revokedCredentials"]) == 1, code


def test_the_admin_can_revoke_a_certificate_whose_reissue_was_given_up(app, client, monkeypatch):
    from tests.admin import helpers

    s = completed_student(app)
    new = _reissue_left(app, code_of(app, s.user_id), "given_up", monkeypatch)
    with app.app_context():
        certificate_id = certificate_of(s.user_id).id
    helpers.sign_in_admin(app, client)
    details = client.get(f"/admin/certificates/details/?id={certificate_id}")
    assert "Revoke certificate" in details.get_data(as_text=True)
    response = helpers.post(
        client,
        f"/admin/certificates/{certificate_id}/revoke",
        {"revoke-reason": "Fraud found", "revoke-code": new},
    )
    assert response.status_code == 302
    with app.app_context():
        assert certificate_of(s.user_id).status == "revoked"


def test_the_drawing_task_waiting_on_a_revocation_does_not_issue_it(app, monkeypatch):
    # The admin revokes while the worker's late message is delivered: the task waits for the
    # revocation's row lock, then finds the certificate revoked and draws nothing.
    from campus.certificates import actions
    from campus.certificates.tasks import issue_certificate

    s = completed_student(app)
    new = _reissue_left(app, code_of(app, s.user_id), "failed", monkeypatch)
    revoking = threading.Event()
    real_audit = actions._audit

    def slow_audit(*args, **kwargs):
        revoking.set()
        time.sleep(0.5)  # the task asks for the row meanwhile
        return real_audit(*args, **kwargs)

    monkeypatch.setattr(actions, "_audit", slow_audit)
    outcomes: list = []

    def revoke() -> None:
        with app.app_context():
            try:
                actions.revoke(new, "Fraud found", actor=None)
                db.session.commit()
                outcomes.append("revoked")
            except Exception as exc:  # asserted on below
                db.session.rollback()
                outcomes.append(exc)
            finally:
                db.session.remove()

    def draw() -> None:
        revoking.wait(timeout=5)
        with app.app_context():
            try:
                outcomes.append(issue_certificate.run(s.enrollment_id))
            finally:
                db.session.remove()

    support.run_together([revoke, draw])
    assert sorted(map(str, outcomes)) == ["revoked", "unchanged"]
    with app.app_context():
        certificate = certificate_of(s.user_id)
        assert certificate.status == "revoked" and certificate.storage_key is None
        assert [e.kind for e in certificate.events][-2:] == ["reissued", "revoked"]


def test_a_revocation_waiting_on_the_drawing_task_revokes_what_it_issued(app, monkeypatch):
    # The other order: the task holds the row while it draws; the revocation waits for it and
    # revokes the certificate the task has just issued.
    from campus.certificates import actions, services
    from campus.certificates.tasks import issue_certificate

    s = completed_student(app)
    new = _reissue_left(app, code_of(app, s.user_id), "pending", monkeypatch)
    drawing = threading.Event()
    real_render = services.render

    def slow_render(*args, **kwargs):
        drawing.set()
        time.sleep(0.5)  # the admin revokes meanwhile
        return real_render(*args, **kwargs)

    monkeypatch.setattr(services, "render", slow_render)
    outcomes: list = []

    def draw() -> None:
        with app.app_context():
            try:
                outcomes.append(issue_certificate.run(s.enrollment_id))
            finally:
                db.session.remove()

    def revoke() -> None:
        drawing.wait(timeout=5)
        with app.app_context():
            try:
                actions.revoke(new, "Fraud found", actor=None)
                db.session.commit()
                outcomes.append("revoked")
            except Exception as exc:  # asserted on below
                db.session.rollback()
                outcomes.append(exc)
            finally:
                db.session.remove()

    support.run_together([draw, revoke])
    assert sorted(map(str, outcomes)) == ["issued", "revoked"]
    with app.app_context():
        certificate = certificate_of(s.user_id)
        assert certificate.status == "revoked"
        assert [e.kind for e in certificate.events][-2:] == ["issued", "revoked"]


def test_a_revocation_of_a_code_reissued_meanwhile_is_refused(app, monkeypatch):
    # Another admin reissued it between this revocation's lookup and its row lock: the code
    # acted on is retired, and the certificate now stands under one this admin has not seen.
    from campus.certificates import actions
    from campus.certificates.services import CertificateError

    s = completed_student(app)
    old = code_of(app, s.user_id)
    real_lock = actions.lock
    reissued: list[str] = []

    def lock_after_a_reissue(certificate_id):
        if not reissued:  # the other admin's reissue, which locks the row itself
            reissued.append("")
            with app.app_context():
                reissued[0] = _reissue_left(app, old, "pending", monkeypatch)
        return real_lock(certificate_id)

    monkeypatch.setattr(actions, "lock", lock_after_a_reissue)
    with app.app_context():
        with pytest.raises(CertificateError, match="was replaced by") as refused:
            actions.revoke(old, "Fraud found", actor=None)
        assert refused.value.status == 409 and reissued[0] in refused.value.message
        db.session.rollback()
        assert certificate_of(s.user_id).status == "pending"


def test_a_replaced_code_does_not_name_a_reissue_revoked_before_it_was_issued(
    app, client, monkeypatch
):
    # First replaced by a second that was issued; a third reissue was revoked before it was
    # drawn. The first code's list said "Replaced by the reissued certificate <third>": a
    # certificate that was never issued, as the list of a code with no replacement never says.
    s = completed_student(app)
    first = code_of(app, s.user_id)
    assert _cli(app, "reissue", first, "--reason", "Name misspelled").exit_code == 0
    second = code_of(app, s.user_id)
    third = _reissue_left(app, second, "pending", monkeypatch)
    assert _cli(app, "revoke", third, "--reason", "Fraud found").exit_code == 0
    (entry,) = client.get(f"/verify/{first}/revocations.json").get_json()["revokedCredentials"]
    reason = entry["revocationReason"]
    assert f"Replaced by the reissued certificate {third}" not in reason
    # What its page shows: replaced, and the current code, which is revoked.
    assert third in reason and "revoked" in reason and "Fraud" not in reason
    (later,) = client.get(f"/verify/{second}/revocations.json").get_json()["revokedCredentials"]
    assert "revocationReason" not in later  # nothing issued replaced the second


@pytest.mark.parametrize("state", ["pending", "failed", "given_up"])
def test_a_code_whose_reissue_was_revoked_undrawn_reads_revoked(app, client, monkeypatch, state):
    # The old code's page and JSON said it was "replaced by" the new code, a certificate never
    # issued (its own page says revoked): a verifier read of a replacement that never existed.
    s = completed_student(app)
    old = code_of(app, s.user_id)
    new = _reissue_left(app, old, state, monkeypatch)
    assert _cli(app, "revoke", new, "--reason", "Fraud found").exit_code == 0
    page = client.get(f"/verify/{old}").get_data(as_text=True)
    assert f"Certificate {old} was revoked" in page
    assert "replaced" not in page.lower() and "reissued" not in page and new not in page
    assert "Fraud" not in page and "is valid" not in page
    body = client.get(f"/verify/{old}.json").get_json()
    assert body["code"] == old and body["status"] == "revoked" and body["revoked_at"]
    assert new not in str(body) and "current" not in body
    # The code an issued certificate replaced still reads replaced.
    second = _reissue_left(app, new, "issued", monkeypatch)
    assert client.get(f"/verify/{old}.json").get_json()["status"] == "replaced"
    assert second in client.get(f"/verify/{old}").get_data(as_text=True)


def test_a_revoked_code_whose_reinstatement_was_revoked_keeps_its_revocation_date(
    app, client, monkeypatch
):
    # Revoked in March, reinstated by a reissue in May and that reissue revoked in June before
    # it was drawn: the first code stopped being valid in March, not in June. A verifier told
    # June would take a certificate shown to them in April for a valid one.
    import time_machine

    s = completed_student(app)
    first = code_of(app, s.user_id)
    with time_machine.travel(datetime(2030, 3, 10, 15, 0, tzinfo=UTC), tick=False):
        assert _cli(app, "revoke", first, "--reason", "Quiz answers shared").exit_code == 0
    with time_machine.travel(datetime(2030, 5, 10, 15, 0, tzinfo=UTC), tick=False):
        second = _reissue_left(app, first, "pending", monkeypatch)
    with time_machine.travel(datetime(2030, 6, 10, 15, 0, tzinfo=UTC), tick=False):
        assert _cli(app, "revoke", second, "--reason", "Reinstated in error").exit_code == 0

    body = client.get(f"/verify/{first}.json").get_json()
    assert body["status"] == "revoked" and body["code"] == first
    assert body["revoked_at"].startswith("2030-03-10")
    page = client.get(f"/verify/{first}").get_data(as_text=True)
    assert "was revoked on March 10, 2030" in page and "June 10, 2030" not in page
    # The reissue's own code was revoked when it was, in June.
    assert client.get(f"/verify/{second}.json").get_json()["revoked_at"].startswith("2030-06-10")


def test_a_replaced_code_does_not_present_a_reissue_revoked_undrawn_as_current(
    app, client, monkeypatch
):
    # First replaced by an issued second; a third reissue was revoked before it was drawn. The
    # first code's page linked to the third as "the current certificate" and its JSON pointed
    # "current" at it, though nothing was ever issued under it (its list reads it revoked).
    s = completed_student(app)
    first = code_of(app, s.user_id)
    assert _cli(app, "reissue", first, "--reason", "Name misspelled").exit_code == 0
    second = code_of(app, s.user_id)
    third = _reissue_left(app, second, "pending", monkeypatch)
    assert _cli(app, "revoke", third, "--reason", "Fraud found").exit_code == 0
    page = client.get(f"/verify/{first}").get_data(as_text=True)
    assert "The current certificate" not in page and f"/verify/{third}" not in page
    assert f"The current one, <strong>{third}</strong>, is revoked." in page
    assert "Fraud" not in page
    body = client.get(f"/verify/{first}.json").get_json()
    assert body["status"] == "replaced" and body["current"] is None
    assert (
        body["message"] == f"This certificate was reissued; the current one, {third}, is revoked."
    )
    assert "next_code" not in body and "Fraud" not in str(body)
    # Once the certificate is issued under a code again, "current" names it as before.
    fourth = _reissue_left(app, third, "issued", monkeypatch)
    body = client.get(f"/verify/{first}.json").get_json()
    assert body["current"].endswith(f"/verify/{fourth}.json") and "message" not in body
