"""Data the browser tests need beyond `flask seed-demo`, made in the stack's own environment.

Run as `python -m tests.e2e.prepare COMMAND [ARGS]` with the stack's environment (see
server.Stack.prepare); prints one JSON object. Commands:

  user EMAIL [--admin] [--member]   an account (password DEFAULT_PASSWORD); --member pays
                                    through the simulated Stripe, so its webhooks run too
  studying EMAIL                    a paying member at the quiz of one course, and enrolled
                                    but not started in the other
  graduate EMAIL                    a paying member with an issued certificate
  candidate EMAIL ASSESSOR          a paying member who completed the demo program's courses,
                                    and an assessor with TOTP on (its secret in the JSON)
  pages                             everything the accessibility crawl fills URLs from: a paying
                                    member part-way through a course, an issued certificate, a
                                    TOTP admin, a comp grant, a lead, an open checkout session,
                                    an unconfirmed account and emailed links that still work
"""

from __future__ import annotations

import json
import sys
from typing import Any

DEFAULT_PASSWORD = "correct horse battery"


def _user(email: str, *, admin: bool = False, verified: bool = True, role: str | None = None):
    from datetime import date

    from campus.accounts.models import User
    from campus.accounts.services import get_user_by_email, hash_password
    from campus.extensions import db
    from campus.licenses.models import License
    from campus.models.base import utcnow

    user = get_user_by_email(email)
    if user is None:
        user = User(
            email=email,
            password_hash=hash_password(DEFAULT_PASSWORD),
            full_name=f"{'Avery Admin' if admin else 'Morgan Member'}",
            profession="massage_therapist",
            role=role or ("admin" if admin else "student"),
            email_verified_at=utcnow() if verified else None,
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(
            License(
                user_id=user.id,
                profession=user.profession,
                jurisdiction="ME",
                number="MT-771204",
                expires_on=date(2027, 6, 30),
            )
        )
        db.session.commit()
    return user


def _pay(user) -> str:
    """Subscribe a user through the simulated Checkout; return the subscription id."""
    from campus.billing import services, simulator
    from campus.extensions import db

    record = services.customer_for(user)
    customer_id = record.stripe_customer_id if record else simulator.create_customer(user)
    db.session.commit()
    session = simulator.create_checkout_session(
        customer_id=customer_id, user=user, success_url="/", cancel_url="/"
    )
    done = simulator.complete_checkout(session["id"])
    db.session.commit()
    _wait_for_access(user)
    return done["subscription"]


def _wait_for_access(user) -> None:
    """Wait for the worker to apply the subscription's webhooks (paid access shows then)."""
    import time

    from campus.billing.access import has_paid_access
    from campus.extensions import db

    deadline = time.monotonic() + 60
    while True:
        db.session.rollback()  # a new transaction sees the worker's commit
        if has_paid_access(user):
            return
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not apply the subscription within 60 s")
        time.sleep(0.25)


def _open_checkout(user) -> str:
    from campus.billing import services, simulator
    from campus.extensions import db

    record = services.customer_for(user)
    session = simulator.create_checkout_session(
        customer_id=record.stripe_customer_id, user=user, success_url="/", cancel_url="/"
    )
    db.session.commit()
    return session["id"]


def _enable_totp(user) -> str:
    import pyotp

    from campus.extensions import db
    from campus.models.base import utcnow

    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.totp_enabled_at = utcnow()
        db.session.commit()
    return user.totp_secret


def _studied(user, course, *, finish: bool) -> int:
    """Enroll a user in a course with every lesson studied and done; pass it if `finish`."""
    from sqlalchemy import select

    from campus.extensions import db
    from campus.learning import quiz as quizzes
    from campus.learning.models import Enrollment, LessonProgress
    from campus.learning.records import SeatTime

    enrollment = db.session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    )
    if enrollment is None:
        enrollment = Enrollment(user_id=user.id, course_id=course.id)
        db.session.add(enrollment)
        db.session.flush()
        for lesson in course.lessons:
            db.session.add(SeatTime(enrollment_id=enrollment.id, lesson_id=lesson.id, seconds=7200))
            db.session.add(LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson.id))
        db.session.commit()
    if finish and enrollment.completed_at is None:
        from campus.learning import papers

        paper = quizzes.begin_attempt(user, course)
        answers = {
            q.id: [c.id for c in q.choices if c.is_correct] for q in papers.questions_of(paper)
        }
        result = quizzes.submit_attempt(user, course, answers)
        assert result.course_completed, "the prepared answers did not pass the quiz"
        db.session.commit()
        _evaluate(user, course)
    return enrollment.id


def _evaluate(user, course) -> None:
    from campus.extensions import db
    from campus.learning import evaluation

    answers = evaluation.Answers(
        ratings={"objectives_met": 5, "relevance": 4, "presenter": 5, "content_quality": 4},
        minutes_taken=130,
        comments="Clear and practical.",
        attested=True,
    )
    evaluation.submit(user, course, answers)
    db.session.commit()  # the certificate task runs on the worker after this commit


def _courses():
    from sqlalchemy import select

    from campus.extensions import db
    from campus.learning.models import Course

    return list(db.session.scalars(select(Course).order_by(Course.id)))


def pages() -> dict[str, Any]:
    """Make the crawl's data and return what fills its URL arguments."""
    from sqlalchemy import select

    from campus.billing import actions as billing_actions
    from campus.content import downloads
    from campus.content.demo import GUIDE_SLUG
    from campus.content.models import Article
    from campus.extensions import db
    from tests.e2e.prepare_links import valid_links

    member = _user("a11y-member@example.com")
    if not _subscribed(member):
        _pay(member)
    admin = _user("a11y-admin@example.com", admin=True)
    secret = _enable_totp(admin)
    comped = _user("a11y-comped@example.com")
    if not billing_actions.open_comps(comped):
        billing_actions.grant_comp(comped, days=30, reason="Accessibility review", actor=None)
        db.session.commit()
    guide = downloads.active_download(GUIDE_SLUG)
    assert guide is not None, "seed-demo made no guide download"
    downloads.request_download(guide, name="Lee Lead", email="a11y-lead@example.com")
    db.session.commit()
    finished, studying = _courses()[:2]
    _studied(member, finished, finish=True)
    _studied(member, studying, finish=False)
    articles = {a.visibility: a.slug for a in db.session.scalars(select(Article))}
    certificate = _issued_certificate(member)
    assessor = _user("a11y-assessor@example.com", role="assessor")
    assessor_secret = _enable_totp(assessor)
    program = _program_pages(member)
    unverified = _user("a11y-unverified@example.com", verified=False)
    return {
        **program,
        **valid_links(member, unverified),
        "unverified": unverified.email,
        "assessor": assessor.email,
        "assessor_totp_secret": assessor_secret,
        "license_id": _first_license_id(member),
        "directory_slug": _directory_slug(),
        "export_id": _export_id(member),
        "retention_hold_id": _retention_hold(),
        "report_id": _reported(certificate),
        "member": member.email,
        "member_id": member.id,
        "admin": admin.email,
        "admin_totp_secret": secret,
        "password": DEFAULT_PASSWORD,
        "article_slug": articles["paid"],
        "article_slugs": articles,
        "download_slug": GUIDE_SLUG,
        "course_slug": studying.slug,
        "finished_course_slug": finished.slug,
        "course_id": studying.id,
        "article_id": db.session.scalar(select(Article.id).where(Article.visibility == "paid")),
        "lesson_id": studying.lessons[0].id,
        "certificate_code": certificate,
        "checkout_session_id": _open_checkout(member),
    }


def _reported(code: str) -> int:
    """A CE Broker report of the certificate that the system refused (the admin's reports)."""
    from sqlalchemy import select

    from campus.certificates.models import Certificate
    from campus.extensions import db
    from campus.models.base import utcnow
    from campus.reporting.models import ReportedCompletion

    certificate_id = db.session.scalar(select(Certificate.id).where(Certificate.code == code))
    report = db.session.scalar(
        select(ReportedCompletion).where(ReportedCompletion.certificate_id == certificate_id)
    )
    if report is None:
        report = ReportedCompletion(
            certificate_id=certificate_id,
            system="cebroker",
            jurisdiction="FL",
            status="rejected",
            attempts=1,
            reason="License number not found for this profession.",
            sent_at=utcnow(),
            answered_at=utcnow(),
        )
        db.session.add(report)
        db.session.commit()
    return report.id


def _first_license_id(user) -> int:
    from campus.licenses.services import licenses_for

    return licenses_for(user.id)[0].id


def _directory_slug() -> str:
    """A published profile of the demo directory."""
    from sqlalchemy import select

    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    slug = db.session.scalar(
        select(DirectoryProfile.slug)
        .where(DirectoryProfile.published_at.is_not(None))
        .order_by(DirectoryProfile.id)
        .limit(1)
    )
    assert slug, "seed-demo published no directory profile"
    return slug


def _export_id(user) -> int:
    """The member's data archive (asked for once; the worker builds it)."""
    from sqlalchemy import select

    from campus.extensions import db
    from campus.records import actions
    from campus.records.models import DataExport

    existing = db.session.scalar(
        select(DataExport.id).where(DataExport.user_id == user.id).limit(1)
    )
    if existing:
        return existing
    export = actions.request_export(user)
    db.session.commit()
    return export.id


def _retention_hold() -> int:
    """A deleted account whose CE records are held for the board (the admin's holds list)."""
    from datetime import timedelta

    from sqlalchemy import select

    from campus.extensions import db
    from campus.models.base import utcnow
    from campus.records.models import RetentionHold

    departed = _user("a11y-departed@example.com")
    hold = db.session.scalar(select(RetentionHold).where(RetentionHold.user_id == departed.id))
    if hold is None:
        today = utcnow().date()
        hold = RetentionHold(
            user_id=departed.id,
            participant_name="Dana Departed",
            license_number="MT-1138",
            license_state="ME",
            profession="massage_therapist",
            last_activity_on=today - timedelta(days=40),
            purge_after=today + timedelta(days=365 * 4),
            retention_years=4,
            kept="2 enrollments, 1 certificate",
        )
        db.session.add(hold)
        db.session.commit()
    return hold.id


def _program_pages(member) -> dict[str, Any]:
    """The demo program with the member's open exam sitting and practical awaiting review,
    and another member's issued credential (the public verify page)."""
    import io

    from sqlalchemy import select

    from campus.extensions import db
    from campus.models.base import utcnow
    from campus.programs import codes, exam, issuing, practicals
    from campus.programs.models import Credential, PracticalSubmission, Program

    program = db.session.scalar(select(Program).order_by(Program.id).limit(1))
    assert program is not None, "seed-demo made no certification program"
    # The member's courses are not all done, so the rules would refuse the exam: the crawl
    # needs the sitting page itself, so the sitting is started directly.
    sitting, _started = exam.start(member, program)
    submission = db.session.scalar(
        select(PracticalSubmission).where(PracticalSubmission.user_id == member.id)
    )
    if submission is None:
        video = practicals.read_video(
            io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64), "practical.mp4"
        )
        submission = practicals.store(member, program, video, "practical.mp4")
    holder = _user("a11y-certified@example.com")
    credential = db.session.scalar(select(Credential).where(Credential.user_id == holder.id))
    if credential is None:
        earned = utcnow()
        today, code = earned.date(), codes.new_code()
        until = issuing.period_end(today, program.validity_months)
        credential = Credential(
            code=code,
            user_id=holder.id,
            program_id=program.id,
            period=1,
            status="issued",
            earned_at=earned,
            issued_at=earned,
            valid_from=today,
            valid_until=until,
            data=issuing._frozen_data(holder, program, code, earned, until),
        )
        db.session.add(credential)
    db.session.commit()
    return {
        "program_slug": program.slug,
        "sitting_id": sitting.id,
        "submission_id": submission.id,
        "credential_code": credential.code,
    }


def _issued_certificate(user) -> str:
    """Wait for the worker to issue the user's certificate; return its code."""
    import time

    from sqlalchemy import select

    from campus.certificates.models import Certificate
    from campus.extensions import db

    deadline = time.monotonic() + 60
    while True:
        db.session.rollback()  # a new transaction sees the worker's commit
        code = db.session.scalar(
            select(Certificate.code).where(
                Certificate.user_id == user.id, Certificate.status == "issued"
            )
        )
        if code:
            return code
        if time.monotonic() > deadline:
            raise AssertionError("the worker issued no certificate within 60 s")
        time.sleep(0.25)


def _subscribed(user) -> bool:
    from campus.billing import services

    return services.customer_for(user) is not None


def routes() -> dict[str, Any]:
    """Every GET rule of the app, and the first row's id of each admin model view."""
    from flask import current_app
    from sqlalchemy import select

    from campus.extensions import db

    rules = [
        {"rule": rule.rule, "endpoint": rule.endpoint, "arguments": sorted(rule.arguments)}
        for rule in current_app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
    ]
    rows: dict[str, int | None] = {}
    for admin in current_app.extensions.get("admin", []):
        for view in admin._views:
            model = getattr(view, "model", None)
            if model is None:
                continue
            key = model.__mapper__.primary_key[0]
            rows[view.endpoint] = db.session.scalar(select(key).order_by(key).limit(1))
    return {"rules": rules, "admin_rows": rows}


def user(email: str, *flags: str) -> dict[str, Any]:
    """Make an account (an admin, a paying member, or neither)."""
    account = _user(email, admin="--admin" in flags)
    if "--member" in flags and not _subscribed(account):
        _pay(account)
    return {"email": account.email, "id": account.id, "password": DEFAULT_PASSWORD}


def busy_admin(email: str) -> dict[str, Any]:
    """An admin with a second factor, and audit entries enough for the log to run to many pages."""
    from campus import audit
    from campus.extensions import db

    account = _user(email, admin=True)
    secret = _enable_totp(account)
    for number in range(200):
        audit.record("note", object_type="Note", object_id=number, summary="A note", system=True)
    db.session.commit()
    return {"email": account.email, "password": DEFAULT_PASSWORD, "totp_secret": secret}


def audit_entry(action: str) -> dict[str, Any]:
    """One audit entry with this action, the newest in the log."""
    from campus import audit
    from campus.extensions import db

    audit.record(action, object_type="Credential", object_id=1, summary="A change", system=True)
    db.session.commit()
    return {"action": action}


def studying(email: str) -> dict[str, Any]:
    """A paying member with every lesson of one course done, and fresh in the other."""
    from campus.extensions import db
    from campus.learning.models import Enrollment

    account = _user(email)
    if not _subscribed(account):
        _pay(account)
    studied, fresh = _courses()[1], _courses()[0]
    _studied(account, studied, finish=False)
    if not any(e.course_id == fresh.id for e in account_enrollments(account)):
        db.session.add(Enrollment(user_id=account.id, course_id=fresh.id))
        db.session.commit()
    return {
        "email": account.email,
        "id": account.id,
        "password": DEFAULT_PASSWORD,
        "quiz_course": studied.slug,
        "lesson_course": fresh.slug,
        "lesson_id": fresh.lessons[0].id,
    }


def graduate(email: str) -> dict[str, Any]:
    """A paying member who completed the first course and holds its issued certificate."""
    from sqlalchemy import select

    from campus.certificates.models import Certificate
    from campus.extensions import db

    account = _user(email)
    if not _subscribed(account):
        _pay(account)
    _studied(account, _courses()[0], finish=True)
    code = _issued_certificate(account)
    certificate_id = db.session.scalar(select(Certificate.id).where(Certificate.code == code))
    return {"email": account.email, "code": code, "certificate_id": certificate_id}


def candidate(email: str, assessor_email: str) -> dict[str, Any]:
    """A paying member who completed the demo program's courses; an assessor with TOTP on."""
    from sqlalchemy import select

    from campus.extensions import db
    from campus.programs.models import Program

    program = db.session.scalar(select(Program).order_by(Program.id).limit(1))
    assert program is not None, "seed-demo made no certification program"
    account = _user(email)
    if not _subscribed(account):
        _pay(account)
    for course in program.required_courses:
        _studied(account, course, finish=True)
    assessor = _user(assessor_email, role="assessor")
    return {
        "email": account.email,
        "password": DEFAULT_PASSWORD,
        "program_slug": program.slug,
        "assessor": assessor.email,
        "assessor_totp_secret": _enable_totp(assessor),
    }


def account_enrollments(account) -> list:
    from sqlalchemy import select

    from campus.extensions import db
    from campus.learning.models import Enrollment

    return list(db.session.scalars(select(Enrollment).where(Enrollment.user_id == account.id)))


def main(argv: list[str]) -> None:
    from campus import create_app
    from campus.extensions import db

    app = create_app()
    commands = {
        "audit_entry": audit_entry,
        "busy_admin": busy_admin,
        "candidate": candidate,
        "graduate": graduate,
        "pages": pages,
        "routes": routes,
        "studying": studying,
        "user": user,
    }
    with app.app_context(), app.test_request_context(base_url=app.config["PUBLIC_BASE_URL"]):
        try:
            result = commands[argv[0]](*argv[1:])
        finally:
            db.session.remove()
            db.engine.dispose()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
