"""A published course stays whole through the admin's edits: its quiz, its hours, its approval."""

from __future__ import annotations

from sqlalchemy import select

from tests.admin import helpers
from tests.learning.helpers import QUESTIONS, make_course


def _published_course_is_completable(app, course_id) -> list[str]:
    from campus.extensions import db
    from campus.learning import seattime, services
    from campus.learning.access import LearningError
    from campus.learning.models import Course

    problems = []
    with app.app_context():
        course = db.session.get(Course, course_id)
        assert course.status == "published"
        for check in (services.check_publishable, seattime.check_hours_supported):
            try:
                check(course)
            except LearningError as exc:
                problems.append(exc.message)
    return problems


def _with_approval(app, slug: str, **fields):
    """A course (published unless told) and the id of its one board approval."""
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        course = make_course(slug, **fields)
        approval_id = db.session.scalar(
            select(BoardApproval.id).where(BoardApproval.course_id == course.id)
        )
    return course, approval_id


def test_deleting_the_quiz_of_a_published_course_is_refused(app, client):
    from campus.extensions import db
    from campus.learning.models import Course, Quiz

    with app.app_context():
        course = make_course("published-with-quiz")
    helpers.sign_in_admin(app, client)
    helpers.post(client, "/admin/quizzes/delete/", {"id": course.quiz_id}, follow_redirects=True)
    with app.app_context():
        still_published = db.session.get(Course, course.id).status == "published"
        quiz = db.session.get(Quiz, course.quiz_id)
    # Either the quiz is kept, or the course is no longer published.
    assert quiz is not None or not still_published


def test_moving_the_only_question_out_of_a_published_quiz_is_refused(app, client):
    from campus.extensions import db
    from campus.learning.models import Question

    with app.app_context():
        course = make_course("one-q-published", questions=QUESTIONS[:1])
        other = make_course("draft-target", published=False)
        question = db.session.scalar(select(Question).where(Question.quiz_id == course.quiz_id))
        qid = question.id
        form = {
            "quiz": other.quiz_id,
            "position": "",
            "prompt": question.prompt,
            "kind": question.kind,
            "objective": question.objective or "",
            "explanation": question.explanation or "",
        }
        for i, ch in enumerate(question.choices):
            form[f"choices-{i}-id"] = str(ch.id)
            form[f"choices-{i}-text"] = ch.text
            if ch.is_correct:
                form[f"choices-{i}-is_correct"] = "y"
    helpers.sign_in_admin(app, client)
    helpers.post(client, f"/admin/questions/edit/?id={qid}", form, follow_redirects=True)
    assert _published_course_is_completable(app, course.id) == []


def test_moving_a_quiz_off_a_published_course_is_refused(app, client):
    from campus.extensions import db
    from campus.learning.models import Quiz

    with app.app_context():
        course = make_course("quiz-owner-published")
        other = make_course("no-quiz-draft", published=False)
        db.session.delete(db.session.get(Quiz, other.quiz_id))
        db.session.commit()
    helpers.sign_in_admin(app, client)
    helpers.post(
        client,
        f"/admin/quizzes/edit/?id={course.quiz_id}",
        {
            "course": other.id,
            "title": "Final quiz",
            "instructions": "",
            "pass_mark_percent": "75",
            "attempts_per_day": "3",
            "questions_per_attempt": "",
        },
        follow_redirects=True,
    )
    assert _published_course_is_completable(app, course.id) == []


def test_moving_a_module_off_a_published_course_keeps_its_hours_supported(app, client):
    from campus.extensions import db
    from campus.learning.models import Module

    with app.app_context():
        course = make_course("module-owner", lessons=2, ce_hours="2")
        other = make_course("module-target", published=False)
        module = db.session.scalar(
            select(Module).where(Module.course_id == course.id).order_by(Module.position)
        )
        module_id, title = module.id, module.title
    helpers.sign_in_admin(app, client)
    helpers.post(
        client,
        f"/admin/modules/edit/?id={module_id}",
        {"course": other.id, "position": "3", "title": title, "summary": ""},
        follow_redirects=True,
    )
    assert _published_course_is_completable(app, course.id) == []


def test_moving_a_lesson_to_another_course_keeps_its_hours_supported(app, client):
    from campus.extensions import db
    from campus.learning.models import Lesson, Module

    with app.app_context():
        course = make_course("lesson-owner", lessons=2, ce_hours="2")
        other = make_course("lesson-target", published=False)
        target = db.session.scalar(select(Module.id).where(Module.course_id == other.id))
        lesson = db.session.get(Lesson, course.lesson_ids[0])
        form = {
            "module": target,
            "position": "",
            "title": lesson.title,
            "body_markdown": lesson.body_markdown,
            "video_url": "",
            "transcript": "",
            "estimated_minutes": str(lesson.estimated_minutes),
        }
    helpers.sign_in_admin(app, client)
    helpers.post(
        client, f"/admin/lessons/edit/?id={course.lesson_ids[0]}", form, follow_redirects=True
    )
    assert _published_course_is_completable(app, course.id) == []


def test_deleting_the_only_approval_of_a_published_course_is_refused(app, client):
    course, approval_id = _with_approval(app, "approved-published")
    helpers.sign_in_admin(app, client)
    helpers.post(client, "/admin/approvals/delete/", {"id": approval_id}, follow_redirects=True)
    assert _published_course_is_completable(app, course.id) == []


def test_the_only_approval_of_a_published_course_ticked_for_deletion_in_its_form_is_kept(
    app, client
):
    from tests.admin.test_catalog import _course_form

    course, approval_id = _with_approval(app, "approved-inline")
    row = {
        "approvals-0-id": str(approval_id),
        "approvals-0-board": "NCBTMB",
        "approvals-0-approval_number": "1234-56",
        "approvals-0-valid_until": "",
        "del-approvals-0": "y",
    }
    form = _course_form(
        slug="approved-inline", title="Course approved-inline", status="published", ce_hours="2"
    )
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/courses/edit/?id={course.id}", {**form, **row})
    # The publish rule counted the approval the same form was deleting: the course stayed
    # published with no approval for its certificates to print.
    assert response.status_code == 200
    assert any("a board approval" in m for m in helpers.flashes(response))
    assert _published_course_is_completable(app, course.id) == []


def test_a_refused_edit_says_why_and_logs_nothing(app, client):
    _course, approval_id = _with_approval(app, "approved-and-told")
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client, "/admin/approvals/delete/", {"id": approval_id}, follow_redirects=True
    )
    assert any("is published: it needs" in m for m in helpers.flashes(response))
    assert helpers.audit_entries(app, action="delete") == []


def test_a_draft_course_may_lose_its_quiz_and_approval(app, client):
    from campus.extensions import db
    from campus.learning.models import BoardApproval, Quiz

    course, approval_id = _with_approval(app, "draft-to-strip", published=False)
    helpers.sign_in_admin(app, client)
    helpers.post(client, "/admin/quizzes/delete/", {"id": course.quiz_id}, follow_redirects=True)
    helpers.post(client, "/admin/approvals/delete/", {"id": approval_id}, follow_redirects=True)
    with app.app_context():
        assert db.session.get(Quiz, course.quiz_id) is None
        assert db.session.get(BoardApproval, approval_id) is None


def test_changing_which_answer_is_right_is_logged_with_the_answers_before_and_after(app, client):
    from campus.extensions import db
    from campus.learning.models import Question

    with app.app_context():
        course = make_course("answer-key", questions=QUESTIONS[:1])
        question = db.session.scalar(select(Question).where(Question.quiz_id == course.quiz_id))
        qid = question.id
        form = {
            "quiz": course.quiz_id,
            "position": str(question.position),
            "prompt": question.prompt,
            "kind": question.kind,
            "objective": question.objective or "",
            "explanation": question.explanation or "",
        }
        right_before = [ch.text for ch in question.choices if ch.is_correct]
        for i, ch in enumerate(question.choices):
            form[f"choices-{i}-id"] = str(ch.id)
            form[f"choices-{i}-text"] = ch.text
            if not ch.is_correct and f"choices-{i - 1}-is_correct" not in form:
                form[f"choices-{i}-is_correct"] = "y"  # a wrong answer is now the right one
    helpers.sign_in_admin(app, client)
    helpers.post(client, f"/admin/questions/edit/?id={qid}", form, follow_redirects=True)
    with app.app_context():
        right_after = [c.text for c in db.session.get(Question, qid).choices if c.is_correct]
    assert right_after != right_before
    [entry] = helpers.audit_entries(app, action="update", object_type="Question")
    # The answer key a learner's pass rests on changed: the entry shows from what to what.
    assert "choices" in entry.summary
    assert [c["text"] for c in entry.before["choices"] if c["is_correct"]] == right_before
    assert [c["text"] for c in entry.after["choices"] if c["is_correct"]] == right_after


def _question_form(question, **extra) -> dict:
    """The edit form of a question as it stands, its answers in order."""
    form = {
        "quiz": question.quiz_id,
        "position": str(question.position),
        "prompt": question.prompt,
        "kind": question.kind,
        "objective": question.objective or "",
        "explanation": question.explanation or "",
    }
    for i, choice in enumerate(question.choices):
        form[f"choices-{i}-id"] = str(choice.id)
        form[f"choices-{i}-text"] = choice.text
        if choice.is_correct:
            form[f"choices-{i}-is_correct"] = "y"
    return {**form, **extra}


def test_answers_ticked_for_deletion_do_not_count_toward_the_questions_answers(app, client):
    from campus.extensions import db
    from campus.learning.models import Question

    with app.app_context():
        # "Single: pick A": A is right, B and C wrong.
        course = make_course("answer-deleted", questions=QUESTIONS[:1])
        question = db.session.scalar(select(Question).where(Question.quiz_id == course.quiz_id))
        qid = question.id
        right = _question_form(question, **{"del-choices-0": "y"})
        two = _question_form(question, **{"del-choices-1": "y", "del-choices-2": "y"})
        wrong = _question_form(question, **{"del-choices-1": "y"})
    helpers.sign_in_admin(app, client)
    # Each was checked with the answer it deleted, and saved: a published quiz question no
    # learner could answer right, or one with a single answer to pick.
    for form, said in ((right, "Mark at least one answer"), (two, "at least two answers")):
        response = helpers.post(client, f"/admin/questions/edit/?id={qid}", form)
        assert response.status_code == 200
        assert any(said in m for m in helpers.flashes(response)), helpers.flashes(response)
    with app.app_context():
        choices = db.session.get(Question, qid).choices
        assert [(c.text, c.is_correct) for c in choices] == [
            ("A", True),
            ("B", False),
            ("C", False),
        ]
    assert helpers.audit_entries(app, object_type="Question") == []
    # A wrong answer can go; those left are numbered from 1.
    response = helpers.post(client, f"/admin/questions/edit/?id={qid}", wrong)
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        choices = db.session.get(Question, qid).choices
        assert [(c.position, c.text) for c in choices] == [(1, "A"), (2, "C")]


def test_a_question_giving_the_same_answer_twice_is_refused(app, client):
    from campus.extensions import db
    from campus.learning.models import Question

    with app.app_context():
        # "Single: pick A": A is right, B and C wrong.
        course = make_course("answer-twice", questions=QUESTIONS[:1])
        question = db.session.scalar(select(Question).where(Question.quiz_id == course.quiz_id))
        qid = question.id
        form = _question_form(question, **{"choices-2-text": " a "})
    helpers.sign_in_admin(app, client)
    # Saved, a learner read "A" twice, once counted right and once wrong.
    response = helpers.post(client, f"/admin/questions/edit/?id={qid}", form)
    assert response.status_code == 200
    assert any("given twice" in m for m in helpers.flashes(response)), helpers.flashes(response)
    with app.app_context():
        assert [c.text for c in db.session.get(Question, qid).choices] == ["A", "B", "C"]


def test_the_same_board_approval_listed_twice_on_a_course_is_refused(app, client):
    from campus.extensions import db
    from campus.learning.models import BoardApproval
    from tests.admin.test_catalog import _course_form

    def row(n: int, board: str, number: str) -> dict:
        return {
            f"approvals-{n}-board": board,
            f"approvals-{n}-approval_number": number,
            f"approvals-{n}-valid_until": "2031-01-31",
        }

    helpers.sign_in_admin(app, client)
    # Saved as two rows, the certificate printed the approval twice; " ncbtmb " is NCBTMB.
    for rows in (
        {**row(0, "NCBTMB", "451-22"), **row(1, "NCBTMB", "451-22")},
        {**row(0, "NCBTMB", "451-22"), **row(1, " ncbtmb ", "777-01")},
    ):
        response = helpers.post(client, "/admin/courses/new/", {**_course_form(), **rows})
        assert response.status_code == 200
        assert any("NCBTMB" in m and "twice" in m for m in helpers.flashes(response)), (
            helpers.flashes(response)
        )
    with app.app_context():
        assert db.session.scalar(select(BoardApproval)) is None
    # The board approvals page adds one to a course that already holds that board's.
    course, _approval_id = _with_approval(app, "approved-once")
    response = helpers.post(
        client,
        "/admin/approvals/new/",
        {"course": str(course.id), "board": "ncbtmb", "approval_number": "1", "valid_until": ""},
    )
    assert response.status_code == 200
    assert any("NCBTMB" in m and "twice" in m for m in helpers.flashes(response)), helpers.flashes(
        response
    )
    with app.app_context():
        assert len(db.session.scalars(select(BoardApproval)).all()) == 1
    # Two boards are two approvals.
    both = {**row(0, "NCBTMB", "451-22"), **row(1, "BOC", "P1")}
    response = helpers.post(client, "/admin/courses/new/", {**_course_form(), **both})
    assert response.status_code == 302, helpers.flashes(response)
