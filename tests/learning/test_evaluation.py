"""The course evaluation and attestation come before the certificate."""

from __future__ import annotations

from sqlalchemy import select

from campus.extensions import db
from tests import support
from tests.certificates.helpers import certificate_of, student
from tests.learning.helpers import (
    GOOD_EVALUATION,
    complete_all_lessons,
    enroll_directly,
    evaluate,
    make_course,
    right_answers,
    sign_in,
)


def _completed(app, client):
    """A signed-in student who has completed a course but not evaluated it."""
    from campus.accounts.models import User
    from campus.learning import quiz as quizzes
    from campus.learning.models import Course

    with app.app_context():
        course = make_course(title="Hip basics")
        user_id = student().id
        enroll_directly(user_id, course.id)
        complete_all_lessons(user_id, course)
        result = quizzes.submit_attempt(
            db.session.get(User, user_id), db.session.get(Course, course.id), right_answers(course)
        )
        assert result.course_completed
        db.session.commit()
    sign_in(client, user_id)
    return course, user_id


def _form(client, **changes):
    data = {**GOOD_EVALUATION, **changes, "csrf_token": support.csrf_token(client)}
    return {key: value for key, value in data.items() if value is not None}


def test_the_certificate_waits_for_the_evaluation_and_the_attestation(app, client):
    from campus.learning.models import Enrollment
    from campus.learning.records import CourseEvaluation

    course, user_id = _completed(app, client)
    with app.app_context():
        enrollment = db.session.scalar(select(Enrollment).where(Enrollment.user_id == user_id))
        assert enrollment.completed_at is not None and enrollment.evaluated_at is None
        assert certificate_of(user_id) is None
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Evaluate the course" in page

    url = f"/courses/{course.slug}/evaluation"
    assert "Course evaluation" in client.get(url).get_data(as_text=True)
    unattested = client.post(url, data=_form(client, attest=None))
    assert unattested.status_code == 422
    assert "Confirm the attestation" in unattested.get_data(as_text=True)
    unrated = client.post(url, data=_form(client, presenter=None, minutes_taken="abc"))
    assert unrated.status_code == 422
    body = unrated.get_data(as_text=True)
    assert "Say how far you agree that the presenter" in body and "minutes" in body
    with app.app_context():
        assert db.session.scalar(select(CourseEvaluation.id)) is None
        assert certificate_of(user_id) is None

    done = client.post(url, data=_form(client))
    assert done.status_code == 302
    with app.app_context():
        evaluation = db.session.scalar(select(CourseEvaluation))
        assert (evaluation.objectives_met, evaluation.presenter, evaluation.minutes_taken) == (
            5,
            5,
            130,
        )
        assert evaluation.attestation.startswith("I attest that I completed this course myself")
        assert db.session.get(Enrollment, evaluation.enrollment_id).evaluated_at is not None
        assert certificate_of(user_id).status == "issued"
    again = client.post(url, data=_form(client, comments="second"))
    assert "You evaluated this course" in again.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(CourseEvaluation)).all()) == 1


def test_a_rating_typed_as_a_long_run_of_digits_is_unrated_not_an_error(app, client):
    from campus.learning.records import CourseEvaluation

    course, _user_id = _completed(app, client)
    url = f"/courses/{course.slug}/evaluation"
    # int() refuses more than 4,300 digits with a ValueError.
    for typed in ("5" * 5000, "05", "6"):
        response = client.post(url, data=_form(client, presenter=typed))
        assert response.status_code == 422, typed
        assert "Say how far you agree that the presenter" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(CourseEvaluation.id)) is None


def test_the_evaluation_opens_only_after_completion(app, client):
    from campus.learning.records import CourseEvaluation

    with app.app_context():
        course = make_course()
        user_id = student().id
        enroll_directly(user_id, course.id)
    sign_in(client, user_id)
    url = f"/courses/{course.slug}/evaluation"
    refused = client.post(url, data=_form(client), follow_redirects=True)
    assert "The evaluation opens when every lesson is complete" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(CourseEvaluation.id)) is None


def test_admins_see_evaluation_summaries_and_export_them(app, client):
    from tests.admin.helpers import sign_in_admin

    course, user_id = _completed(app, client)
    with app.app_context():
        evaluate(user_id, course, comments="=HYPERLINK(1) was clear")
    admin = app.test_client()
    sign_in_admin(app, admin)
    page = admin.get("/admin/ce/").get_data(as_text=True)
    assert "Hip basics" in page and "1 evaluation" in page and "4.0" in page
    assert "=HYPERLINK(1) was clear" in page
    export = admin.get("/admin/ce/evaluations.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    text = export.get_data(as_text=True)
    assert "objectives_met" in text and "'=HYPERLINK(1) was clear" in text


def test_the_evaluation_export_is_logged_with_its_number_of_evaluations(app, client):
    from tests.admin.helpers import audit_entries, sign_in_admin

    course, user_id = _completed(app, client)
    with app.app_context():
        # A comment in paragraphs, as a textarea sends it: its line breaks are not rows.
        evaluate(user_id, course, comments="Clear.\r\nWell paced.\r\n\r\nThanks")
    admin = app.test_client()
    sign_in_admin(app, admin)
    assert admin.get("/admin/ce/evaluations.csv").status_code == 200
    [entry] = audit_entries(app, action="export", object_type="CourseEvaluation")
    assert entry.summary == "exported 1 evaluations"


def test_admins_see_the_time_log_on_the_member_record_and_export_it(app, client):
    from tests.admin.helpers import audit_entries, sign_in_admin
    from tests.learning.helpers import record_seat_time

    with app.app_context():
        course = make_course(title="Hip basics")
        user_id = student().id
        enrollment_id = enroll_directly(user_id, course.id)
        record_seat_time(enrollment_id, course.lesson_ids[0], 754)
    admin = app.test_client()
    sign_in_admin(app, admin)
    page = admin.get(f"/admin/members/{user_id}/").get_data(as_text=True)
    assert "Study time log" in page and "Lesson 1" in page and "12 min 34 s" in page
    export = admin.get(f"/admin/ce/members/{user_id}/time-log.csv")
    assert export.status_code == 200
    lines = export.get_data(as_text=True).splitlines()
    assert lines[0].startswith("course,enrollment_id,lesson,seconds")
    assert lines[1].startswith(f"hip-basics,{enrollment_id},Lesson 1,754,")
    assert audit_entries(app, action="export")


def test_the_time_log_export_asks_for_the_password_again(app):
    from tests.admin.helpers import sign_in_admin

    with app.app_context():
        user_id = student().id
    admin = app.test_client()
    sign_in_admin(app, admin, fresh=False)
    answer = admin.get(f"/admin/ce/members/{user_id}/time-log.csv")
    assert answer.status_code == 302 and "/admin/confirm" in answer.headers["Location"]


def test_control_and_text_direction_characters_are_dropped_from_the_comments(app, client):
    from campus.learning.records import CourseEvaluation

    course, _user_id = _completed(app, client)
    typed = "Clear\x07 and\x1b useful.\r\nThe \u202eexam\u202c was fair\x85, Dr.\u00a0Lee 👩\u200d⚕️"
    response = client.post(f"/courses/{course.slug}/evaluation", data=_form(client, comments=typed))
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(CourseEvaluation.comments))
    assert stored == "Clear and useful.\r\nThe exam was fair, Dr.\u00a0Lee 👩\u200d⚕️"


def test_the_time_log_holds_a_completion_to_the_hours_it_earned_not_the_hours_edited_since(app):
    from decimal import Decimal

    from campus.learning import seattime
    from tests.admin.helpers import sign_in_admin
    from tests.certificates.helpers import complete_course, edit_course
    from tests.learning.helpers import record_seat_time

    with app.app_context():
        course = make_course("time-kept", title="Hip basics", ce_hours="2", lessons=1)
        user_id = student().id
        enrollment_id = complete_course(user_id, course)
        record_seat_time(enrollment_id, course.lesson_ids[0], 6000)  # 100 min: 50 per CE hour
        assert certificate_of(user_id).ce_hours == Decimal("2.00")
        # The course is raised to 4 CE hours after this learner earned 2 with 100 minutes.
        edit_course(course.id, ce_hours=Decimal("4"))
    app.config["SEAT_TIME_SCALE"] = 1.0
    try:
        admin = app.test_client()
        sign_in_admin(app, admin)
        page = admin.get(f"/admin/members/{user_id}/").get_data(as_text=True)
        lines = admin.get(f"/admin/ce/members/{user_id}/time-log.csv").get_data(as_text=True)
    finally:
        app.config["SEAT_TIME_SCALE"] = 0.0
    spent = seattime.duration(6000)
    assert f"Hip basics — {spent} of {spent} required" in page
    assert lines.splitlines()[1].split(",")[7] == "6000"


def test_a_course_unpublished_after_completion_can_still_be_evaluated_for_its_certificate(
    app, client
):
    from campus.learning import actions
    from campus.learning.models import Course

    course, user_id = _completed(app, client)
    with app.app_context():
        actions.unpublish(db.session.get(Course, course.id), actor=None)
        db.session.commit()
    dashboard = client.get("/learning/").get_data(as_text=True)
    url = f"/courses/{course.slug}/evaluation"
    assert url in dashboard

    assert "Course evaluation" in client.get(url).get_data(as_text=True)
    assert client.post(url, data=_form(client)).status_code == 302
    with app.app_context():
        assert certificate_of(user_id).status == "issued"


def test_a_draft_course_evaluation_stays_unknown_to_others(app, client):
    from campus.learning import actions
    from campus.learning.models import Course

    course, _user_id = _completed(app, client)
    with app.app_context():
        actions.unpublish(db.session.get(Course, course.id), actor=None)
        other = student().id
        enroll_directly(other, course.id)
    sign_in(client, other)

    assert client.get(f"/courses/{course.slug}/evaluation").status_code == 404


def test_a_course_renamed_before_its_evaluation_is_named_as_completed(app, client):
    from tests.certificates.helpers import edit_course

    course, _user_id = _completed(app, client)
    with app.app_context():
        edit_course(course.id, title="Hip basics, revised")
    page = client.get(f"/courses/{course.slug}/evaluation").get_data(as_text=True)
    # The course the learner attests to completing is the one its certificate will print.
    assert "You completed <strong>Hip basics</strong>" in page


def test_admins_see_each_quiz_attempt_on_the_member_record(app, client):
    # A board auditing the hours asks how the learner did on the quiz: each attempt, when it
    # started and was submitted, its score against the pass mark, is on the member's record.
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning import quiz as quizzes
    from campus.learning.models import Course
    from tests.admin.helpers import sign_in_admin
    from tests.learning.helpers import complete_all_lessons, right_answers

    with app.app_context():
        course = make_course(title="Hip basics")
        user_id = student().id
        enroll_directly(user_id, course.id)
        complete_all_lessons(user_id, course)
        user, row = db.session.get(User, user_id), db.session.get(Course, course.id)
        wrong = {q.id: q.wrong[:1] for q in course.questions}
        quizzes.submit_attempt(user, row, wrong)
        db.session.commit()
        quizzes.submit_attempt(user, row, right_answers(course))
        db.session.commit()
    admin = app.test_client()
    sign_in_admin(app, admin)
    page = admin.get(f"/admin/members/{user_id}/").get_data(as_text=True)
    section = page.split("Quiz attempts", 1)[1].split("</table>", 1)[0]
    rows = section.split("<tr>")[2:]
    assert len(rows) == 2
    assert "0 / 4 (0%)" in rows[0] and "not passed" in rows[0] and "pass mark 75%" in rows[0]
    assert "4 / 4 (100%)" in rows[1] and "passed" in rows[1]
    assert " UTC" in rows[0]  # the time with its zone


def test_each_refused_answer_is_said_at_its_own_question(app, client):
    import re

    course, _user_id = _completed(app, client)
    url = f"/courses/{course.slug}/evaluation"
    response = client.post(
        url, data=_form(client, presenter=None, minutes_taken="abc", attest=None)
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)

    def message_of(element_id: str) -> str:
        found = re.search(rf'<div id="{element_id}-msg">(.*?)</div>', html, re.S)
        assert found, element_id
        return found.group(1)

    # The list at the top named them all; on a phone the questions are screens below it.
    # Under its own question a rating's message does not repeat the question above it.
    assert re.sub(r"<[^>]+>", "", message_of("presenter")).strip() == "Choose one answer."
    summary = re.search(r"Please check your answers:(.*?)</ul>", html, re.S).group(1)
    assert "Say how far you agree that the presenter" in summary
    assert "Choose one answer." not in summary
    # Each item reads as the site's other sentences: no capital left standing after a colon.
    assert not re.search(r":\s+[A-Z]", re.sub(r"<[^>]+>", " ", summary)), summary
    assert message_of("objectives_met").strip() == ""
    assert "how many minutes" in message_of("minutes_taken")
    assert "Confirm the attestation" in message_of("attest")
    assert 'aria-describedby="presenter-msg"' in html
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="minutes_taken"', html) or re.search(
        r'<input[^>]*id="minutes_taken"[^>]*aria-invalid="true"', html
    )


def test_the_member_record_reads_quiz_attempts_in_queries_that_do_not_grow_with_them(app):
    # A learner may fail a quiz many times in each course: each attempt's paper (its start)
    # must not cost the admin's member page a query of its own.
    from sqlalchemy import event

    from campus.accounts.models import User
    from campus.learning import quiz as quizzes
    from campus.learning.models import Course
    from tests.admin.helpers import sign_in_admin

    with app.app_context():
        course = make_course(title="Hip basics")
        user_id = student().id
        enroll_directly(user_id, course.id)
        complete_all_lessons(user_id, course)
        wrong = {q.id: q.wrong[:1] for q in course.questions}

    def attempt() -> None:
        with app.app_context():
            user, row = db.session.get(User, user_id), db.session.get(Course, course.id)
            quizzes.submit_attempt(user, row, wrong)
            db.session.commit()

    admin = app.test_client()
    sign_in_admin(app, admin)
    with app.app_context():
        engine = db.engine
    count = 0

    def counted(*_args, **_kwargs) -> None:
        nonlocal count
        count += 1

    def queries() -> int:
        nonlocal count
        admin.get(f"/admin/members/{user_id}/")  # warm what a process keeps between requests
        count = 0
        event.listen(engine, "before_cursor_execute", counted)
        try:
            assert admin.get(f"/admin/members/{user_id}/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", counted)
        return count

    attempt()
    one = queries()
    for _ in range(2):  # three in a day, as many as a learner may make
        attempt()
    assert queries() == one
