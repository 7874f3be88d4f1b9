"""Deleting an account removes sign-in, marketing and billing data and keeps the CE records."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests import support
from tests.admin import helpers
from tests.records.helpers import full_member

# Every table a deletion touches, by what happens to the member's rows in it.
REMOVED = (
    "user_sessions",
    "user_tokens",
    "user_recovery_codes",
    "user_login_challenges",
    "api_tokens",
    "stripe_customers",
    "subscriptions",
    "checkout_sessions",
    "comp_memberships",
    "data_exports",
    "licenses",
)
KEPT = (
    "enrollments",
    "lesson_progress",
    "quiz_papers",
    "quiz_attempts",
    "lesson_seat_time",
    "course_evaluations",
    "certificates",
    "certificate_codes",
    "certificate_events",
)


def _rows(user_id: int) -> dict[str, int]:
    """Count the member's rows in every table a deletion touches (inside an app context)."""
    from campus.extensions import db

    enrollment = "SELECT id FROM enrollments WHERE user_id = :u"
    certificate = "SELECT id FROM certificates WHERE user_id = :u"
    by_user = dict.fromkeys(REMOVED, "user_id = :u")
    by_user["enrollments"] = by_user["certificates"] = "user_id = :u"
    for name in ("lesson_progress", "quiz_papers", "quiz_attempts", "lesson_seat_time"):
        by_user[name] = f"enrollment_id IN ({enrollment})"
    by_user["course_evaluations"] = f"enrollment_id IN ({enrollment})"
    by_user["certificate_codes"] = f"certificate_id IN ({certificate})"
    by_user["certificate_events"] = f"certificate_id IN ({certificate})"
    from sqlalchemy import text

    return {
        name: db.session.execute(
            text(f"SELECT count(*) FROM {name} WHERE {where}"), {"u": user_id}
        ).scalar_one()
        for name, where in by_user.items()
    }


def _everything_a_member_has(app, m) -> list[str]:
    """Give the member every kind of sign-in and billing row; return their recovery codes."""
    from campus.accounts import mfa, services, tokens
    from campus.accounts.models import User
    from campus.billing.models import CheckoutSession, StripeCustomer
    from campus.extensions import db
    from campus.models.base import utcnow
    from campus.records.models import DataExport

    with app.app_context():
        user = db.session.get_one(User, m.user_id)
        tokens.create_token(user, "laptop", "read", "30", support.DEFAULT_PASSWORD)
        support.enable_totp(m.user_id)
        codes = mfa._new_recovery_codes(user)
        mfa.start_challenge(user, remember=False)
        services.issue_token(user, "reset_password", 3600)
        support.open_session(m.user_id)  # another device
        db.session.add(StripeCustomer(user_id=m.user_id, stripe_customer_id="cus_test_gone"))
        db.session.add(
            CheckoutSession(
                user_id=m.user_id,
                stripe_session_id="cs_test_gone",
                stripe_customer_id="cus_test_gone",
                url="https://checkout.example/cs",
                expires_at=utcnow(),
            )
        )
        db.session.add(DataExport(user_id=m.user_id, status="failed"))
        db.session.commit()
        support.grant_comp(m.user_id)
        return codes


def _delete(client, password=support.DEFAULT_PASSWORD, code="", confirmation="DELETE", **kwargs):
    return support.post_form(
        client,
        "/account/delete",
        {"password": password, "code": code, "confirmation": confirmation},
        **kwargs,
    )


def test_deletion_keeps_exactly_the_ce_records_and_removes_the_rest(app, client):
    m = full_member(app)
    codes = _everything_a_member_has(app, m)
    with app.app_context():
        from campus.accounts.models import User
        from campus.audit import record, snapshot
        from campus.extensions import db

        # An admin disabled and re-enabled the account once: the entry holds the account.
        account = db.session.get_one(User, m.user_id)
        record("enable", account, before=snapshot(account), after=snapshot(account), actor=None)
        db.session.commit()
        before = _rows(m.user_id)
    assert all(before[name] for name in REMOVED + KEPT), before
    support.login_with_code(client, m.email, codes[0])
    response = _delete(client, code=codes[1])
    assert response.status_code == 302 and "/account/deleted" in response.headers["Location"]

    with app.app_context():
        from campus.accounts.models import User
        from campus.audit import AuditEntry
        from campus.content.models import Lead
        from campus.extensions import db
        from campus.mail.models import EmailMessage
        from campus.records.models import RetentionHold

        after = _rows(m.user_id)
        assert {name: after[name] for name in REMOVED} == dict.fromkeys(REMOVED, 0)
        assert {name: after[name] for name in KEPT} == {name: before[name] for name in KEPT}
        user = db.session.get_one(User, m.user_id)
        assert user.email.endswith("@deleted.invalid") and m.email not in user.email
        assert user.password_hash == "!deleted"
        assert user.totp_secret is None and user.totp_pending_secret is None
        assert user.email_verified_at is None and user.last_login_at is None
        assert user.deleted_at is not None and not user.is_active
        assert user.full_name == "Casey Moreno"  # the roster name, as the hold keeps it
        hold = db.session.scalars(select(RetentionHold)).one()
        assert (hold.user_id, hold.participant_name, hold.license_number, hold.license_state) == (
            m.user_id,
            "Casey Moreno",
            "MT-004512",
            "Maine",
        )
        today = datetime.now(UTC).date()
        assert hold.last_activity_on == today
        assert hold.purge_after == today.replace(year=today.year + 6)
        assert hold.retention_years == 6
        assert db.session.scalar(select(func.count()).select_from(Lead)) == 0
        to_old = db.session.scalars(select(EmailMessage).where(EmailMessage.to == m.email)).all()
        assert [message.subject for message in to_old] == ["Your Campus account is deleted"]
        entries = db.session.scalars(select(AuditEntry)).all()
        assert not [e for e in entries if m.email in e.summary or e.actor_email == m.email]
        # Nor in what the entries kept of a change (the account's own before and after).
        assert not [e for e in entries if m.email in json.dumps([e.before, e.after])]
        deleted = [e for e in entries if e.action == "account_deleted"]
        assert len(deleted) == 1 and f"hold #{hold.id}" in deleted[0].summary

    # The confirmation went to the old address and names the purge date.
    [confirmation] = [
        sent
        for sent in support.outbox(app)
        if sent["To"] == m.email and sent["Subject"] == "Your Campus account is deleted"
    ]
    body = support.body_of(confirmation)
    assert "is deleted" in body and str(hold.purge_after.year) in body
    # Signed out, and the old credentials sign nobody in.
    assert client.get("/account").status_code == 302
    failed = support.post_form(client, "/login", {"email": m.email, "password": "x" * 12})
    assert failed.status_code == 422


def test_a_kept_certificate_still_verifies(app, client):
    m = full_member(app)
    support.login(client, m.email)
    deleted = _delete(client)
    assert deleted.status_code == 302
    told = client.get(deleted.headers["Location"]).get_data(as_text=True)
    assert "Your account is deleted" in told and "CE courses you completed is kept" in told
    page = client.get(f"/verify/{m.code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Casey Moreno" in html and "Course hip-basics" in html and "Valid" in html
    credential = client.get(f"/verify/{m.code}.json").get_json()
    assert credential["status"] == "valid"


def test_a_certificate_still_being_issued_prints_the_license_and_name_at_deletion(
    app, client, monkeypatch
):
    """The worker issues it after the account is gone: with what the member held when it went."""
    from campus.certificates import receivers, tasks
    from tests.certificates.helpers import certificate_of, complete_course, student
    from tests.learning.helpers import make_course

    monkeypatch.setattr(receivers, "enqueue_after_commit", lambda *args: None)  # worker busy
    with app.app_context():
        course = make_course("late-cert")
        user = student(full_name="Jordan Late", license_number="MT-778899")
        email, user_id = user.email, user.id
        enrollment_id = complete_course(user_id, course)
        assert certificate_of(user_id) is None
    support.login(client, email)
    assert _delete(client).status_code == 302
    with app.app_context():
        tasks.issue_certificate.apply(args=(enrollment_id,)).get()
        certificate = certificate_of(user_id)
        assert certificate is not None and certificate.status == "issued"
        assert certificate.data["license_number"] == "MT-778899"
        assert certificate.data["license_state"] == "Maine"
        assert certificate.data["participant_name"] == "Jordan Late"


def test_an_account_without_ce_records_is_deleted_outright(app, client):
    with app.app_context():
        user = support.create_user()
        user_id, email = user.id, user.email
    support.login(client, email)
    deleted = _delete(client)
    assert deleted.status_code == 302
    told = client.get(deleted.headers["Location"]).get_data(as_text=True)
    assert "no CE course records with us, so none were kept" in told
    assert "is kept" not in told
    with app.app_context():
        from campus.accounts.models import User
        from campus.extensions import db
        from campus.records.models import RetentionHold

        assert db.session.get(User, user_id) is None
        assert db.session.scalar(select(func.count()).select_from(RetentionHold)) == 0


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"password": "not my password"}, "Your password is not correct."),
        ({"confirmation": "delete it"}, "Type DELETE to confirm."),
        ({"confirmation": "DÉLETE"}, "Type DELETE to confirm."),
        ({"code": "١٢٣٤٥٦"}, "That code is not right."),
        ({"code": "000000"}, "That code is not right."),
        ({"code": ""}, "That code is not right."),
    ],
)
def test_a_wrong_answer_changes_nothing(app, client, answers, message):
    m = full_member(app)
    codes = _everything_a_member_has(app, m)
    support.login_with_code(client, m.email, codes[0])
    with app.app_context():
        before = _rows(m.user_id)
    response = _delete(client, **{"code": codes[1], **answers})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        from campus.accounts.models import User
        from campus.extensions import db

        assert _rows(m.user_id) == before
        assert db.session.get_one(User, m.user_id).email == m.email
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("answers", "logged"),
    [
        ({"password": "not my password"}, ["account_delete_refused: password not accepted"]),
        ({"code": "000000"}, ["account_delete_refused: code not accepted"]),
        ({"confirmation": "delete it"}, []),  # a typing slip, not a wrong secret
    ],
)
def test_a_wrong_password_or_code_at_deletion_is_audited(app, client, answers, logged):
    # Someone at the member's unlocked screen trying to delete the account leaves a trace.
    with app.app_context():
        user = support.create_user()
        email, user_id = user.email, user.id
        secret = support.enable_totp(user_id)
    support.login_with_code(client, email, support.totp_code(secret))
    assert _delete(client, **answers).status_code == 422
    entries = helpers.audit_entries(app, action="account_delete_refused")
    assert [f"{e.action}: {e.summary.removeprefix(email + ': ')}" for e in entries] == logged
    assert all((e.actor_id, e.object_id) == (user_id, str(user_id)) for e in entries)


def test_an_admin_cannot_delete_their_account_here(app, client):
    with app.app_context():
        admin = support.create_user(role="admin")
        email = admin.email
        secret = support.enable_totp(admin.id)
    support.login_with_code(client, email, support.totp_code(secret))
    response = _delete(client, code=support.totp_code(secret, steps=1))
    assert response.status_code == 403
    assert "admin account cannot be deleted" in response.get_data(as_text=True)


def test_deletion_cancels_the_simulated_subscription_and_deletes_the_customer(app):
    client = app.test_client()
    with app.app_context():
        email = support.create_user().email
    support.login(client, email)
    checkout = support.post_form(client, "/membership/checkout")
    paid = support.post_form(
        client, checkout.headers["Location"], {"card_number": "4242 4242 4242 4242"}
    )
    assert paid.status_code == 303, paid.status_code
    with app.app_context():
        from campus.billing import simulator
        from campus.billing.models import StripeCustomer
        from campus.extensions import db

        customer_id = db.session.scalars(select(StripeCustomer.stripe_customer_id)).one()
        [sub] = simulator.objects("subscription", customer_id)
        assert sub["status"] == "active"
    assert _delete(client).status_code == 302
    with app.app_context():
        from campus.billing.models import Subscription, WebhookEvent

        assert simulator.get_object(customer_id) is None
        [sub] = simulator.objects("subscription", customer_id)
        assert sub["status"] == "canceled"
        # The cancellation's event arrived after the deletion and brought nothing back.
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
        assert db.session.scalar(select(func.count()).select_from(StripeCustomer)) == 0
        types = set(db.session.scalars(select(WebhookEvent.type)))
        assert {"customer.subscription.deleted", "customer.deleted"} <= types


def test_no_stored_stripe_event_keeps_a_deleted_members_address_or_name(app):
    """Stripe's customer and invoice objects carry them; the events stay without them."""
    from campus.billing.models import StripeCustomer, WebhookEvent
    from campus.extensions import db

    client = app.test_client()
    with app.app_context():
        email = support.create_user(full_name="Robin Quartzfield").email
    support.login(client, email)
    checkout = support.post_form(client, "/membership/checkout")
    support.post_form(client, checkout.headers["Location"], {"card_number": "4242 4242 4242 4242"})
    with app.app_context():
        customer_id = db.session.scalars(select(StripeCustomer.stripe_customer_id)).one()
        # An invoice as Stripe sends it (the simulated ones leave these fields out).
        invoice = {
            "object": "invoice",
            "id": "in_test_named",
            "customer": customer_id,
            "customer_email": email,
            "customer_name": "Robin Quartzfield",
            "customer_address": {"line1": "12 Lantern Lane", "postal_code": "04101"},
        }
        db.session.add(
            WebhookEvent(
                stripe_event_id="evt_test_named",
                type="invoice.finalized",
                created=1,
                payload=json.dumps({"id": "evt_test_named", "data": {"object": invoice}}),
                status="ignored",
            )
        )
        db.session.commit()
    assert _delete(client).status_code == 302
    with app.app_context():
        events = db.session.scalars(select(WebhookEvent)).all()
        # customer.deleted came after the deletion, with the customer Stripe deleted.
        assert {"customer.deleted", "invoice.finalized"} <= {e.type for e in events}
        for event in events:
            for personal in (email, "Quartzfield", "Lantern"):
                assert personal not in event.payload, (event.type, personal)
        kept = json.loads(
            db.session.scalars(
                select(WebhookEvent.payload).where(WebhookEvent.type == "invoice.finalized")
            ).one()
        )
        assert kept["data"]["object"]["customer"] == customer_id  # what was billed, and to whom


def _practical(program_id: int, user_id: int, key: str, **review) -> None:
    """Store a practical video and its submission (inside an app context); commit."""
    from campus.extensions import db
    from campus.programs.models import PracticalSubmission
    from campus.storage import get_storage

    db.session.add(
        PracticalSubmission(
            program_id=program_id,
            user_id=user_id,
            storage_key=key,
            filename="me.mp4",
            content_type="video/mp4",
            size_bytes=4,
            **review,
        )
    )
    db.session.commit()
    get_storage().save(key, b"....")


def test_deletion_takes_down_the_directory_profile_and_the_practical_videos(app, client):
    from campus.accounts.models import User
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db
    from campus.programs.models import PracticalSubmission
    from campus.storage import get_storage
    from tests.directory.helpers import make_profile
    from tests.programs.helpers import make_program

    m = full_member(app)
    with app.app_context():
        user = db.session.get_one(User, m.user_id)
        profile = make_profile("04101", user=user)
        profile.photo_key = "directory/photos/gone.jpg"
        slug = profile.slug
        program = make_program(slug="deleted-member-program", practical_required=True)
        _practical(program.id, m.user_id, "programs/practicals/gone.mp4")
        get_storage().save("directory/photos/gone.jpg", b"\xff\xd8\xff\xe0")
    assert client.get(f"/directory/{slug}").status_code == 200

    support.login(client, m.email)
    assert _delete(client).status_code == 302

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DirectoryProfile)) == 0
        assert db.session.scalar(select(func.count()).select_from(PracticalSubmission)) == 0
        storage = get_storage()
        assert not storage.exists("directory/photos/gone.jpg")
        assert not storage.exists("programs/practicals/gone.mp4")
    assert client.get(f"/directory/{slug}").status_code == 404


def test_a_deletion_that_does_not_commit_keeps_the_photo_and_the_videos(app):
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.records import actions
    from campus.storage import get_storage
    from tests.directory.helpers import make_profile
    from tests.programs.helpers import make_program

    m = full_member(app)
    with app.app_context():
        user = db.session.get_one(User, m.user_id)
        make_profile("04101", user=user).photo_key = "directory/photos/kept.jpg"
        program = make_program(slug="kept-member-program", practical_required=True)
        _practical(program.id, m.user_id, "programs/practicals/kept.mp4")
        get_storage().save("directory/photos/kept.jpg", b"\xff\xd8\xff\xe0")
        actions.delete_account(
            db.session.get_one(User, m.user_id),
            password=support.DEFAULT_PASSWORD,
            code=None,
            confirmation="DELETE",
        )
        db.session.rollback()  # the commit did not go through: the account is still there
        storage = get_storage()
        assert storage.exists("directory/photos/kept.jpg")
        assert storage.exists("programs/practicals/kept.mp4")
        assert db.session.get_one(User, m.user_id).deleted_at is None


def test_a_program_credential_and_its_practical_review_are_kept_like_certificates(app, client):
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.programs.models import Credential, PracticalSubmission
    from campus.records.models import RetentionHold
    from campus.storage import get_storage
    from tests.programs.helpers import make_credential, make_program

    with app.app_context():
        # A member whose only record is a credential from an exam-and-practical program.
        user = support.create_user()
        program = make_program(slug="practical-only", practical_required=True)
        credential = make_credential(user.id, program)
        _practical(
            program.id,
            user.id,
            "programs/practicals/reviewed.mp4",
            status="passed",
            reviewed_at=datetime(2026, 5, 1, tzinfo=UTC),
            rubric_marks={"Finds the point": True},
        )
        user_id, email, code = user.id, user.email, credential.code

    support.login(client, email)
    assert _delete(client).status_code == 302

    with app.app_context():
        hold = db.session.scalar(select(RetentionHold).where(RetentionHold.user_id == user_id))
        assert hold is not None and json.loads(hold.kept)["credentials"] == 1
        assert db.session.get(User, user_id).deleted_at is not None
        assert db.session.scalar(select(Credential.code)) == code
        review = db.session.scalar(select(PracticalSubmission))
        assert review.status == "passed" and review.rubric_marks == {"Finds the point": True}
        assert not get_storage().exists("programs/practicals/reviewed.mp4")
    assert client.get(f"/programs/verify/{code}").status_code == 200


def test_nothing_is_ever_mailed_to_a_deleted_accounts_placeholder_address(app, client):
    from campus.extensions import db
    from campus.mail.models import EmailMessage
    from campus.programs import issuing
    from campus.programs.tasks import issue_credential
    from tests.programs.helpers import make_credential, make_program

    with app.app_context():
        # Earned, but its issuing was still pending when the member deleted the account.
        user = support.create_user()
        program = make_program(slug="pending-at-deletion")
        held = make_credential(user.id, program, status="pending")
        held.data = issuing._frozen_data(user, program, held.code, held.earned_at, held.valid_until)
        db.session.commit()
        user_id, program_id, email = user.id, program.id, user.email
    support.login(client, email)
    assert _delete(client).status_code == 302

    assert issue_credential.delay(user_id, program_id).get() == "issued"  # the record is kept
    with app.app_context():
        addresses = db.session.scalars(select(EmailMessage.to)).all()
    assert email in addresses  # "Your Campus account is deleted"
    assert not [a for a in addresses if a.endswith("@deleted.invalid")]


def test_the_names_a_deleted_member_went_by_leave_the_audit_log_with_the_address(app, client):
    with app.app_context():
        user = support.create_user(full_name="Robin Oldname")
        email = user.email
    support.login(client, email)
    form = {"full_name": "Robin Newname", "profession": "chiropractor"}
    assert support.post_form(client, "/account", form).status_code == 302
    assert _delete(client).status_code == 302
    with app.app_context():
        from campus.audit import AuditEntry
        from campus.extensions import db

        kept = json.dumps(
            [[e.summary, e.before, e.after] for e in db.session.scalars(select(AuditEntry))]
        )
        assert "Oldname" not in kept and "Newname" not in kept and email not in kept
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "profile_updated")
            )
            == 1
        )


def test_the_network_address_a_deleted_member_acted_from_leaves_the_audit_log(app, client):
    """Their own entries lose it, as their sessions go; an admin's entry about them keeps its."""
    with app.app_context():
        user = support.create_user(full_name="Robin Roamer")
        email, user_id = user.email, user.id
    admin = app.test_client()
    helpers.sign_in_admin(app, admin)
    for change in ("disable", "enable"):
        helpers.post(
            admin,
            f"/admin/members/{user_id}/{change}",
            {},
            environ_base={"REMOTE_ADDR": "192.0.2.50"},
        )
    home = {"REMOTE_ADDR": "203.0.113.99"}
    login = {"email": email, "password": support.DEFAULT_PASSWORD}
    assert support.post_form(client, "/login", login, environ_base=home).status_code == 302
    form = {"full_name": "Robin Roamer", "profession": "chiropractor"}
    support.post_form(client, "/account", form, environ_base=home)
    assert _delete(client, environ_base=home).status_code == 302
    entries = helpers.audit_entries(app)
    assert not [e.action for e in entries if e.ip_address == "203.0.113.99"]
    assert [e.action for e in entries if e.ip_address == "192.0.2.50"] == ["disable", "enable"]


def test_the_address_of_a_session_a_deleted_member_ended_leaves_the_audit_log(app, client):
    """Ending another device's session logged that device's address in the entry's text."""
    from campus.accounts.models import UserSession
    from campus.extensions import db

    with app.app_context():
        email = support.create_user().email
    phone = app.test_client()
    phone.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    client.environ_base["REMOTE_ADDR"] = "203.0.113.99"
    support.login(phone, email)
    support.login(client, email)
    with app.app_context():
        phone_id = db.session.scalar(select(UserSession.id).order_by(UserSession.id))
    ended = support.post_form(client, f"/account/security/sessions/{phone_id}/end")
    assert ended.status_code == 302
    assert "198.51.100.23" in json.dumps([e.summary for e in helpers.audit_entries(app)])
    assert _delete(client).status_code == 302
    entries = helpers.audit_entries(app)
    assert "session_ended" in [e.action for e in entries]
    kept = json.dumps([[e.summary, e.before, e.after, e.ip_address] for e in entries])
    assert "198.51.100.23" not in kept and "203.0.113.99" not in kept


def test_entries_written_by_others_that_name_a_deleted_member_lose_the_address(app, client):
    """An assessor's review and an unsubscribe by signed link name the member in their text."""
    from campus.audit import AuditEntry
    from campus.content.models import Download, Lead
    from campus.extensions import db
    from campus.mail import actions as mail_actions
    from campus.programs import actions as program_actions
    from campus.programs.models import PracticalSubmission
    from tests.programs.helpers import make_program

    with app.app_context():
        user = support.create_user(email="ann@example.com")
        # Another member's address that holds this one: it stays as it is.
        other = support.create_user(email="joann@example.com")
        assessor = support.create_user(role="admin")
        program = make_program(slug="practical", practical_required=True, rubric="Finds it")
        _practical(program.id, user.id, "programs/practicals/ann.mp4")
        _practical(program.id, other.id, "programs/practicals/joann.mp4")
        for submission in db.session.scalars(select(PracticalSubmission)):
            program_actions.review_practical(
                submission, assessor, {}, "return", "Film the hands closer."
            )
        download = Download(slug="guide", title="Trigger point guide", filename="g.pdf")
        db.session.add(download)
        db.session.flush()
        db.session.add(
            Lead(
                download_id=download.id,
                email="ann@example.com",
                name="Ann",
                consent_text="Send me the newsletter",
                marketing=True,
            )
        )
        mail_actions.unsubscribe("ann@example.com")
        db.session.commit()
    support.login(client, "ann@example.com")
    assert _delete(client).status_code == 302
    with app.app_context():
        kept = [
            [e.actor_email, e.summary, e.before, e.after]
            for e in db.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action.in_(["program_practical_review", "marketing_unsubscribe"])
                )
            )
        ]
        text = json.dumps(kept)
        assert "ann@example.com" not in text.replace("joann@example.com", "")
        assert "joann@example.com" in text and len(kept) == 3


def test_deleting_an_account_leaves_entries_about_the_addresses_earlier_owner_as_they_were(
    app, client
):
    """Signing up with an address another member left, then deleting, rewrites none of theirs."""
    from campus.accounts import roles
    from campus.accounts.models import User
    from campus.audit import AuditEntry
    from campus.extensions import db

    with app.app_context():
        ann = support.create_user(email="ann@example.com")
        support.create_user(role="admin")  # an operator's admin, so a role can be given
        roles.set_role(ann, "assessor", actor=None)
        db.session.commit()
        ann_id = ann.id
    # Ann moves to another address; a stranger then signs up with the one she left.
    support.login(client, "ann@example.com")
    _change_email(app, client, "ann.new@example.com")
    support.post_form(client, "/logout", {})
    with app.app_context():
        stranger_id = support.create_user(email="ann@example.com").id
    support.login(client, "ann@example.com")
    assert _delete(client).status_code == 302
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "role_changed", AuditEntry.object_id == str(ann_id)
            )
        ).all()
        # The entry is about Ann, written before the stranger's account existed.
        assert "ann@example.com: role student" in entry.summary
        assert f"#{stranger_id}" not in entry.summary
        assert db.session.get(User, ann_id).email == "ann.new@example.com"


def test_what_a_deleted_practitioner_published_leaves_the_audit_log(app, client):
    from campus.audit import AuditEntry
    from campus.directory import actions
    from campus.extensions import db
    from tests.directory.helpers import make_profile

    with app.app_context():
        user = support.create_user(full_name="Robin Reyes")
        email = user.email
        profile = make_profile("04101", user=user, street="12 Lantern Lane", phone="(207) 555-0199")
        profile_id, slug = profile.id, profile.slug
        # A moderator's entry about the profile holds what it published too.
        actions.hide_profile(profile, "Claims a fake license", actor=None)
        db.session.commit()
    support.login(client, email)
    assert _delete(client).status_code == 302
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "DirectoryProfile",
                AuditEntry.object_id == str(profile_id),
            )
        ).all()
        # The entries stay (what was done, when, by whom), without what the profile said.
        assert {e.action for e in entries} >= {"directory_create", "directory_hide"}
        kept = json.dumps([[e.summary, e.before, e.after] for e in entries])
        assert "Lantern" not in kept and "555-0199" not in kept and slug not in kept
        assert any("Claims a fake license" in e.summary for e in entries)


def test_the_messages_a_deleted_practitioner_received_leave_their_slug_out_of_the_log(app, client):
    """Each message's entry named the profile by its slug, which is made of their name."""
    from campus.accounts.models import User
    from campus.audit import AuditEntry
    from campus.extensions import db
    from tests.directory.helpers import make_profile, message_fields

    with app.app_context():
        user = support.create_user(full_name="Robin Reyes")
        email, user_id = user.email, user.id
        profile = make_profile("04101", user=user)
        profile_id, slug = profile.id, profile.slug
        # Another practitioner whose slug begins with this one keeps theirs.
        other = make_profile("04101", display_name="Robin Reyes")
        other_id, other_slug = other.id, other.slug
    assert other_slug.startswith(slug) and other_slug != slug
    for target, target_id in ((slug, profile_id), (other_slug, other_id)):
        sent = support.post_form(
            app.test_client(), f"/directory/{target}/contact", message_fields(app, target_id)
        )
        assert sent.status_code == 302
    # A new display name gives the profile a new slug: the entries under the old one go too.
    with app.app_context():
        renamed = make_profile("04101", user=db.session.get(User, user_id), display_name="R Hale")
        new_slug = renamed.slug
    assert new_slug != slug
    # Another message: the same words again within minutes would be taken as sent twice.
    again = message_fields(app, profile_id, message="And do you see clients on Saturdays?")
    sent = support.post_form(app.test_client(), f"/directory/{new_slug}/contact", again)
    assert sent.status_code == 302
    support.login(client, email)
    assert _delete(client).status_code == 302
    with app.app_context():
        summaries = db.session.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "directory_message")
        ).all()
        profile_entries = json.dumps(
            db.session.scalars(
                select(AuditEntry.summary).where(AuditEntry.object_type == "DirectoryProfile")
            ).all()
        )
    assert len(summaries) == 3
    assert not [s for s in summaries if slug in s.replace(other_slug, "") or new_slug in s]
    assert [s for s in summaries if other_slug in s]
    assert slug not in profile_entries.replace(other_slug, "") and new_slug not in profile_entries


def test_deleting_leaves_the_messages_of_the_slugs_earlier_practitioner_as_they_were(app, client):
    """Taking the slug another practitioner left, then deleting, rewrites none of their entries."""
    from campus.accounts.models import User
    from campus.audit import AuditEntry
    from campus.extensions import db
    from tests.directory.helpers import make_profile, message_fields

    with app.app_context():
        robin = support.create_user(full_name="Robin Reyes")
        robin_id = robin.id
        profile = make_profile("04101", user=robin)
        profile_id, slug = profile.id, profile.slug
    sent = support.post_form(
        app.test_client(), f"/directory/{slug}/contact", message_fields(app, profile_id)
    )
    assert sent.status_code == 302
    with app.app_context():
        # Robin renames the profile; a new member then takes the slug Robin left.
        make_profile("04101", user=db.session.get(User, robin_id), display_name="R Hale")
        stranger = support.create_user(full_name="Robin Reyes")
        email = stranger.email
        assert make_profile("04101", user=stranger).slug == slug
    support.login(client, email)
    assert _delete(client).status_code == 302
    with app.app_context():
        [summary] = db.session.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "directory_message")
        ).all()
    assert summary == f"{slug}: message received"


def test_a_deleted_members_license_numbers_leave_the_audit_log(app, client):
    from datetime import date

    from campus.audit import AuditEntry
    from campus.extensions import db
    from campus.licenses import actions

    with app.app_context():
        user = support.create_user()
        email = user.email
        license = actions.add_license(
            user,
            profession="massage_therapist",
            jurisdiction="ME",
            number="MT-1111",
            expires_on=date(2031, 1, 31),
        )
        actions.update_license(
            user,
            license.id,
            profession="massage_therapist",
            jurisdiction="ME",
            number="MT-2222",
            expires_on=date(2031, 1, 31),
        )
        db.session.commit()
    support.login(client, email)
    assert _delete(client).status_code == 302
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "License")
        ).all()
        assert {e.action for e in entries} == {"license_added", "license_updated"}
        kept = json.dumps([[e.summary, e.before, e.after] for e in entries])
        assert "MT-1111" not in kept and "MT-2222" not in kept


def _change_email(app, client, new: str) -> None:
    assert support.post_form(
        client, "/account/email", {"email": new, "password": support.DEFAULT_PASSWORD}
    ).status_code in (200, 302)
    [link] = [m for m in support.outbox(app) if m["To"] == new]
    assert support.confirm_link(client, support.link_in(link)).status_code == 302


def test_deletion_forgets_the_addresses_the_account_had_before(app, client):
    """Leads, mail and audit text under an earlier address go with the current one."""
    from campus.audit import AuditEntry
    from campus.content.models import Lead
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    member = full_member(app)  # a marketing lead and a "certificate ready" email to the address
    old = member.email
    support.login(client, old)
    _change_email(app, client, "middle@example.com")
    _change_email(app, client, "latest@example.com")
    assert _delete(client).status_code == 302
    with app.app_context():
        for address in (old, "middle@example.com"):
            assert db.session.scalar(select(func.count()).where(Lead.email == address)) == 0
            assert (
                db.session.scalars(select(EmailMessage.to).where(EmailMessage.to == address)).all()
                == []
            )
        kept = json.dumps(
            [[e.summary, e.before, e.after] for e in db.session.scalars(select(AuditEntry))]
        )
        assert old not in kept and "middle@example.com" not in kept
        assert "latest@example.com" not in kept
        # The account is gone from the mail but for the confirmation of its deletion.
        assert db.session.scalars(
            select(EmailMessage.subject).where(EmailMessage.to == "latest@example.com")
        ).all() == ["Your Campus account is deleted"]


def test_an_earlier_address_someone_else_has_now_keeps_their_data(app, client):
    from campus.content.models import Lead
    from campus.extensions import db

    with app.app_context():
        support.create_user(email="first@example.com")
    support.login(client, "first@example.com")
    _change_email(app, client, "second@example.com")
    with app.app_context():
        support.create_user(email="first@example.com")  # someone signs up with the old address
        db.session.add(
            Lead(download_id=_download_id(), email="first@example.com", name="New owner",
                 consent_text="ok", marketing=True)
        )  # fmt: skip
        db.session.commit()
    assert _delete(client).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Lead.email == "first@example.com")) == 1


def _download_id() -> int:
    from campus.content.models import Download
    from campus.extensions import db

    download = Download(slug="kept-guide", title="Guide", filename="g.pdf")
    db.session.add(download)
    db.session.flush()
    return download.id


def test_the_deletion_confirmation_leaves_no_address_behind_after_the_retention(app, client):
    from datetime import timedelta

    import time_machine

    from campus.extensions import db
    from campus.mail.models import EmailMessage
    from campus.mail.tasks import erase_old_bodies_task

    with app.app_context():
        user = support.create_user()
        email = user.email
        days = app.config["MESSAGE_RETENTION_DAYS"]
    support.login(client, email)
    assert _delete(client).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(EmailMessage.subject)).all() == [
            "Your Campus account is deleted"
        ]
        with time_machine.travel(timedelta(days=days + 1), tick=False):
            erase_old_bodies_task.delay().get()
        # The person has no account here any more: like other mail to such people, the row
        # goes whole once its retention is over, and the address with it.
        assert db.session.scalars(select(EmailMessage.to)).all() == []
