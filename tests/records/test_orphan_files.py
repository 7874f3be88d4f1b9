"""Stored member files left behind by a change whose file deletion never ran are swept nightly."""

from __future__ import annotations

import os
import time

from campus.storage import LocalStorage, get_storage
from tests import support
from tests.records.helpers import full_member


def _age(key: str, hours: float) -> None:
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    then = time.time() - hours * 3600
    os.utime(storage.root / key, (then, then))


def test_a_deleted_members_files_left_by_a_killed_process_are_swept(app, monkeypatch):
    from campus import storage as storage_module
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.records import actions
    from campus.records.models import DataExport
    from campus.records.tasks import delete_orphan_files
    from tests.programs.helpers import make_credential, make_program
    from tests.records.test_deletion import _practical

    gone, kept = full_member(app, "gone-course"), full_member(app, "kept-course")
    with app.app_context():
        storage = get_storage()
        program = make_program(slug="swept-program", practical_required=True)
        _practical(program.id, gone.user_id, "programs/practicals/gone.mp4")
        _practical(program.id, kept.user_id, "programs/practicals/kept.mp4")
        held = make_credential(
            kept.user_id,
            program,
            storage_key="programs/credentials/KEPT.pdf",
            badge_key="programs/credentials/KEPT.jwt",
        )
        for user_id, key in (
            (gone.user_id, "exports/1/gone.zip"),
            (kept.user_id, "exports/2/kept.zip"),
        ):
            db.session.add(DataExport(user_id=user_id, status="ready", storage_key=key))
            storage.save(key, b"PK")
        for key in (held.storage_key, held.badge_key, "programs/credentials/LOST.pdf"):
            storage.save(key, b"%PDF")
        db.session.commit()

        # The web process dies after the deletion commits, before it deletes the files.
        monkeypatch.setattr(storage_module, "_delete_committed", lambda storage, keys: None)
        actions.delete_account(
            db.session.get_one(User, gone.user_id),
            password=support.DEFAULT_PASSWORD,
            code=None,
            confirmation="DELETE",
        )
        db.session.commit()
        monkeypatch.undo()
        left = [
            "programs/practicals/gone.mp4",
            "exports/1/gone.zip",
            "programs/credentials/LOST.pdf",
        ]
        in_use = [
            "programs/practicals/kept.mp4",
            "exports/2/kept.zip",
            "programs/credentials/KEPT.pdf",
            "programs/credentials/KEPT.jwt",
        ]
        assert all(storage.exists(key) for key in left + in_use)
        for key in left + in_use:
            _age(key, 24 * 30)
        # Stored a moment ago for a change that may still be committing, on any machine.
        storage.save("exports/3/in-flight.zip", b"PK")

        assert delete_orphan_files.apply().get() == len(left)
        assert not any(storage.exists(key) for key in left)
        assert all(storage.exists(key) for key in in_use)
        assert storage.exists("exports/3/in-flight.zip")
        assert delete_orphan_files.apply().get() == 0


def test_a_video_removed_past_its_retention_whose_file_stayed_is_swept(app):
    from datetime import UTC, datetime

    from campus.records.tasks import delete_orphan_files
    from tests.programs.helpers import make_program
    from tests.records.test_deletion import _practical

    with app.app_context():
        user = support.create_user()
        program = make_program(slug="removed-video-program", practical_required=True)
        # The row says the video went; the storage deletion did not happen.
        _practical(
            program.id,
            user.id,
            "programs/practicals/removed.mp4",
            video_removed_at=datetime(2026, 1, 5, tzinfo=UTC),
        )
        _age("programs/practicals/removed.mp4", 24 * 30)
        assert delete_orphan_files.apply().get() == 1
        assert not get_storage().exists("programs/practicals/removed.mp4")


def test_the_orphan_file_sweep_is_on_the_nightly_beat_schedule():
    from celery.schedules import crontab

    from workers.schedule import beat_schedule

    entry = beat_schedule()["records-delete-orphan-files"]
    assert entry["task"] == "campus.records.delete_orphan_files"
    assert isinstance(entry["schedule"], crontab)
