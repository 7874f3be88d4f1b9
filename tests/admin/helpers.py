"""Factories and sign-in helpers for the admin tests."""

from __future__ import annotations

import html as html_lib
import json
import re
import time
from types import SimpleNamespace

from flask.testing import FlaskClient

from tests import support

ADMIN_PASSWORD = support.DEFAULT_PASSWORD


def sign_in_admin(app, client: FlaskClient, *, fresh: bool = True, email: str | None = None) -> int:
    """Create an admin with TOTP and sign the client in with it; `fresh` as if the password
    was just confirmed.

    The login form, the code step and the confirmation page have their own tests; here the
    session (one that passed the second factor) is set up directly to keep the suite fast.
    """
    with app.app_context():
        admin = support.create_user(role="admin", full_name="Ada Admin", email=email)
        admin_id = admin.id
        support.enable_totp(admin_id)
        support.sign_in_directly(client, admin_id, second_factor=True)
    if fresh:
        with client.session_transaction() as session:
            session["admin_confirmed_at"] = time.time()
    return admin_id


def confirm_password(client: FlaskClient, password: str = ADMIN_PASSWORD):
    """Re-enter the password (and the current code) on /admin/confirm/ (opens sensitive
    actions for ten minutes)."""
    return post(client, "/admin/confirm/?next=/admin/", confirm_fields(client, password))


def confirm_fields(client: FlaskClient, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    """The fields of the confirmation form: the password, and a fresh code if the admin has one."""
    data = {"password": password}
    code = _fresh_code(client)
    if code:
        data["code"] = code
    return data


def _fresh_code(client: FlaskClient) -> str | None:
    """A code of the signed-in admin's app not used yet (a used step is never accepted again)."""
    import pyotp
    from sqlalchemy import select

    from campus.accounts.models import User, UserSession
    from campus.accounts.sessions import hash_token
    from campus.extensions import db

    with client.session_transaction() as session:
        token = session.get("_user_id")
    if not token:
        return None
    with client.application.app_context():
        user = db.session.scalar(
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token_hash == hash_token(token))
        )
        if user is None or not user.totp_secret:
            return None
        totp = pyotp.TOTP(user.totp_secret)
        step = totp.timecode(time.time())
        if user.totp_last_step is not None and user.totp_last_step >= step:
            step = user.totp_last_step + 1
        return totp.generate_otp(step)


def sign_in_student(app, client: FlaskClient) -> int:
    with app.app_context():
        user = support.create_user()
        user_id, email = user.id, user.email
    support.login(client, email)
    return user_id


def post(client: FlaskClient, path: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token (read from the signed-in page header)."""
    return support.post_form(client, path, data, **kwargs)


def flashes(response) -> list[str]:
    """The flash and field error messages on a page."""
    html = response.get_data(as_text=True)
    found = re.findall(r'class="flash flash-\w+">(.*?)</div>', html, re.S)
    found += re.findall(r'<p class="field-error">(.*?)</p>', html, re.S)
    for block in re.findall(r'<ul class="form-text text-danger[^"]*">(.*?)</ul>', html, re.S):
        found += re.findall(r"<li>(.*?)</li>", block, re.S)
    return [html_lib.unescape(re.sub(r"\s+", " ", m).strip()) for m in found]


def audit_entries(app, **where) -> list:
    """Audit entries matching column values, oldest first."""
    from sqlalchemy import select

    from campus.admin.models import AuditEntry
    from campus.extensions import db

    with app.app_context():
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        rows = db.session.scalars(stmt).all()
        return [
            SimpleNamespace(
                action=r.action,
                object_type=r.object_type,
                object_id=r.object_id,
                actor_id=r.actor_id,
                actor_email=r.actor_email,
                summary=r.summary,
                before=r.before,
                after=r.after,
                created_at=r.created_at,
                ip_address=r.ip_address,
            )
            for r in rows
        ]


def make_event(app, *, status: str = "failed", event_type: str = "invoice.created", obj=None):
    """Store a webhook event row as billing would have (inside its own app context)."""
    from campus.billing.models import WebhookEvent
    from campus.extensions import db

    with app.app_context():
        n = next(support._counter)
        payload = {
            "id": f"evt_admin_{n}",
            "type": event_type,
            "created": 1_790_000_000 + n,
            "data": {"object": obj or {"id": f"in_{n}", "object": "invoice"}},
        }
        row = WebhookEvent(
            stripe_event_id=payload["id"],
            type=event_type,
            created=payload["created"],
            payload=json.dumps(payload),
            status=status,
            attempts=1,
            last_error="RuntimeError: boom" if status == "failed" else None,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def make_catalog(app):
    """One of everything the admin edits; returns their ids."""

    from campus.content import downloads
    from campus.content import services as content
    from campus.content.models import Lead
    from campus.extensions import db
    from tests.learning.helpers import make_course

    with app.app_context():
        course = make_course("admin-fixture-course")
        article = content.save_article(
            slug="fixture-article",
            title="Fixture article",
            body_md="Free part.\n\n<!-- more -->\n\nPaid part.",
            category="Shoulder",
            tags=["Trapezius"],
        )
        download, _ = downloads.save_download(
            slug="fixture-guide", title="Fixture guide", description="A guide", filename="g.pdf"
        )
        db.session.flush()
        db.session.add(
            Lead(download_id=download.id, email="lead@example.com", name="Lee", consent_text="ok")
        )
        member = support.create_user(email="member@example.com", full_name="Mia Member")
        support.make_member(member.id)
        comp = support.grant_comp(member.id)
        from campus.admin.services import record

        entry = record("update", article, summary="fixture", actor=member)
        from campus.certificates.models import Certificate
        from campus.models.base import utcnow

        certificate = Certificate(
            code="ADMFIX0001",
            user_id=member.id,
            course_id=course.id,
            status="issued",
            data={"code": "ADMFIX0001", "course_title": "Fixture course", "approvals": []},
            ce_hours=2,
            completed_at=utcnow(),
            issued_at=utcnow(),
        )
        db.session.add(certificate)
        db.session.flush()
        from campus.reporting.models import ReportedCompletion

        report = ReportedCompletion(
            certificate_id=certificate.id, system="cebroker", jurisdiction="FL", status="rejected"
        )
        db.session.add(report)
        from campus.licenses.models import RenewalRule

        rule = RenewalRule(
            jurisdiction="FL",
            profession="massage_therapist",
            hours_per_cycle=24,
            cycle_months=24,
            required_subjects={"ethics": "2.00"},
            accepted_approvals=["FL"],
            capped_deliveries=["home_study"],
            source="Fla. Admin. Code R. 64B7-28.009",
        )
        db.session.add(rule)
        from datetime import date

        from campus.records.models import RetentionHold

        gone = support.create_user(email="gone@example.com", full_name="Gale Gone")
        hold = RetentionHold(
            user_id=gone.id,
            participant_name="Gale Gone",
            last_activity_on=date(2026, 1, 5),
            purge_after=date(2032, 1, 5),
            retention_years=6,
        )
        db.session.add(hold)
        db.session.commit()
        from sqlalchemy import select

        from campus.learning.models import BoardApproval, Module, Question

        ids = SimpleNamespace(
            course=course.id,
            module=db.session.scalar(select(Module.id).where(Module.course_id == course.id)),
            lesson=course.lesson_ids[0],
            quiz=course.quiz_id,
            question=db.session.scalar(
                select(Question.id).where(Question.quiz_id == course.quiz_id)
            ),
            approval=db.session.scalar(
                select(BoardApproval.id).where(BoardApproval.course_id == course.id)
            ),
            article=article.id,
            category=article.category_id,
            tag=article.tags[0].id,
            download=download.id,
            lead=db.session.scalar(select(Lead.id)),
            member=member.id,
            comp=comp.id,
            audit=entry.id,
            report=report.id,
            certificate=certificate.id,
            renewal_rule=rule.id,
            hold=hold.id,
            lessons_count=len(course.lesson_ids),
        )
        _add_program_fixtures(ids, member.id, course)
    ids.event = make_event(app)
    with app.app_context():
        from campus.directory import actions as directory_actions
        from campus.directory.services import ProfileData

        owner = support.create_user()
        profile = directory_actions.save_profile(
            owner,
            ProfileData(
                display_name="Catalog Practitioner",
                zip_code="10001",
                specialties=["trigger-point-therapy"],
            ),
        )
        db.session.commit()
        ids.directory_profile = profile.id
    return ids


def _add_program_fixtures(ids, user_id: int, course) -> None:
    """A program with a bank question, a credential and a practical video waiting for review."""
    from campus.extensions import db
    from campus.programs.models import PracticalSubmission
    from campus.storage import get_storage
    from tests.programs.helpers import add_questions, make_credential, make_program

    program = make_program(
        slug="admin-fixture-program",
        practical_required=True,
        rubric="Locates the trigger point\nApplies pressure safely",
    )
    ids.program = program.id
    ids.exam_question = add_questions(program, "Anatomy", 1)[0]
    ids.credential = make_credential(user_id, program).id
    key = "programs/practicals/fixture/video.mp4"
    get_storage().save(key, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    submission = PracticalSubmission(
        program_id=program.id,
        user_id=user_id,
        storage_key=key,
        filename="video.mp4",
        content_type="video/mp4",
        size_bytes=76,
    )
    db.session.add(submission)
    db.session.commit()
    ids.submission = submission.id


# The record each admin view's ?id= names, and the fixture id each URL argument takes.
VIEW_OF = {
    "admin_courses": "course",
    "admin_modules": "module",
    "admin_lessons": "lesson",
    "admin_quizzes": "quiz",
    "admin_questions": "question",
    "admin_approvals": "approval",
    "admin_articles": "article",
    "admin_categories": "category",
    "admin_tags": "tag",
    "admin_downloads": "download",
    "admin_leads": "lead",
    "admin_members": "member",
    "admin_webhooks": "event",
    "admin_comps": "comp",
    "admin_audit": "audit",
    "admin_certificates": "certificate",
    "admin_reports": "report",
    "admin_programs": "program",
    "admin_exam_questions": "exam_question",
    "admin_credentials": "credential",
    "admin_renewal_rules": "renewal_rule",
    "admin_directory": "directory_profile",
    "admin_retention_holds": "hold",
}
ARG_OF = {
    "user_id": "member",
    "event_id": "event",
    "article_id": "article",
    "course_id": "course",
    "credential_id": "credential",
    "submission_id": "submission",
    "profile_id": "directory_profile",
}


def admin_url(rule: str, endpoint: str, ids) -> str:
    """Fill a rule's arguments (and ?id= for record pages) from the fixture's ids."""
    prefix = endpoint.split(".")[0]
    url = rule
    for arg, attr in ARG_OF.items():
        url = url.replace(f"<int:{arg}>", str(getattr(ids, attr)))
    for name in ("certificate_id",):
        if f"<int:{name}>" in url:
            url = url.replace(f"<int:{name}>", str(ids.certificate))
    url = url.replace("<export_type>", "csv")
    if endpoint.endswith((".edit_view", ".details_view")):
        url += f"?id={getattr(ids, VIEW_OF[prefix])}"
    if endpoint.endswith(".ajax_lookup"):
        url += "?name=none&query=a"
    return url
