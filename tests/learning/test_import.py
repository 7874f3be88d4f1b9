"""Courses as files: `flask learning import DIR` adds or updates by slug, refuses bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from sqlalchemy import func, select

from campus.audit import AuditEntry
from campus.extensions import db
from campus.learning.models import (
    BoardApproval,
    Course,
    CourseProfession,
    Lesson,
    LessonProgress,
    LessonResource,
    Question,
    Quiz,
    QuizAttempt,
)
from tests.learning.helpers import _create_user, enroll_directly

COURSE = {
    "title": "Scalenes and the thoracic outlet",
    "summary": "Arm pain that starts in the neck.",
    "description": "Three muscles, one tunnel.\n",
    "objectives": ["Find the scalenes", "Refer what needs referring"],
    "presenters": ["Maren Okafor, LMT"],
    "presenter_bio": "Teaches myofascial technique.",
    "ce_hours": 0.75,
    "delivery_type": "home_study",
    "level": "introductory",
    "topic": "Neck and shoulder",
    "status": "published",
    "professions": ["massage_therapist", "chiropractor"],
    "approvals": [
        {"board": "NCBTMB", "approval_number": "AP-1", "valid_until": "2099-12-31"},
    ],
    "modules": [
        {"title": "The scalenes", "summary": "Where they are.", "lessons": ["01-find.md"]},
        {"title": "Treatment", "lessons": ["02-treat.md", "03-home.md"]},
    ],
}
QUIZ = {
    "pass_mark_percent": 75,
    "attempts_per_day": 2,
    "questions": [
        {
            "prompt": "Scalene points refer to:",
            "choices": [{"text": "The arm and hand", "correct": True}, {"text": "The knee"}],
            "explanation": "Down the arm.",
        },
        {
            "prompt": "Which are scalenes? Select all that apply.",
            "choices": [
                {"text": "Anterior", "correct": True},
                {"text": "Middle", "correct": True},
                {"text": "Lateral"},
            ],
        },
    ],
}


def write_course(folder: Path, slug: str = "scalenes", course=None, quiz=None) -> Path:
    """Write a course folder with three lessons, a handout and a quiz; return it."""
    root = folder / slug
    (root / "lessons").mkdir(parents=True, exist_ok=True)
    (root / "resources").mkdir(exist_ok=True)
    data = dict(COURSE if course is None else course)
    (root / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (root / "quiz.yaml").write_text(yaml.safe_dump(QUIZ if quiz is None else quiz))
    for name, title, extra in (
        ("01-find.md", "Finding the scalenes", ""),
        ("02-treat.md", "Treating them", ""),
        ("03-home.md", "Home care", "resources:\n- title: Handout\n  file: handout.txt\n"),
    ):
        front = f"---\ntitle: {title}\nminutes: 15\n{extra}---\n"
        (root / "lessons" / name).write_text(front + f"\n## {title}\n\nWords about {title}.\n")
    (root / "resources" / "handout.txt").write_text("Stretch twice a day.\n")
    return root


def run_import(app, folder: Path):
    return app.test_cli_runner().invoke(args=["learning", "import", str(folder)])


def _course(app, slug: str = "scalenes") -> Course | None:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        if course is not None:
            # Load what the tests read before the objects leave the session.
            _loaded = (course.lessons, course.approvals, course.quiz)
            for question in course.quiz.questions if course.quiz else ():
                _loaded = question.choices
            db.session.expunge_all()
        return course


def test_import_creates_the_whole_course_and_a_second_run_changes_nothing(app, tmp_path):
    write_course(tmp_path)
    first = run_import(app, tmp_path)
    assert first.exit_code == 0, first.output
    assert "created    scalenes" in first.output
    course = _course(app)
    assert course.title == "Scalenes and the thoracic outlet" and course.is_published
    assert (
        course.ce_hours == Decimal("0.75")
        and course.objective_list[1] == "Refer what needs referring"
    )
    assert [(a.board, str(a.valid_until)) for a in course.approvals] == [("NCBTMB", "2099-12-31")]
    assert [lesson.title for lesson in course.lessons] == [
        "Finding the scalenes",
        "Treating them",
        "Home care",
    ]
    assert "<h2>Treating them</h2>" in course.lessons[1].body_html
    assert course.quiz.pass_mark_percent == 75
    assert [q.kind for q in course.quiz.questions] == ["single", "multiple"]
    with app.app_context():
        [resource] = db.session.scalars(select(LessonResource)).all()
        assert resource.filename == "handout.txt" and resource.content_type.startswith("text/plain")
        stamp = db.session.scalar(select(Course.updated_at).where(Course.slug == "scalenes"))
    again = run_import(app, tmp_path / "scalenes")  # a course folder itself works too
    assert again.exit_code == 0 and "unchanged  scalenes" in again.output
    with app.app_context():
        assert (
            db.session.scalar(select(Course.updated_at).where(Course.slug == "scalenes")) == stamp
        )
        assert db.session.scalar(select(func.count()).select_from(LessonResource)) == 1
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert actions == ["learning.course_created"]  # the no-op run wrote nothing


def case(message: str, course=None, quiz=None, lesson=None):
    """A bad course folder: changes to the good one, and what the report must say."""
    return pytest.param({**COURSE, **(course or {})}, {**QUIZ, **(quiz or {})}, lesson, message)


NO_CORRECT = [{"prompt": "?", "choices": [{"text": "a"}, {"text": "b"}]}]
TWICE = [
    {
        "prompt": "Scalene points refer to:",
        "choices": [{"text": "The arm and hand", "correct": True}, {"text": " the ARM  and hand"}],
    }
]
EVIL_VIDEO = "---\ntitle: T\nminutes: 5\nvideo: https://evil.example/v\n---\nText\n"


@pytest.mark.parametrize(
    ("course", "quiz", "lesson", "message"),
    [
        case("unknown field(s) titel", course={"titel": "typo"}),
        case("`title` must be text", course={"title": ""}),
        case("`ce_hours` must be a number", course={"ce_hours": "four"}),
        case("`ce_hours` must be a number", course={"ce_hours": 0}),
        case("unknown profession 'wizard'", course={"professions": ["wizard"]}),
        case("`level` must be one of", course={"level": "expert"}),
        # A list where one word is expected cannot even be looked up among the words.
        case("`delivery_type` must be one of", course={"delivery_type": ["home_study"]}),
        case("`modules` must be a non-empty list", course={"modules": []}),
        case(
            "must be a .md file name",
            course={"modules": [{"title": "M", "lessons": ["../../etc/passwd"]}]},
        ),
        case("no such file", course={"modules": [{"title": "M", "lessons": ["09-none.md"]}]}),
        case(
            "must be a date",
            course={"approvals": [{"board": "B", "approval_number": "1", "valid_until": "soon"}]},
        ),
        # One board, one approval a course (as the admin refuses): the certificate would
        # print two numbers for one board, and CE Broker be sent whichever came first.
        case(
            "listed twice",
            course={
                "approvals": [*COURSE["approvals"], {**COURSE["approvals"][0], "board": "ncbtmb "}]
            },
        ),
        # An approval that has ended is not entered as the course's approval.
        case(
            "is in the past",
            course={
                "approvals": [
                    *COURSE["approvals"],
                    {"board": "FL", "approval_number": "20-1", "valid_until": "2020-01-31"},
                ]
            },
        ),
        # A board cannot approve a course from after the approval's end.
        case(
            "approval 1: `valid_from` 2099-12-31 is after `valid_until` 2099-01-31",
            course={
                "approvals": [
                    {
                        "board": "NCBTMB",
                        "approval_number": "AP-1",
                        "valid_from": "2099-12-31",
                        "valid_until": "2099-01-31",
                    }
                ]
            },
        ),
        case(
            "`valid_from` must be a date",
            course={"approvals": [{**COURSE["approvals"][0], "valid_from": "last spring"}]},
        ),
        case("mark at least one choice", quiz={"questions": NO_CORRECT}),
        # As the admin refuses: a learner reads the answers only, and cannot tell these apart.
        case("choice 2: the answer “The arm and hand” is given twice", quiz={"questions": TWICE}),
        case("`pass_mark_percent` must be", quiz={"pass_mark_percent": 101}),
        # A quiz shown with no title: left out, it is "Final quiz"; written blank, a mistake.
        case("quiz.yaml: `title` must be text", quiz={"title": ""}),
        case("quiz.yaml: `title` must be text", quiz={"title": "  "}),
        case("the bank has only 2 questions", quiz={"questions_per_attempt": 3}),
        case("bad YAML front matter", lesson="---\ntitle: [unclosed\n---\nText\n"),
        # A key written as a number (or a date) is not a field name.
        case("front matter names a field 12", lesson="---\ntitle: T\n12: x\n---\nText\n"),
        case("`minutes` is required", lesson="---\ntitle: No minutes\n---\nText\n"),
        case("YouTube or Vimeo", lesson=EVIL_VIDEO),
    ],
)
def test_a_bad_file_is_reported_by_name_and_changes_nothing(
    app, tmp_path, course, quiz, lesson, message
):
    write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    root = write_course(tmp_path, course={**course, "title": course["title"]}, quiz=quiz)
    (root / "course.yaml").write_text(
        yaml.safe_dump({**course, "summary": "Changed summary"}, sort_keys=False)
    )
    if lesson is not None:
        (root / "lessons" / "02-treat.md").write_text(lesson)
    result = run_import(app, tmp_path)
    assert result.exit_code == 1
    assert "FAILED     scalenes" in result.output and message in result.output
    assert _course(app).summary == "Arm pain that starts in the neck."


WRONG = {"The knee", "Lateral"}


def test_the_bank_can_grow_under_attempts_frozen_when_they_started(app, client, tmp_path):
    from tests.learning.helpers import api_post, complete_all_lessons, make_reader

    root = write_course(tmp_path)
    run_import(app, tmp_path)
    course = _course(app)
    lessons = SimpleNamespace(id=course.id, lesson_ids=[lesson.id for lesson in course.lessons])
    user_id = make_reader(app, "member", client, lessons)
    with app.app_context():
        complete_all_lessons(user_id, lessons)

    def wrong(attempt: dict) -> dict:
        return {
            "answers": [
                {
                    "question_id": q["id"],
                    "choice_ids": [c["id"] for c in q["choices"] if c["text"] in WRONG],
                }
                for q in attempt["questions"]
            ]
        }

    first = api_post(client, "/api/v1/courses/scalenes/quiz/attempt").get_json()
    failed = api_post(client, "/api/v1/courses/scalenes/quiz/attempts", wrong(first))
    assert failed.get_json()["passed"] is False  # a submitted attempt, frozen in its paper
    started = api_post(client, "/api/v1/courses/scalenes/quiz/attempt").get_json()
    extra = {
        "prompt": "Which nerve plexus passes between the scalenes?",
        "choices": [{"text": "The brachial plexus", "correct": True}, {"text": "The sacral"}],
    }
    grown = {**QUIZ, "questions": [*QUIZ["questions"], extra]}
    (root / "quiz.yaml").write_text(yaml.safe_dump(grown))
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert len(_course(app).quiz.questions) == 3
    assert client.get("/api/v1/courses/scalenes/quiz/attempt").get_json() == started
    response = api_post(client, "/api/v1/courses/scalenes/quiz/attempts", wrong(started))
    assert response.status_code == 201 and response.get_json()["question_count"] == 2


def test_the_bank_size_and_objectives_come_from_the_quiz_file(app, tmp_path):
    questions = [{**q, "objective": f"Objective {n}"} for n, q in enumerate(QUIZ["questions"])]
    write_course(tmp_path, quiz={**QUIZ, "questions_per_attempt": 1, "questions": questions})
    assert run_import(app, tmp_path).exit_code == 0
    with app.app_context():
        quiz = db.session.scalar(select(Quiz).join(Course).where(Course.slug == "scalenes"))
        assert quiz.questions_per_attempt == 1
        assert [q.objective for q in quiz.questions] == ["Objective 0", "Objective 1"]


def test_one_bad_course_does_not_keep_the_others_out(app, tmp_path):
    write_course(tmp_path, "good")
    bad = write_course(tmp_path, "bad")
    (bad / "quiz.yaml").write_text("questions: [unclosed\n")
    result = run_import(app, tmp_path)
    assert result.exit_code == 1
    assert "created    good" in result.output and "FAILED     bad: quiz.yaml" in result.output
    assert _course(app, "good") is not None and _course(app, "bad") is None


def test_two_folders_of_one_import_with_the_same_slug_are_not_merged(app, tmp_path):
    # The second folder overwrote the first's course, reported as "updated".
    write_course(tmp_path, "one", course={**COURSE, "slug": "same", "title": "One"})
    write_course(tmp_path, "two", course={**COURSE, "slug": "same", "title": "Two"})
    result = run_import(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "FAILED     two: course.yaml: slug 'same' is also that of the folder one" in (
        result.output
    )
    assert "1 created, 0 updated, 0 unchanged, 1 failed." in result.output
    assert _course(app, "same").title == "One"


def test_a_profession_listed_twice_is_counted_once(app, tmp_path):
    # A new course stopped at the database's refusal, shown as its raw message; an update
    # already took the list as a set.
    professions = ["massage_therapist", "chiropractor", "massage_therapist"]
    write_course(tmp_path, course={**COURSE, "professions": professions})
    result = run_import(app, tmp_path)
    assert result.exit_code == 0 and "created    scalenes" in result.output, result.output
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        assert sorted(course.professions) == ["chiropractor", "massage_therapist"]


def test_an_update_edits_lessons_in_place_and_keeps_progress(app, tmp_path):
    root = write_course(tmp_path)
    run_import(app, tmp_path)
    course = _course(app)
    with app.app_context():
        enrollment_id = enroll_directly(_create_user(), course.id)
        db.session.add(LessonProgress(enrollment_id=enrollment_id, lesson_id=course.lessons[0].id))
        db.session.commit()
    (root / "lessons" / "01-find.md").write_text(
        "---\ntitle: Finding them\nminutes: 20\n---\nNew.\n"
    )
    data = {**COURSE, "modules": [*COURSE["modules"], {"title": "More", "lessons": ["04-x.md"]}]}
    (root / "lessons" / "04-x.md").write_text("---\ntitle: Extra\nminutes: 10\n---\nMore.\n")
    (root / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_import(app, tmp_path)
    assert result.exit_code == 0 and "updated    scalenes" in result.output
    updated = _course(app)
    assert [lesson.id for lesson in updated.lessons[:3]] == [lesson.id for lesson in course.lessons]
    assert updated.lessons[0].title == "Finding them" and updated.lessons[0].estimated_minutes == 20
    assert updated.lessons[3].title == "Extra"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
        assert (
            db.session.scalar(
                select(func.count()).where(AuditEntry.action == "learning.course_updated")
            )
            == 1
        )


def test_an_update_to_a_published_course_meets_the_publish_rule_again(app, tmp_path):
    root = write_course(tmp_path)
    run_import(app, tmp_path)
    # 40 CE hours on 45 minutes of lessons: the admin refuses this edit, so must the import.
    (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "ce_hours": 40}, sort_keys=False))
    result = run_import(app, tmp_path)
    assert result.exit_code == 1 and "FAILED" in result.output, result.output
    assert _course(app).ce_hours == Decimal("0.75")
    # A change within the rule is written, and its audit entry says what it was before.
    (root / "course.yaml").write_text(
        yaml.safe_dump({**COURSE, "title": "Scalenes again"}, sort_keys=False)
    )
    assert run_import(app, tmp_path).exit_code == 0
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "learning.course_updated")
        )
        assert entry.before["title"] == "Scalenes and the thoracic outlet"
        assert entry.after["title"] == "Scalenes again"


def test_a_file_without_a_status_keeps_the_status_the_course_has(app, tmp_path):
    # An admin publishes (or unpublishes) in the admin; a file that never said either way
    # must not take the course out of the catalog, nor put it back, when it is imported again.
    unsaid = {key: value for key, value in COURSE.items() if key != "status"}
    root = write_course(tmp_path, course=unsaid)
    assert run_import(app, tmp_path).exit_code == 0
    assert _course(app).status == "draft"  # a new course: the documented default
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        course.status = "published"
        db.session.commit()
    (root / "course.yaml").write_text(
        yaml.safe_dump({**unsaid, "title": "Scalenes again"}, sort_keys=False)
    )
    result = run_import(app, tmp_path)
    assert result.exit_code == 0 and "updated    scalenes" in result.output, result.output
    assert (_course(app).title, _course(app).status) == ("Scalenes again", "published")
    # Still held to the publishing rule, as any change to a published course is.
    (root / "course.yaml").write_text(yaml.safe_dump({**unsaid, "ce_hours": 40}, sort_keys=False))
    assert run_import(app, tmp_path).exit_code == 1
    assert _course(app).ce_hours == Decimal("0.75")
    # Saying `status: draft` still takes it back to draft.
    (root / "course.yaml").write_text(
        yaml.safe_dump({**unsaid, "status": "draft"}, sort_keys=False)
    )
    assert run_import(app, tmp_path).exit_code == 0
    assert _course(app).status == "draft"


def test_a_file_without_an_optional_field_keeps_what_the_admin_chose(app, tmp_path):
    # Certificates print the delivery type and level an admin set; a file that never said
    # them must not put back the defaults when it is imported again.
    left_out = ("delivery_type", "level", "description", "status")
    unsaid = {k: v for k, v in COURSE.items() if k not in left_out}
    root = write_course(tmp_path, course=unsaid)
    assert run_import(app, tmp_path).exit_code == 0
    assert (_course(app).delivery_type, _course(app).level) == ("home_study", "introductory")
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        course.delivery_type, course.level = "live_webinar", "advanced"
        course.description, course.cover_image_url = "Edited.", "https://img.example/s.jpg"
        db.session.commit()
    (root / "course.yaml").write_text(
        yaml.safe_dump({**unsaid, "title": "Scalenes again"}, sort_keys=False)
    )
    result = run_import(app, tmp_path)
    assert result.exit_code == 0 and "updated    scalenes" in result.output, result.output
    course = _course(app)
    assert (course.title, course.delivery_type, course.level) == (
        "Scalenes again",
        "live_webinar",
        "advanced",
    )
    assert (course.description, course.cover_image_url) == ("Edited.", "https://img.example/s.jpg")
    # Writing them still changes them.
    (root / "course.yaml").write_text(
        yaml.safe_dump(
            {**unsaid, "delivery_type": "recorded_webinar", "level": "intermediate"},
            sort_keys=False,
        )
    )
    assert run_import(app, tmp_path).exit_code == 0
    assert (_course(app).delivery_type, _course(app).level) == ("recorded_webinar", "intermediate")


def test_a_file_without_professions_keeps_the_audience_the_admin_chose(app, tmp_path):
    # An admin wrote the course for massage therapists; a file that never named an audience
    # took that away again on the next import.
    unsaid = {k: v for k, v in COURSE.items() if k not in ("professions", "status")}
    root = write_course(tmp_path, course=unsaid)
    assert run_import(app, tmp_path).exit_code == 0
    assert _course_audience(app) == []
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        course.audience.append(CourseProfession(profession="massage_therapist"))
        db.session.commit()
    assert run_import(app, tmp_path).exit_code == 0
    assert [row.profession for row in _course_audience(app)] == ["massage_therapist"]
    # Naming them still changes them.
    (root / "course.yaml").write_text(
        yaml.safe_dump({**unsaid, "professions": ["chiropractor"]}, sort_keys=False)
    )
    assert run_import(app, tmp_path).exit_code == 0
    assert [row.profession for row in _course_audience(app)] == ["chiropractor"]


def test_a_file_without_approvals_keeps_the_approvals_the_admin_entered(app, tmp_path):
    # An admin entered the board's approval number in the admin; a file that never listed
    # approvals deleted it on the next import, and certificates no longer printed it.
    unsaid = {k: v for k, v in COURSE.items() if k not in ("approvals", "status")}
    root = write_course(tmp_path, course=unsaid)
    assert run_import(app, tmp_path).exit_code == 0
    assert _course(app).approvals == []
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        course.approvals.append(BoardApproval(board="NCBTMB", approval_number="AP-9"))
        db.session.commit()
    assert run_import(app, tmp_path).exit_code == 0
    assert [row.approval_number for row in _course(app).approvals] == ["AP-9"]
    # Listing them still changes them.
    (root / "course.yaml").write_text(yaml.safe_dump(COURSE, sort_keys=False))
    assert run_import(app, tmp_path).exit_code == 0
    assert [row.approval_number for row in _course(app).approvals] == ["AP-1"]


def _course_audience(app) -> list[CourseProfession]:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        rows = list(course.audience)
        db.session.expunge_all()
        return rows


def test_a_quiz_file_without_a_setting_keeps_what_the_admin_chose(app, tmp_path):
    # An admin raised the pass mark and named the quiz; a quiz file that never said either
    # put back 70% and "Final quiz" the next time the same files were imported.
    quiz = {"questions": QUIZ["questions"]}
    write_course(tmp_path, course=COURSE, quiz=quiz)
    assert run_import(app, tmp_path).exit_code == 0
    settings = ("title", "instructions", "pass_mark_percent", "attempts_per_day")
    assert [getattr(_course(app).quiz, key) for key in settings] == ["Final quiz", "", 70, 3]
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        edited = {"title": "Scalenes check", "instructions": "Take your time.",
                  "pass_mark_percent": 80, "attempts_per_day": 5}  # fmt: skip
        for key, value in edited.items():
            setattr(course.quiz, key, value)
        db.session.commit()
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert {key: getattr(_course(app).quiz, key) for key in settings} == edited
    # Writing a setting still changes it.
    write_course(tmp_path, course=COURSE, quiz={**quiz, "pass_mark_percent": 90})
    assert run_import(app, tmp_path).exit_code == 0
    assert _course(app).quiz.pass_mark_percent == 90


def test_removing_a_lesson_once_students_are_enrolled_is_refused(app, tmp_path):
    root = write_course(tmp_path)
    run_import(app, tmp_path)
    with app.app_context():
        enroll_directly(_create_user(), _course(app).id)
    data = {**COURSE, "modules": COURSE["modules"][:1]}
    (root / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_import(app, tmp_path)
    assert result.exit_code == 1 and "students are enrolled" in result.output
    assert len(_course(app).lessons) == 3


def test_a_quiz_with_attempts_can_be_reworded_but_not_reshaped(app, tmp_path):
    root = write_course(tmp_path)
    run_import(app, tmp_path)
    course = _course(app)
    with app.app_context():
        enrollment_id = enroll_directly(_create_user(), course.id)
        db.session.add(
            QuizAttempt(
                enrollment_id=enrollment_id,
                quiz_id=course.quiz.id,
                answers={},
                correct_count=0,
                question_count=2,
                score_percent=0,
                pass_mark_percent=75,
                passed=False,
            )
        )
        db.session.commit()
    shorter = {**QUIZ, "questions": QUIZ["questions"][:1]}
    (root / "quiz.yaml").write_text(yaml.safe_dump(shorter))
    refused = run_import(app, tmp_path)
    assert refused.exit_code == 1 and "the quiz has attempts" in refused.output
    reworded = {
        **QUIZ,
        "questions": [{**QUIZ["questions"][0], "prompt": "Where?"}, QUIZ["questions"][1]],
    }
    (root / "quiz.yaml").write_text(yaml.safe_dump(reworded))
    assert run_import(app, tmp_path).exit_code == 0
    with app.app_context():
        prompts = db.session.scalars(select(Question.prompt).order_by(Question.position)).all()
        assert prompts == ["Where?", "Which are scalenes? Select all that apply."]


def test_the_demo_courses_are_files_imported_whole(app):
    from campus.learning import demo

    with app.app_context():
        assert len(demo.seed()) == 2
        db.session.commit()
        assert demo.seed() == []
        hip = db.session.scalar(select(Course).where(Course.slug == demo.HIP_SLUG))
        assert hip.presenter_list == ["Maren Okafor, LMT, BCTMB", "Dr. Luis Ferreira, PT, DPT"]
        assert len(hip.objective_list) == 5 and len(hip.approvals) == 3
        assert hip.approvals[2].approval_number == "20-938472"  # its CE Broker number
        assert sum(lesson.estimated_minutes for lesson in hip.lessons) >= 120
        assert "Before you press" in db.session.scalar(
            select(Lesson.body_html).where(Lesson.title == "Adductors and hamstrings")
        )
        [handout] = hip.lessons[-1].resources
        assert handout.filename == "hip-and-thigh-self-care.txt" and handout.size_bytes > 500
        assert hip.quiz.instructions.startswith("Each attempt draws ten questions")


def _outline(app) -> list[tuple[str, list[str]]]:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        return [
            (module.title, [lesson.title for lesson in module.lessons])
            for module in sorted(course.modules, key=lambda m: m.position)
        ]


def _handouts(app) -> list[tuple[str, bytes]]:
    from campus.learning import services

    with app.app_context():
        return [
            (resource.lesson.title, services.resource_bytes(resource))
            for resource in db.session.scalars(select(LessonResource).order_by(LessonResource.id))
        ]


def test_an_update_nobody_has_studied_can_reshape_the_course(app, tmp_path):
    root = write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    data = {
        **COURSE,
        "status": "draft",
        "professions": ["physical_therapist"],
        "approvals": [{"board": "BOC", "approval_number": "P-9", "valid_until": "2099-06-30"}],
        "modules": [
            {"title": "The scalenes", "lessons": ["01-find.md", "03-home.md"]},
            {"title": "Treatment", "lessons": ["02-treat.md"]},
        ],
    }
    (root / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    result = run_import(app, tmp_path)
    assert result.exit_code == 0 and "updated    scalenes" in result.output, result.output
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        assert course.status == "draft"
        assert course.professions == ["physical_therapist"]
        assert [(a.board, a.approval_number) for a in course.approvals] == [("BOC", "P-9")]
    assert _outline(app) == [
        ("The scalenes", ["Finding the scalenes", "Home care"]),
        ("Treatment", ["Treating them"]),
    ]
    assert _handouts(app) == [("Home care", b"Stretch twice a day.\n")]

    # A new handout, the second module gone, and no quiz file: the quiz stays as it was.
    (root / "resources" / "handout.txt").write_text("Stretch three times a day.\n")
    (root / "quiz.yaml").unlink()
    data["modules"] = data["modules"][:1]
    (root / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert run_import(app, tmp_path).exit_code == 0
    assert _outline(app) == [("The scalenes", ["Finding the scalenes", "Home care"])]
    assert _handouts(app) == [("Home care", b"Stretch three times a day.\n")]
    assert len(_course(app).quiz.questions) == 2

    # The lesson no longer lists its handout.
    (root / "lessons" / "03-home.md").write_text("---\ntitle: Home care\nminutes: 15\n---\nRest.\n")
    assert run_import(app, tmp_path).exit_code == 0
    assert _handouts(app) == []
    with app.app_context():
        updates = select(func.count()).where(AuditEntry.action == "learning.course_updated")
        assert db.session.scalar(updates) == 3


def _approval_days(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(BoardApproval).order_by(BoardApproval.id))
        return [(a.board, str(a.valid_from), str(a.valid_until)) for a in rows]


def test_an_approvals_first_day_is_imported_and_kept_when_a_later_file_is_silent(app, tmp_path):
    approval = {**COURSE["approvals"][0], "valid_from": "2026-03-01"}
    root = write_course(tmp_path, course={**COURSE, "approvals": [approval]})
    assert run_import(app, tmp_path).exit_code == 0
    assert _approval_days(app) == [("NCBTMB", "2026-03-01", "2099-12-31")]
    # The admin corrects the first day; the next file says nothing of it, only a new end.
    with app.app_context():
        row = db.session.scalars(select(BoardApproval)).one()
        row.valid_from = row.valid_from.replace(day=2)
        db.session.commit()
    silent = {**COURSE["approvals"][0], "valid_until": "2099-06-30"}
    (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "approvals": [silent]}))
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert _approval_days(app) == [("NCBTMB", "2026-03-02", "2099-06-30")]
    # A file that says it changes it.
    said = {**silent, "valid_from": "2026-04-01"}
    (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "approvals": [said]}))
    assert run_import(app, tmp_path).exit_code == 0
    assert _approval_days(app) == [("NCBTMB", "2026-04-01", "2099-06-30")]


def test_a_file_ending_an_approval_before_the_first_day_the_admin_entered_is_refused(app, tmp_path):
    root = write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    with app.app_context():
        from datetime import date

        db.session.scalars(select(BoardApproval)).one().valid_from = date(2099, 7, 1)
        db.session.commit()
    silent = {**COURSE["approvals"][0], "valid_until": "2099-06-30"}
    (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "approvals": [silent]}))
    result = run_import(app, tmp_path)
    assert result.exit_code == 1 and "starts after it ends" in result.output, result.output
    assert _approval_days(app) == [("NCBTMB", "2099-07-01", "2099-12-31")]
