"""Programs admin: build programs (courses, eligibility, exam rules, rubric), their exam bank,
and the credentials issued (read them, revoke with a reason).

Domain weights, professions and a question's answers are kept as JSON; the forms show them as
plain text ("Domain: weight" lines, a multi-select, one answer a line with * on the right one).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import abort, flash, g, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import SelectMultipleField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, NumberRange, Optional

from campus import dates
from campus.accounts.models import PROFESSIONS
from campus.admin.base import AuditedModelView, InlineRows, select_choices
from campus.admin.catalog import SLUG
from campus.admin.conflicts import GuardedEdits
from campus.admin.forms import ActionForm, RevokeForm
from campus.admin.refusals import details_again, flash_form_refusals, flash_refusal
from campus.extensions import db
from campus.forms import printable_text
from campus.integers import is_digits, whole_number
from campus.models.writes import lock_row
from campus.programs import actions, exam, issuing
from campus.programs.models import (
    RESERVED_SLUGS,
    Credential,
    ExamQuestion,
    Program,
    ProgramCourse,
)
from campus.programs.progress import completion_gaps, practical_gaps


def parse_weights(text: str) -> dict[str, int]:
    """Read "Domain: weight" lines into a dict; raise ValidationError on a bad line."""
    weights: dict[str, int] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, raw = line.rpartition(":")
        if not sep or not name.strip() or not is_digits(raw.strip()):
            raise ValidationError(f'Line {number}: write "Domain: weight", e.g. "Anatomy: 2".')
        weight = whole_number(raw.strip(), 100)
        if weight is None or weight < 1:
            raise ValidationError(f"Line {number}: a weight is between 1 and 100.")
        domain = name.strip()[:80]
        if domain in weights:
            # Kept once, its last weight alone would count: the paper split unlike the text.
            raise ValidationError(f"Line {number}: the domain {domain!r} is given twice.")
        weights[domain] = weight
    if not weights:
        raise ValidationError("Give at least one exam domain with its weight.")
    return weights


def parse_choices(text: str) -> list[dict]:
    """Read one answer a line, the right one starting with *, into the stored choices."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    try:
        return exam.choices_from(lines, "Line")
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class ProgramCourseInline(InlineRows):
    """A course of the program: required or elective."""

    form_columns = ("id", "course", "kind", "position")
    form_choices = {"kind": [("required", "Required"), ("elective", "Elective")]}
    form_args = {"course": {"get_label": "title", "validators": [DataRequired()]}}


class ProgramView(GuardedEdits, AuditedModelView):
    """Programs: what they require, who may take them, exam rules, practical and validity."""

    column_list = ("title", "slug", "published", "validity_months", "accrediting_body")
    column_labels = {"validity_months": "Valid (months)"}
    column_searchable_list = ("title", "slug")
    inline_models = (ProgramCourseInline(ProgramCourse),)
    form_columns = (
        "title",
        "slug",
        "description",
        "accrediting_body",
        "profession_keys",
        "license_required",
        "elective_hours",
        "validity_months",
        "renewal_hours",
        "weights_text",
        "exam_question_count",
        "exam_time_limit_minutes",
        "exam_pass_mark",
        "exam_attempts_allowed",
        "exam_retake_wait_days",
        "practical_required",
        "practical_techniques",
        "rubric",
        "published",
    )
    form_extra_fields = {
        "profession_keys": SelectMultipleField(
            "Open to professions (none chosen: anyone)",
            choices=select_choices(PROFESSIONS.items()),
        ),
        "weights_text": TextAreaField(
            "Exam domains and weights",
            description='One "Domain: weight" a line; the paper draws questions in proportion.',
        ),
    }
    form_args = {
        "title": {"validators": [DataRequired("Give the program a title.")]},
        "slug": {"validators": [DataRequired(), SLUG]},
        "accrediting_body": {
            "description": "Leave empty unless a body accredits it: pages then say it is a "
            "certificate program of the provider, not an accredited certification."
        },
        "practical_techniques": {"description": "The techniques to film, one a line."},
        "rubric": {"description": "The assessor's criteria, one a line; a pass needs all."},
        "validity_months": {"validators": [NumberRange(1, 240)]},
        "exam_pass_mark": {"validators": [NumberRange(1, 100)]},
        "exam_question_count": {"validators": [NumberRange(1, 500)]},
        "exam_time_limit_minutes": {"validators": [NumberRange(1, 600)]},
        "exam_attempts_allowed": {"validators": [NumberRange(1, 50)]},
        "exam_retake_wait_days": {"validators": [NumberRange(0, 365)]},
        "elective_hours": {"validators": [Optional(), NumberRange(0, 500)]},
        "renewal_hours": {"validators": [Optional(), NumberRange(0, 500)]},
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Program, session, **kwargs)

    def on_form_prefill(self, form, id) -> None:
        model = self.get_one(id)
        if model is not None:
            form.profession_keys.data = list(model.professions or [])
            form.weights_text.data = "\n".join(
                f"{d}: {w}" for d, w in (model.exam_domain_weights or {}).items()
            )

    def validate_delete(self, model) -> None:
        # Deleting would take its credentials (and the verify pages boards and clients read),
        # sittings and practical reviews with it: the evidence is kept, the program unpublished.
        members = actions.candidates_with_records(model)
        if members:
            raise ValidationError(
                f"{model.title} has the exam sittings, practicals or credentials of {members} "
                f"member{'s' if members != 1 else ''}, so it cannot be deleted. Unpublish it "
                "instead: untick Published."
            )

    def on_model_change(self, form, model, is_created: bool) -> None:
        self.validate_change(form, model, is_created)
        before = None if is_created else g.pop("admin_audit_before", None)
        # Through the programs' action: it logs the save and re-checks the candidates after it.
        actions.save_program(
            model, created=is_created, before=before, actor=current_user._get_current_object()
        )

    def validate_change(self, form, model, is_created: bool) -> None:
        if model.slug in RESERVED_SLUGS:
            # /programs/verify/credential.pdf is the verify page of a code "credential.pdf".
            raise ValidationError(
                f"The slug {model.slug!r} is an address of its own: pick another."
            )
        # Any text here makes every page and credential say the program is accredited by it.
        model.accrediting_body = (model.accrediting_body or "").strip() or None
        model.exam_domain_weights = parse_weights(form.weights_text.data)
        model.professions = [p for p in form.profession_keys.data or [] if p in PROFESSIONS]
        for name in ("elective_hours", "renewal_hours"):
            try:
                setattr(model, name, Decimal(str(getattr(model, name) or 0)))
            except InvalidOperation as exc:
                raise ValidationError("Hours must be a number.") from exc
        practical = practical_gaps(model)
        if practical:
            raise ValidationError(f"{practical[0]}, one a line, or untick Practical required.")
        listed = [
            link.course for link in model.courses if link.course and link not in db.session.deleted
        ]
        twice = next((course for course in listed if listed.count(course) > 1), None)
        if twice is not None:
            # The database refuses the second row, and its refusal reads as another admin's save.
            raise ValidationError(
                f"{twice.title} is listed twice: a course is either required or an elective."
            )
        gaps = completion_gaps(model) if model.published else []
        if gaps:
            # Candidates would take its exam, then wait for a credential no one can earn.
            raise ValidationError(
                "No candidate could complete this program, so it cannot be published: "
                + "; ".join(gaps)
                + ". Untick Published to keep it as a draft."
            )


class ExamQuestionView(GuardedEdits, AuditedModelView):
    """The exam bank: questions by program and domain, one right answer each."""

    column_list = ("program", "domain", "prompt")
    column_searchable_list = ("prompt", "domain")
    column_filters = ("domain",)
    form_columns = ("program", "domain", "prompt", "choices_text", "explanation")
    form_extra_fields = {
        "choices_text": TextAreaField(
            "Answers",
            description="One answer a line; start the right one with *. They are shuffled.",
            filters=[printable_text],
        )
    }
    form_args = {
        "program": {"get_label": "title", "validators": [DataRequired()]},
        "prompt": {"validators": [DataRequired("Write the question.")]},
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(ExamQuestion, session, **kwargs)

    def on_form_prefill(self, form, id) -> None:
        model = self.get_one(id)
        if model is not None:
            form.choices_text.data = "\n".join(
                ("* " if c.get("correct") else "") + c["text"] for c in model.choices
            )

    def validate_delete(self, model) -> None:
        _keep_exam_whole(model.program, model, model.domain, "Deleting this question")

    def validate_change(self, form, model, is_created: bool) -> None:
        model.choices = parse_choices(form.choices_text.data)
        # A paper draws a domain's questions by its name exactly: another is never drawn.
        model.domain = (model.domain or "").strip()
        domains = list(model.program.exam_domain_weights or {})
        if model.domain not in domains:
            raise ValidationError(
                f"Choose one of the exam domains of {model.program.title}: "
                + ", ".join(domains)
                + ". Add a domain on the program's page first."
            )
        before = g.get("admin_audit_before") or {}
        left = (before.get("program_id"), before.get("domain"))
        if not is_created and left != (model.program_id, model.domain):
            # Moved to another program or domain: the exam it leaves may no longer be drawn.
            program = db.session.get(Program, left[0]) if left[0] else None
            _keep_exam_whole(program, None, left[1], "Moving this question")


def _keep_exam_whole(
    program: Program | None, leaving: ExamQuestion | None, domain: str | None, change: str
) -> None:
    """Refuse a change that leaves a domain of a published program's bank short of its exam."""
    if program is None or not program.published:
        return
    # Locked to the commit, and its bank read again under the lock: two admins deleting (or
    # moving) different questions at once would each count the other's as still there.
    lock_row(Program, program.id)
    db.session.refresh(program)
    db.session.expire(program, ["questions"])
    short = exam.bank_shortfall(program, leaving, domain)
    if short:
        # Its candidates would find the exam "being prepared" until someone noticed.
        raise ValidationError(
            f"{change} would leave the published exam of {program.title} short: "
            + "; ".join(short)
            + ". Add questions to that domain first, or unpublish the program."
        )


def _state_badge(credential: Credential) -> Markup:
    """The credential's standing today as a badge: valid, expired, revoked, pending, failed or
    queued (failed, then issued again by an admin)."""
    if credential.queued_again:
        state = "queued"
    elif credential.status == "failed":
        state = "failed"
    else:
        state = credential.status_on(dates.today())
    css = {
        "valid": "badge-ok",
        "revoked": "badge-danger",
        "failed": "badge-danger",
        "expired": "badge-warn",
    }.get(state, "badge-muted")
    return Markup(f'<span class="badge {css}">{escape(state)}</span>')


class CredentialView(AuditedModelView):
    """Issued credentials: find them by code or holder, read their history, revoke them."""

    can_create = can_edit = can_delete = False
    column_list = ("code", "user", "program", "status", "valid_until", "issued_at")
    column_labels = {"user": "Holder"}
    column_searchable_list = ("code", "user.email", "user.full_name")
    column_filters = ("status", "valid_until")
    column_formatters = {
        "status": lambda v, c, m, n: _state_badge(m),
        "user": lambda v, c, m, n: m.user.email,
        "program": lambda v, c, m, n: m.program.title,
    }
    details_template = "admin/campus/credential_details.html"
    sensitive_views = ("revoke", "issue_again")

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Credential, session, **kwargs)

    def render(self, template, **kwargs):
        kwargs.setdefault("revoke_form", RevokeForm(prefix="revoke"))
        kwargs.setdefault("issue_again_form", ActionForm())
        kwargs.setdefault("state_badge", _state_badge)
        return super().render(template, **kwargs)

    def _change(self, credential_id: int, form, form_name: str, change, done: str):
        """Apply one change to a credential from its page; flash what happened and go back.

        A refused form comes back on the page as `form_name`, its errors under its fields.
        """
        # Locked to the commit: a second click landing at once waits, then finds it changed.
        lock_row(Credential, credential_id)
        credential = db.session.get(Credential, credential_id, populate_existing=True)
        if credential is None:
            abort(404)
        back = redirect(url_for(".details_view", id=credential_id))
        if not form.validate_on_submit():
            # Said at the top and under the field it is about, which takes the focus: on a
            # phone the Reason box is a screen below the message.
            flash_form_refusals("Nothing changed", form)
            return details_again(self, credential, **{form_name: form})
        try:
            change(credential, actor=current_user._get_current_object())
            db.session.commit()
        except issuing.CredentialError as exc:
            db.session.rollback()
            flash_refusal("Nothing changed", exc.message)
            return back
        flash(f"Credential {credential.code} {done}", "success")
        return back

    @expose("/<int:credential_id>/issue-again", methods=("POST",))
    def issue_again(self, credential_id: int):
        """Queue a credential whose issuing failed (its cause fixed) for issuing again."""
        return self._change(
            credential_id,
            ActionForm(),
            "issue_again_form",
            actions.issue_again,
            "is queued for issuing again.",
        )

    @expose("/<int:credential_id>/revoke", methods=("POST",))
    def revoke(self, credential_id: int):
        """Revoke a credential with a reason (fresh password needed)."""
        form = RevokeForm(prefix="revoke")
        return self._change(
            credential_id,
            form,
            "revoke_form",
            lambda held, actor: actions.revoke_credential(held, form.reason.data, actor),
            "is revoked; its verification page says so.",
        )


def add_views(admin, session) -> None:
    """Add the programs, exam bank, credentials and assessments views."""
    from campus.admin.assessments import AssessmentView

    admin.add_view(
        ProgramView(
            session,
            name="Programs",
            endpoint="admin_programs",
            url="programs",
            category="Programs",
        )
    )
    admin.add_view(
        ExamQuestionView(
            session,
            name="Exam bank",
            endpoint="admin_exam_questions",
            url="exam-questions",
            category="Programs",
        )
    )
    admin.add_view(
        CredentialView(
            session,
            name="Credentials",
            endpoint="admin_credentials",
            url="credentials",
            category="Programs",
        )
    )
    admin.add_view(
        AssessmentView(
            session,
            name="Assessments",
            endpoint="admin_assessments",
            url="/admin/assessments",
            category="Programs",
        )
    )
