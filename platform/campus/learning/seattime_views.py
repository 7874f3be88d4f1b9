"""The lesson page's heartbeat: time on a lesson is credited here, on the server."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campus.errors import json_error
from campus.extensions import db
from campus.learning import bp, progress, seattime
from campus.learning.access import LearningError, check_can_study, study_place


def _refused(err: LearningError) -> Response:
    return json_error(err.code, err.message, err.status)


@bp.post("/courses/<slug>/lessons/<int:lesson_id>/heartbeat")
@login_required
def heartbeat(slug: str, lesson_id: int) -> Response:
    """Credit the time since the last beat to this lesson; answer what is left to spend."""
    user = current_user._get_current_object()
    try:
        place = study_place(user, slug)
        lesson = progress.lesson_in_course(place.course, lesson_id)
        study = check_can_study(user, place.course, place.enrollment)
    except LearningError as err:
        return _refused(err)
    if study.enrollment is None:
        return _refused(
            LearningError(403, "not_enrolled", "Enroll in this course to record your study time.")
        )
    credited = seattime.record_heartbeat(study.enrollment.id, lesson.id)
    db.session.commit()
    lesson_clock = seattime.lesson_clock(study.enrollment, lesson)
    course_clock = seattime.course_clock(study.enrollment, place.course)
    return jsonify(
        credited=credited,
        lesson={
            "spent": lesson_clock.spent,
            "required": lesson_clock.required,
            "remaining": lesson_clock.remaining,
            "remaining_text": seattime.duration(lesson_clock.remaining),
        },
        course={
            "spent": course_clock.spent,
            "required": course_clock.required,
            "remaining": course_clock.remaining,
            "remaining_text": seattime.duration(course_clock.remaining),
        },
    )
