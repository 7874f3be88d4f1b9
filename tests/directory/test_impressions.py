"""Impressions held in memory per process and written in batches: none lost, none doubled."""

from __future__ import annotations

from tests import support
from tests.directory.helpers import make_profile


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _impressions(*ids: int) -> list[int]:
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    db.session.expire_all()
    return [db.session.get(DirectoryProfile, i).impressions for i in ids]


def test_counts_wait_for_the_interval_then_go_in_one_batch(app):
    from campus.directory.impressions import ImpressionBuffer
    from campus.extensions import db

    with app.app_context():
        a, b = make_profile("10001").id, make_profile("07030").id
        clock = Clock()
        buffer = ImpressionBuffer(db.engine, 5, clock)
        buffer.add([a, b])
        buffer.add([a])
        clock.now = 4.9
        buffer.add([a])
        assert _impressions(a, b) == [0, 0]  # held: nothing written yet
        clock.now = 5.0
        buffer.add([b])  # the interval is up: everything held is written
        assert _impressions(a, b) == [3, 2]
        assert not buffer.pending
        buffer.add([a])
        assert _impressions(a, b) == [3, 2]
        assert buffer.flush() == 1  # what a normal stop writes (atexit)
        assert _impressions(a, b) == [4, 2]


def test_a_failed_write_keeps_the_counts_for_the_next_one(app, monkeypatch):
    from campus.directory import impressions
    from campus.extensions import db

    with app.app_context():
        a = make_profile("10001").id
        buffer = impressions.ImpressionBuffer(db.engine, 0, Clock())
        broken = impressions.update(impressions.DirectoryProfile).values(no_such_column=1)
        monkeypatch.setattr(impressions, "_ADD", broken)
        buffer.add([a, a])
        assert buffer.pending == {a: 2}  # kept, and logged
        monkeypatch.undo()
        buffer.add([a])
        assert _impressions(a) == [3]
        assert not buffer.pending


def test_a_search_page_counts_through_the_apps_buffer(app, client):
    from campus.directory import impressions

    with app.app_context():
        a = make_profile("10001").id
    client.get("/directory/?zip=10001")
    with app.app_context():
        held = impressions.buffer()
        held.interval = 3600  # as a served process holds them
        try:
            client.get("/directory/?zip=10001")
            client.get("/api/v1/directory?zip=10001")
            # A HEAD (a link checker, a crawler's probe) shows the page to no one.
            client.head("/directory/?zip=10001")
            client.head("/api/v1/directory?zip=10001")
            assert held.pending == {a: 2}
            assert _impressions(a) == [1]
            held.flush()
            assert _impressions(a) == [3]
        finally:
            held.interval = 0


def test_counts_held_for_a_deleted_profile_never_reach_a_newer_one(app):
    from sqlalchemy import delete

    from campus.directory.impressions import ImpressionBuffer
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    with app.app_context():
        gone = make_profile("10001").id  # the newest profile: the highest id
        buffer = ImpressionBuffer(db.engine, 60, Clock())
        buffer.add([gone, gone])
        db.session.execute(delete(DirectoryProfile).where(DirectoryProfile.id == gone))
        db.session.commit()  # its member deleted the account while the counts were held
        newer = make_profile("07030").id
        assert newer != gone  # a profile's id is never given to another one
        buffer.flush()
        assert _impressions(newer) == [0]


def test_counts_held_by_a_quiet_process_are_written_once_the_interval_is_up(_database):
    """A process that shows one results page and no other still writes its count in time.

    The counts went in only with the next search after the interval: on a quiet site a web
    process could hold them for hours, and the practitioner's page said nobody had seen them.
    """
    from campus.directory import impressions

    # Long enough that a busy machine still finds the count held right after the page.
    app = support.make_app(DIRECTORY_IMPRESSIONS_FLUSH_SECONDS=2.0)
    try:
        with app.app_context():
            a = make_profile("10001").id
        assert app.test_client().get("/directory/?zip=10001").status_code == 200
        with app.app_context():
            assert impressions.buffer().pending == {a: 1}  # held, as a served process does
            support.wait_for(lambda: _impressions(a) == [1], timeout=10, message="the write")
            assert not impressions.buffer().pending
    finally:
        support.clean_database(app)
