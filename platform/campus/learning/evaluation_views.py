"""The course evaluation and attestation page, between completion and the certificate."""

from __future__ import annotations

from datetime import date

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import BooleanField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from campus import dates
from campus.extensions import db
from campus.forms import Form, WholeNumberField, printable_text
from campus.integers import whole_number
from campus.learning import bp, evaluation
from campus.learning.access import LearningError, certificates_url, course_to_evaluate
from campus.learning.views import _refuse
from campus.models.base import utcnow

_CHOICES = [SelectChoice(str(value), label) for value, label in evaluation.SCALE.items()]


def _rating(field: str) -> RadioField:
    # Unanswered or odd values are reported by the service, once, in the learner's words.
    return RadioField(evaluation.RATINGS[field], choices=_CHOICES, validate_choice=False)


class EvaluationForm(Form):
    """The evaluation questions and the attestation."""

    objectives_met = _rating("objectives_met")
    relevance = _rating("relevance")
    presenter = _rating("presenter")
    content_quality = _rating("content_quality")
    minutes_taken = WholeNumberField(
        "About how many minutes did the course take you?",
        validators=[
            InputRequired("Say how many minutes the course took you."),
            NumberRange(1, evaluation.MAX_MINUTES, "Enter a whole number of minutes."),
        ],
        render_kw={"min": 1, "max": evaluation.MAX_MINUTES, "inputmode": "numeric"},
    )
    comments = TextAreaField(
        "Comments (optional): what worked, what to improve",
        validators=[Optional(), Length(max=evaluation.MAX_COMMENTS)],
        filters=[printable_text],
        render_kw={"rows": 5, "maxlength": evaluation.MAX_COMMENTS},
    )
    attest = BooleanField(evaluation.ATTESTATION)

    def answers(self) -> evaluation.Answers:
        """The answers as the service reads them (unanswered ratings are 0)."""
        ratings = {}
        for field in evaluation.RATINGS:
            raw = getattr(self, field).data
            ratings[field] = whole_number(str(raw or ""), max(evaluation.SCALE)) or 0
        return evaluation.Answers(
            ratings=ratings,
            minutes_taken=self.minutes_taken.data or 0,
            comments=self.comments.data or "",
            attested=bool(self.attest.data),
        )


@bp.route("/courses/<slug>/evaluation", methods=["GET", "POST"])
@login_required
def course_evaluation(slug: str) -> str | Response | tuple[str, int]:
    """Ask for the course evaluation and attestation; storing them queues the certificate."""
    user = current_user._get_current_object()
    try:
        course = course_to_evaluate(user, slug)
    except LearningError as err:
        return _refuse(err)
    try:
        enrollment = evaluation.completed_enrollment(user, course)
    except LearningError as err:
        return _refuse(err, course)
    given = evaluation.evaluation_of(enrollment)
    form = EvaluationForm()
    problems: list[str] = []
    # The provider's calendar day it was completed: the day a license must have been current.
    completed_on = dates.local_date(enrollment.completed_at or utcnow())
    licenses = _license_choices(user, course, enrollment, completed_on) if given is None else []
    chosen = None
    license_problem = None
    if given is None and form.is_submitted():
        # The service checks the answers (one message each); the form adds only what it alone
        # knows: a missing or stale CSRF token.
        if not form.validate():
            problems = list(form.errors.get("csrf_token", []))
        by_question = evaluation.problems_of(form.answers())
        if licenses:
            picked = request.form.get("license_id", "")
            chosen = next((x for x in licenses if str(x.id) == picked), None)
            if chosen is None:
                by_question["license_id"] = "Choose the license this certificate is for."
        problems += by_question.values()
        # Each message is said again at its question (the list at the top is screens away on
        # a phone); the service's words replace the form's own, so both places agree.
        for name in form._fields:
            if name != "csrf_token":
                problem = by_question.get(name)
                form[name].errors = [evaluation.said_at_question(name, problem)] if problem else []
        license_problem = by_question.get("license_id")
        if not problems:
            try:
                if chosen is not None:
                    from campus.licenses.actions import choose_for_certificate

                    choose_for_certificate(user, enrollment, chosen)
                evaluation.submit(user, course, form.answers())
            except LearningError as err:
                db.session.rollback()
                return _refuse(err, course)
            db.session.commit()
            flash("Thank you. Your certificate is being prepared.", "success")
            return redirect(certificates_url() or url_for("learning.course", slug=slug))
    return render_template(
        "learning/evaluation.html",
        course=course,
        enrollment=enrollment,
        given=given,
        form=form,
        problems=problems,
        ratings=evaluation.RATINGS,
        certificates_url=certificates_url(),
        licenses=licenses,
        completed_on=completed_on,
        license_problem=license_problem,
        chosen_id=chosen.id if chosen else request.form.get("license_id", ""),
    ), (422 if problems else 200)


def _license_choices(user, course, enrollment, day: date) -> list:
    """The licenses the learner picks from for the certificate: only when several fit."""
    if "licenses" not in current_app.extensions.get("campus_features", ()):
        return []
    from campus.licenses.choice import choices_for_certificate

    return choices_for_certificate(user.id, course, day, enrollment.completed_course)
