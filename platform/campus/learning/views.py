"""CE course pages: catalog, course, enrollment, lessons, quiz and the "My learning" dashboard."""

from __future__ import annotations

import re
from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from campus import dates, storage
from campus.accounts.models import PROFESSIONS
from campus.daterange import DateRangeError, parse_range
from campus.extensions import db, login_manager
from campus.integers import id_from, query_int
from campus.learning import bp, credit, papers, progress, reports, seattime, snapshots
from campus.learning import catalog as course_catalog
from campus.learning import quiz as quizzes
from campus.learning.access import (
    LearningError,
    certificates_url,
    check_can_study,
    enrollment_of,
    membership_url,
    reader_action,
    study_place,
    visible_course,
)
from campus.learning.models import Course, LessonResource, Module
from campus.learning.seattime import seat_time_facts

_ANSWER_FIELD = re.compile(r"^q-([0-9]{1,12})$")


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _refuse(err: LearningError, course: Course | snapshots.CourseCard | None = None) -> Response:
    """Turn a refusal into the browser's answer: a login, a 404, or back to the course page."""
    if err.status == 401:
        return login_manager.unauthorized()
    if err.status == 404 or course is None:
        abort(err.status, err.message)
    flash(err.message, "warning" if err.status in (403, 409, 429) else "error")
    if err.code == "membership_required":
        return redirect(membership_url())
    return redirect(url_for("learning.course", slug=course.slug))


def _course_or_404(slug: str, *options) -> Course:
    try:
        return visible_course(_user(), slug, *options)
    except LearningError as err:
        abort(err.status, err.message)


@bp.get("/courses/")
def catalog() -> str:
    """List published courses with search and filters."""
    filters = course_catalog.CatalogFilters.from_args(request.args)
    page_number = query_int("page", 1, maximum=9_999)
    stamp = snapshots.catalog_stamp(False)
    courses, total = course_catalog.catalog(filters, page_number, stamp=stamp)
    enrolled = course_catalog.enrollments_by_course(_user(), [c.id for c in courses])
    pages = max(1, -(-total // course_catalog.CATALOG_PAGE_SIZE))
    if total and page_number > pages:
        abort(404, f"The courses end on page {pages}.")
    return render_template(
        "learning/catalog.html",
        courses=courses,
        total=total,
        filters=filters,
        page=page_number,
        pages=pages,
        enrolled=enrolled,
        topics=course_catalog.catalog_topics(stamp),
        professions=PROFESSIONS,
        today=dates.today(),
        hours_filters=course_catalog.HOURS_FILTERS,
        # The page links carry the query, but not a name url_for takes as its own: "endpoint"
        # collided with its argument (a 500), and _external or _anchor would change the link.
        query_args={
            k: v for k, v in request.args.items() if k not in ("page", "endpoint") and k[:1] != "_"
        },
    )


def _hours_revoked(enrollment) -> bool:
    """Whether the completed enrollment's certificate was revoked: its hours count nowhere."""
    if enrollment is None or enrollment.completed_at is None:
        return False
    return enrollment.course_id in credit.revoked_course_ids(enrollment.user_id)


def _completed_on(user, course_id: int, enrollment) -> date | None:
    """The day the page dates the completion on: the one its certificate prints."""
    if user is None or enrollment is None:
        return None
    return credit.completed_on(user.id, course_id, enrollment.completed_at)


@bp.get("/courses/<slug>")
def course(slug: str) -> str:
    """Show a course: overview, objectives, syllabus, presenter, approvals and the next step."""
    user = _user()
    course = _course_or_404(
        slug,
        selectinload(Course.approvals),
        selectinload(Course.audience),
        selectinload(Course.modules).selectinload(Module.lessons),
        selectinload(Course.quiz),
    )
    enrollment = enrollment_of(user, course.id)
    plan = progress.outline(course, enrollment)
    return render_template(
        "learning/course.html",
        course=course,
        enrollment=enrollment,
        completed_on=_completed_on(user, course.id, enrollment),
        hours_revoked=_hours_revoked(enrollment),
        plan=plan,
        action=reader_action(user, course, enrollment),
        question_count=course.quiz.drawn_count() if course.quiz else 0,
        professions=PROFESSIONS,
        today=dates.today(),
    )


@bp.post("/courses/<slug>/enroll")
def enroll(slug: str) -> Response:
    """Enroll the signed-in member, then open the first lesson."""
    course = _course_or_404(slug)
    if not current_user.is_authenticated:
        flash("Create a free account or sign in, then become a member to enroll.", "info")
        return redirect(url_for("accounts.signup", next=url_for("learning.course", slug=slug)))
    try:
        progress.enroll(_user(), course)
    except LearningError as err:
        if err.code == "already_enrolled":
            # A double click, or the button in a stale tab: they want to study, so they do.
            return redirect(url_for("learning.resume", slug=course.slug))
        return _refuse(err, course)
    db.session.commit()
    flash(f"You are enrolled in {course.title}. Welcome!", "success")
    return redirect(url_for("learning.resume", slug=course.slug))


@bp.get("/courses/<slug>/continue")
@login_required
def resume(slug: str) -> Response:
    """Send a student to the lesson they should study next (or the quiz when all are done)."""
    course = _course_or_404(slug)
    try:
        study = check_can_study(_user(), course)
    except LearningError as err:
        return _refuse(err, course)
    plan = progress.outline(course, study.enrollment)
    if not plan.lessons:
        return redirect(url_for("learning.quiz", slug=slug))
    if study.enrollment is None:
        return redirect(url_for("learning.lesson", slug=slug, lesson_id=plan.lessons[0].id))
    target = progress.resume_lesson(study.enrollment, plan)
    if target is None:
        return redirect(url_for("learning.quiz", slug=slug))
    return redirect(url_for("learning.lesson", slug=slug, lesson_id=target.id))


@bp.get("/courses/<slug>/lessons/<int:lesson_id>")
@login_required
def lesson(slug: str, lesson_id: int) -> str | Response:
    """Show a lesson with the course outline, progress, previous / next and mark complete."""
    user = _user()
    try:
        place = study_place(user, slug)
    except LearningError as err:
        abort(err.status, err.message)
    course = place.course
    try:
        lesson = progress.lesson_in_course(course, lesson_id)
        study = check_can_study(user, course, place.enrollment)
    except LearningError as err:
        return _refuse(err, course)
    if study.enrollment is not None and progress.note_lesson_opened(study.enrollment, lesson):
        db.session.commit()
    plan = progress.outline(course, study.enrollment, place.completed_ids)
    before, after = plan.neighbours(lesson)
    # The lesson's text is the same for every student of this course version: render it once.
    lesson_text = snapshots.cached_fragment(
        ("lesson-text", lesson.id, request.script_root),
        course.updated_at,
        lambda: Markup(render_template("learning/_lesson_text.html", course=course, lesson=lesson)),
    )
    return render_template(
        "learning/lesson.html",
        course=course,
        lesson=lesson,
        lesson_text=lesson_text,
        plan=plan,
        study=study,
        before=before,
        after=after,
        is_done=lesson.id in plan.completed_ids,
        seat=seat_time_facts(study.enrollment, course, lesson),
    )


@bp.post("/courses/<slug>/lessons/<int:lesson_id>/complete")
@login_required
def complete(slug: str, lesson_id: int) -> Response:
    """Mark a lesson complete (again is harmless) and move on to the next step."""
    course = _course_or_404(slug)
    try:
        result = progress.complete_lesson(_user(), lesson_id, course)
    except LearningError as err:
        return _refuse(err, course)
    db.session.commit()
    if result.course_completed:
        flash("Course complete. Well done!", "success")
        return redirect(url_for("learning.course", slug=slug))
    plan = progress.outline(course, result.enrollment)
    _before, after = plan.neighbours(result.lesson)
    if plan.all_done:
        clock = seattime.course_clock(result.enrollment, course)
        if clock.met:
            flash("Every lesson is complete: the final quiz is open.", "success")
        else:
            flash(
                "Every lesson is complete. The final quiz opens after "
                f"{seattime.duration(clock.remaining)} more study on the lessons.",
                "info",
            )
        return redirect(url_for("learning.quiz", slug=slug))
    target = after if after is not None else progress.resume_lesson(result.enrollment, plan)
    if target is None:
        return redirect(url_for("learning.quiz", slug=slug))
    return redirect(url_for("learning.lesson", slug=slug, lesson_id=target.id))


@bp.get("/courses/<slug>/lessons/<int:lesson_id>/resources/<int:resource_id>")
@login_required
def resource(slug: str, lesson_id: int, resource_id: int) -> Response:
    """Download a lesson resource (same rule as opening the lesson)."""
    course = _course_or_404(slug)
    try:
        lesson = progress.lesson_in_course(course, lesson_id)
        check_can_study(_user(), course)
    except LearningError as err:
        return _refuse(err, course)
    item = db.session.get(LessonResource, resource_id)
    if item is None or item.lesson_id != lesson.id:
        abort(404, "That file is not part of this lesson.")
    response = storage.send(
        item.storage_key, mimetype=item.content_type, download_name=item.filename
    )
    if response is None:
        abort(404, "That file is missing. Please tell us so we can restore it.")
    return response


def _answers_from_form() -> dict[int, list[int]]:
    """Read q-<question id> fields (one value for radios, several for checkboxes)."""
    answers: dict[int, list[int]] = {}
    for key in request.form:
        match = _ANSWER_FIELD.match(key)
        if not match:
            continue
        values = request.form.getlist(key)
        # ASCII digits only: str.isdigit() also passes "²", which int() refuses.
        if not all(v.isascii() and v.isdigit() and len(v) <= 12 for v in values):
            raise LearningError(422, "invalid_answers", "Some answers could not be read.")
        answers[int(match.group(1))] = [int(v) for v in values]
    return answers


@bp.route("/courses/<slug>/quiz", methods=["GET", "POST"])
@login_required
def quiz(slug: str) -> str | Response | tuple[str, int]:
    """Show the final quiz without its key; score a submission on the server."""
    user = _user()
    course = _course_or_404(slug)
    try:
        study = check_can_study(user, course)
        quiz = quizzes.quiz_of(course)
    except LearningError as err:
        return _refuse(err, course)
    status = 200
    problems: list[str] = []
    error: str | None = None
    submitted: dict[int, list[int]] = {}
    if request.method == "POST":
        try:
            submitted = _answers_from_form()
            shown = id_from(request.form.get("paper", ""))
            result = quizzes.submit_attempt(user, course, submitted, paper_id=shown)
        except LearningError as err:
            if err.status in (401, 403, 404):
                return _refuse(err, course)
            db.session.rollback()
            status, error = err.status, err.message
            problems = err.extra.get("problems", [])
        else:
            db.session.commit()
            if result.course_completed:
                flash(
                    f"You passed with {result.score.percent}% and completed the course.", "success"
                )
            elif result.score.passed:
                flash(f"You passed with {result.score.percent}%.", "success")
            else:
                flash(
                    f"You scored {result.score.percent}%; the pass mark is "
                    f"{result.score.pass_mark_percent}%. Review the lessons and try again.",
                    "warning",
                )
            return redirect(url_for("learning.quiz", slug=slug))
    enrollment = study.enrollment
    plan = progress.outline(course, enrollment)
    passed = quizzes.passed_attempt(enrollment)
    attempts = quizzes.attempts_of(enrollment) if enrollment is not None else []
    allowance = quizzes.attempt_allowance(enrollment, quiz) if enrollment is not None else None
    questions, paper = _quiz_questions(user, course, quiz, enrollment, passed, study.preview)
    revisit = papers.objectives_to_revisit(attempts[0]) if attempts and not passed else []
    return render_template(
        "learning/quiz.html",
        course=course,
        quiz=quiz,
        questions=questions,
        paper=paper,
        # The open attempt's own pass mark: an admin's edit since it started does not move it.
        pass_mark=papers.pass_mark_of(paper, quiz) if paper else quiz.pass_mark_percent,
        revisit=revisit,
        plan=plan,
        study=study,
        completed_on=_completed_on(user, course.id, enrollment),
        hours_revoked=_hours_revoked(enrollment),
        passed=passed,
        attempts=attempts,
        allowance=allowance,
        rule=quizzes.PARTIAL_CREDIT_RULE,
        error=error,
        problems=problems,
        submitted=submitted,
        certificates_url=certificates_url(),
        seat_clock=seattime.course_clock(enrollment, course),
        seat_duration=seattime.duration,
        seat_minutes_per_hour=seattime.STUDY_MINUTES_PER_CE_HOUR,
    ), status


def _quiz_questions(user, course, quiz, enrollment, passed, preview):
    # The questions the page shows: the passed attempt for its review, the student's frozen
    # open attempt (started now if they may take one), or the bank for an admin's preview.
    if passed is not None:
        return (papers.questions_of(passed.paper) if passed.paper else quiz.questions), None
    if preview or enrollment is None:
        return quiz.questions, None
    try:
        paper = quizzes.begin_attempt(user, course)
    except LearningError:
        db.session.rollback()
        return [], None
    db.session.commit()
    return papers.questions_of(paper), paper


@bp.get("/learning/")
@login_required
def dashboard() -> tuple[str, int]:
    """Show the student's courses in progress and completed, and CE hours earned."""
    user = _user()
    today = dates.today()
    rows = reports.enrollment_rows(user)
    status = 200
    range_error = None
    try:
        start, end = parse_range(request.args.get("from"), request.args.get("to"), today)
    except DateRangeError as err:
        status, range_error = 400, err.message
        start, end = parse_range(None, None, today)
    year_start = today.replace(month=1, day=1)
    trackers = None
    if "licenses" in current_app.extensions.get("campus_features", ()):
        # One renewal tracker per license, when the licenses feature is part of the build.
        from campus.licenses.tracker import trackers_for

        trackers = trackers_for(user.id, today)
    return render_template(
        "learning/dashboard.html",
        trackers=trackers,
        in_progress=[r for r in rows if not r.enrollment.is_complete],
        completed=[r for r in rows if r.enrollment.is_complete],
        year=today.year,
        year_hours=reports.ce_hours_between(user, year_start, today),
        range_start=start,
        range_end=end,
        range_hours=reports.ce_hours_between(user, start, end),
        range_count=reports.completions_between(user, start, end),
        range_error=range_error,
        raw_from=request.args.get("from", ""),
        raw_to=request.args.get("to", ""),
        certificates_url=certificates_url(),
        membership_url=membership_url(),
    ), status
