"""Reviewed practical videos leave the storage PRACTICAL_VIDEO_RETENTION_DAYS after the verdict."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campus.extensions import db
from campus.models.base import utcnow
from campus.programs.models import PracticalSubmission
from campus.storage import get_storage
from tests import support
from tests.programs.helpers import ready_program
from tests.programs.test_practical import MP4, _assessor_client


def _video(program_id: int, user_id: int, status: str, reviewed_days_ago: int | None) -> int:
    key = f"programs/practicals/{program_id}/{user_id}/{status}-{reviewed_days_ago}.mp4"
    get_storage().save(key, MP4, "video/mp4")
    reviewed = utcnow() - timedelta(days=reviewed_days_ago) if reviewed_days_ago else None
    submission = PracticalSubmission(
        program_id=program_id,
        user_id=user_id,
        storage_key=key,
        filename="me.mp4",
        content_type="video/mp4",
        size_bytes=len(MP4),
        status=status,
        reviewed_at=reviewed,
        comments="Film closer." if status == "returned" else "",
        rubric_marks={"Finds the point": status == "passed"} if reviewed else {},
    )
    db.session.add(submission)
    db.session.commit()
    return submission.id


def test_videos_go_after_the_final_review_and_the_review_stays(app):
    from campus.programs.tasks import remove_reviewed_videos

    with app.app_context():
        assert app.config["PRACTICAL_VIDEO_RETENTION_DAYS"] == 90
        program, _courses = ready_program(practical_required=True, rubric="Finds the point")
        passed_user, waiting_user, returned_user, recent_user = (
            support.create_user().id for _ in range(4)
        )
        # Returned, then passed on the second video: both go, 90 days after the pass.
        first = _video(program.id, passed_user, "returned", 200)
        final = _video(program.id, passed_user, "passed", 91)
        # Returned long ago, sent again and waiting: the candidate is still being assessed.
        kept = [
            _video(program.id, waiting_user, "returned", 200),
            _video(program.id, waiting_user, "submitted", None),
            # Returned for resubmission, not sent again: the candidate may still answer it.
            _video(program.id, returned_user, "returned", 200),
            # Passed, but within the retention.
            _video(program.id, recent_user, "passed", 30),
        ]
        assert remove_reviewed_videos.apply().get() == 2
        for submission_id in (first, final):
            submission = db.session.get(PracticalSubmission, submission_id)
            assert not get_storage().exists(submission.storage_key)
            assert submission.video_removed_at is not None
            assert submission.status in ("passed", "returned") and submission.rubric_marks
        assert db.session.get(PracticalSubmission, first).comments == "Film closer."
        for submission_id in kept:
            submission = db.session.get(PracticalSubmission, submission_id)
            assert get_storage().exists(submission.storage_key)
            assert submission.video_removed_at is None
        assert remove_reviewed_videos.apply().get() == 0  # a second run finds nothing left

    # The assessor sees the review and that the video was removed, never a broken player.
    assessor = _assessor_client(app)
    page = assessor.get(f"/admin/assessments/{final}/")
    assert page.status_code == 200
    assert "The video was removed" in page.text and "<video" not in page.text
    assert assessor.get(f"/admin/assessments/{final}/video").status_code == 404


def test_the_video_removal_is_on_the_nightly_beat_schedule():
    from celery.schedules import crontab

    from workers.schedule import beat_schedule

    entry = beat_schedule()["programs-remove-reviewed-videos"]
    assert entry["task"] == "campus.programs.remove_reviewed_videos"
    assert isinstance(entry["schedule"], crontab)


def test_the_archive_says_when_the_video_was_removed(app):
    from campus.records.practice import programs_part

    with app.app_context():
        program, _courses = ready_program(practical_required=True, rubric="Finds the point")
        user = support.create_user()
        submission_id = _video(program.id, user.id, "passed", 91)
        db.session.get(PracticalSubmission, submission_id).video_removed_at = utcnow()
        db.session.commit()
        part = programs_part(user)
        assert part["practicals"][0]["video_removed_at"] is not None
        assert db.session.scalar(select(PracticalSubmission.status)) == "passed"


def test_deleting_the_account_marks_the_reviewed_videos_removed(app):
    with app.app_context():
        program, _courses = ready_program(practical_required=True, rubric="Finds the point")
        user = support.create_user()
        user_id, email = user.id, user.email
        submission_id = _video(program.id, user_id, "passed", 5)
        key = db.session.get(PracticalSubmission, submission_id).storage_key
    client = app.test_client()
    support.login(client, email)
    deleted = support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "confirmation": "DELETE"},
    )
    assert deleted.status_code == 302
    with app.app_context():
        submission = db.session.get(PracticalSubmission, submission_id)
        assert not get_storage().exists(key)
        assert submission.status == "passed" and submission.video_removed_at is not None


def test_a_video_whose_removal_was_cut_short_goes_on_the_next_run(app, monkeypatch):
    """Storage away (or the worker killed) as a video is removed: the next run still removes it."""
    from campus.programs.tasks import remove_reviewed_videos
    from campus.storage import LocalStorage

    with app.app_context():
        program, _courses = ready_program(practical_required=True, rubric="Finds the point")
        stuck = _video(program.id, support.create_user().id, "passed", 91)
        gone = _video(program.id, support.create_user().id, "passed", 92)
        stuck_key = db.session.get(PracticalSubmission, stuck).storage_key
        real_delete = LocalStorage.delete

        def delete_failing_once(self, key):
            if key == stuck_key:
                raise OSError("storage unreachable")
            real_delete(self, key)

        monkeypatch.setattr(LocalStorage, "delete", delete_failing_once)
        # The other video is still removed: one that cannot go does not stop the run.
        assert remove_reviewed_videos.apply().get() == 1
        assert not get_storage().exists(db.session.get(PracticalSubmission, gone).storage_key)
        assert get_storage().exists(stuck_key)
        # Still due: nothing says it is gone while its file is there.
        assert db.session.get(PracticalSubmission, stuck).video_removed_at is None

        monkeypatch.setattr(LocalStorage, "delete", real_delete)
        assert remove_reviewed_videos.apply().get() == 1
        assert not get_storage().exists(stuck_key)
        assert db.session.get(PracticalSubmission, stuck).video_removed_at is not None
