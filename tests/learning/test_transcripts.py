"""Lesson videos and their transcripts (WCAG 2.1 AA 1.2.x): stored, shown, required to publish."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from campus.extensions import db
from campus.learning import actions, services
from campus.learning.access import LearningError
from campus.learning.models import Course, Lesson, Module
from tests.learning.helpers import make_course, make_reader
from tests.learning.test_import import COURSE, _course, run_import, write_course

VIDEO = "https://youtu.be/dQw4w9WgXcQ"
TRANSCRIPT = "The therapist finds the **taut band**.<script>alert(1)</script>\n"


def _add_video_lesson(course_id: int, title: str = "Watch", transcript: str = "") -> int:
    module = db.session.scalar(select(Module).where(Module.course_id == course_id).limit(1))
    lesson = services.add_lesson(module, title, "Body", video_url=VIDEO, transcript=transcript)
    return lesson.id


def test_a_course_with_an_untranscribed_video_cannot_be_published_and_says_which_lesson(app):
    with app.app_context():
        info = make_course("videos", published=False)
        lesson_id = _add_video_lesson(info.id, "Palpating the gluteus medius")
        course = db.session.get(Course, info.id)
        with pytest.raises(LearningError) as caught:
            services.publish(course)
        assert caught.value.status == 409
        assert (
            "a transcript for every lesson with a video (missing for "
            "“Palpating the gluteus medius”)" in caught.value.message
        )
        with pytest.raises(LearningError):
            actions.publish(course, actor=None)
        assert course.status == "draft"

        db.session.get(Lesson, lesson_id).transcript = "   \n"  # blank is not a transcript
        db.session.flush()
        with pytest.raises(LearningError):
            services.publish(course)
        db.session.get(Lesson, lesson_id).transcript = "She presses into the band."
        db.session.flush()
        assert actions.publish(course, actor=None) is True
        assert course.status == "published"


def test_a_course_published_before_transcripts_stays_published_and_editable(app):
    from campus.audit import snapshot

    with app.app_context():
        info = make_course("legacy")  # published
        lesson_id = _add_video_lesson(info.id)  # as an older course held it: no transcript
        db.session.commit()
        lesson = db.session.get(Lesson, lesson_id)
        assert db.session.get(Course, info.id).status == "published"

        before = snapshot(lesson)
        lesson.body_markdown = "Reworded body"
        actions.save_lesson(lesson, before=before, actor=None, video_url=VIDEO)  # same video
        db.session.commit()
        assert db.session.get(Lesson, lesson_id).body_html == "<p>Reworded body</p>\n"


def test_a_new_video_in_a_published_course_needs_its_transcript(app):
    from campus.audit import snapshot

    with app.app_context():
        info = make_course("live")
        lesson = db.session.get(Lesson, info.lesson_ids[0])
        before = snapshot(lesson)
        with pytest.raises(LearningError) as caught:
            actions.save_lesson(lesson, before=before, actor=None, video_url=VIDEO)
        assert "Lesson “Lesson 1” has a video: give it a transcript" in caught.value.message
        db.session.rollback()

        lesson = db.session.get(Lesson, info.lesson_ids[0])
        lesson.transcript = "Two thumbs sink into the muscle."
        actions.save_lesson(lesson, before=snapshot(lesson), actor=None, video_url=VIDEO)
        db.session.commit()
        lesson = db.session.get(Lesson, info.lesson_ids[0])
        before = snapshot(lesson)
        lesson.transcript = ""
        with pytest.raises(LearningError):
            actions.save_lesson(lesson, before=before, actor=None, video_url=VIDEO)


def test_the_transcript_is_sanitised_and_shown_under_the_video_in_a_details(app, client):
    with app.app_context():
        info = make_course("shown")
        lesson_id = _add_video_lesson(info.id, "Watch", TRANSCRIPT)
        plain_id = info.lesson_ids[0]
        db.session.commit()
        stored = db.session.get(Lesson, lesson_id).transcript_html
    assert "<strong>taut band</strong>" in stored and "<script" not in stored
    make_reader(app, "member", client, info)
    html = client.get(f"/courses/shown/lessons/{lesson_id}").get_data(as_text=True)
    video, transcript = html.index("<iframe"), html.index('<details class="transcript">')
    assert video < transcript < html.index("Body</p>")
    assert 'title="Video: Watch"' in html
    assert "<summary>Transcript" in html and "<strong>taut band</strong>" in html
    assert "<script>alert(1)" not in html  # shown as text, never run
    plain = client.get(f"/courses/shown/lessons/{plain_id}").get_data(as_text=True)
    assert "<details" not in plain


def test_the_api_says_which_lessons_have_a_video_and_a_transcript(app, client):
    with app.app_context():
        info = make_course("flags")
        _add_video_lesson(info.id, "Watch", "A transcript.")
        db.session.commit()
    make_reader(app, "member", client, info)
    body = client.get("/api/v1/courses/flags").get_json()
    lessons = {
        lesson["title"]: lesson for module in body["modules"] for lesson in module["lessons"]
    }
    assert (lessons["Watch"]["has_video"], lessons["Watch"]["has_transcript"]) == (True, True)
    assert (lessons["Lesson 1"]["has_video"], lessons["Lesson 1"]["has_transcript"]) == (
        False,
        False,
    )


# --- course files --------------------------------------------------------------------------------


def _with_video(root, transcript: str | None) -> None:
    lesson = root / "lessons" / "02-treat.md"
    lesson.write_text(lesson.read_text().replace("minutes: 15\n", f"minutes: 15\nvideo: {VIDEO}\n"))
    if transcript is not None:
        (root / "lessons" / "02-treat.transcript.md").write_text(transcript)


def test_a_lessons_transcript_is_read_from_its_sibling_file(app, tmp_path):
    root = write_course(tmp_path)
    _with_video(root, "## What you see\n\nThe therapist **locates** the scalenes.\n")
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.title == "Treating them"))
        assert lesson.video_embed_url == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
        assert "<strong>locates</strong>" in lesson.transcript_html
    (root / "lessons" / "02-treat.transcript.md").write_text("A reworded transcript.\n")
    assert "updated    scalenes" in run_import(app, tmp_path).output
    with app.app_context():
        assert db.session.scalar(
            select(Lesson.transcript).where(Lesson.title == "Treating them")
        ) == ("A reworded transcript.\n")


def test_a_published_course_file_with_an_untranscribed_video_is_refused_by_name(app, tmp_path):
    root = write_course(tmp_path)
    _with_video(root, None)
    result = run_import(app, tmp_path)
    assert result.exit_code == 1
    assert "lessons/02-treat.md: the lesson has a video but no transcript" in result.output
    assert "lessons/02-treat.transcript.md" in result.output
    assert _course(app) is None

    (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "status": "draft"}))
    assert run_import(app, tmp_path).exit_code == 0  # a draft may wait for its transcript


@pytest.mark.parametrize(
    ("transcript", "lessons", "message"),
    [
        ("  \n", None, "lessons/02-treat.transcript.md: the transcript is empty"),
        # Zero-width spaces alone are not blank to strip(), yet the transcript reads as nothing.
        ("\u200b\u200b\n", None, "lessons/02-treat.transcript.md: the transcript is empty"),
        ("Text", ["01-find.md", "02-treat.transcript.md"], "is a transcript, not a lesson"),
    ],
)
def test_bad_transcript_files_are_reported(app, tmp_path, transcript, lessons, message):
    root = write_course(tmp_path)
    _with_video(root, transcript)
    if lessons is not None:
        modules = [{"title": "M", "lessons": lessons}]
        (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "modules": modules}))
    result = run_import(app, tmp_path)
    assert result.exit_code == 1 and message in result.output
