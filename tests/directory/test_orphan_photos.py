"""Stored directory photos no profile refers to are removed once past a grace period."""

from __future__ import annotations

import os
import time

from campus.extensions import db
from campus.storage import LocalStorage, get_storage
from tests import support
from tests.directory.helpers import make_profile


def _age(key: str, hours: float) -> None:
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    then = time.time() - hours * 3600
    os.utime(storage.root / key, (then, then))


def test_old_photos_no_profile_refers_to_are_removed(app):
    from campus.directory.tasks import delete_orphan_photos

    with app.app_context():
        user = support.create_user()
        profile = make_profile(user=user)
        storage = get_storage()
        shown = f"directory/photos/{profile.id}-shownshownshow.jpg"
        profile.photo_key = shown
        db.session.commit()
        # Replaced before replacing deleted the old photo: no profile names it.
        orphan = f"directory/photos/{profile.id}-orphanorphanor.jpg"
        # Stored a moment ago for a save that may still be committing, on any machine.
        in_flight = f"directory/photos/{profile.id}-inflightinflig.jpg"
        for key in (shown, orphan, in_flight):
            storage.save(key, b"\xff\xd8 a photo")
        _age(shown, 24 * 30)
        _age(orphan, 24 * 30)
        _age(in_flight, 0.1)
        assert delete_orphan_photos.apply().get() == 1
        assert not storage.exists(orphan)
        assert storage.exists(shown) and storage.exists(in_flight)
        assert delete_orphan_photos.apply().get() == 0


def test_the_orphan_photo_sweep_is_on_the_nightly_beat_schedule():
    from celery.schedules import crontab

    from workers.schedule import beat_schedule

    entry = beat_schedule()["directory-delete-orphan-photos"]
    assert entry["task"] == "campus.directory.delete_orphan_photos"
    assert isinstance(entry["schedule"], crontab)
