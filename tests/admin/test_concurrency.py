"""Two admins (or two clicks) changing one member or profile at once change and log it once."""

from __future__ import annotations

import pytest

from tests import support
from tests.admin.helpers import audit_entries, sign_in_admin
from tests.learning.test_concurrency import _race


def test_hiding_one_profile_at_once_hides_logs_and_emails_it_once(app):
    from sqlalchemy import func, select

    from campus.directory import actions
    from campus.directory.models import DirectoryProfile
    from campus.directory.services import DirectoryError
    from campus.extensions import db
    from campus.mail.models import EmailMessage
    from tests.directory.helpers import make_profile

    with app.app_context():
        owner = support.create_user(email="pat@example.org")
        profile_id = make_profile("10001", user=owner).id

    def hide() -> str:
        profile = db.session.get_one(DirectoryProfile, profile_id)
        actions.hide_profile(profile, "Claims a fake license", actor=None)
        return "hidden"

    results, errors = _race(app, 3, hide)
    assert results == ["hidden"]
    assert len(errors) == 2 and all(isinstance(e, DirectoryError) for e in errors)
    assert len(audit_entries(app, action="directory_hide")) == 1
    with app.app_context():
        emails = db.session.scalar(
            select(func.count())
            .select_from(EmailMessage)
            .where(EmailMessage.to == "pat@example.org")
        )
        assert emails == 1


def test_ending_a_comp_at_once_ends_and_logs_it_once(app):
    from campus.accounts.models import User
    from campus.billing import actions
    from campus.billing.services import BillingError
    from campus.extensions import db

    with app.app_context():
        member_id = support.create_user().id
        actions.grant_comp(db.session.get_one(User, member_id), days=30, reason="Demo", actor=None)
        db.session.commit()

    def end() -> int:
        return actions.end_comp(db.session.get_one(User, member_id), actor=None)

    results, errors = _race(app, 3, end)
    assert results == [1]
    assert len(errors) == 2 and all(isinstance(e, BillingError) for e in errors)
    assert len(audit_entries(app, action="comp_end")) == 1


def test_a_comp_granted_by_a_double_click_is_granted_and_emailed_once(app):
    from sqlalchemy import func, select

    from campus.billing.models import CompMembership
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    with app.app_context():
        member_id = support.create_user(email="comped@example.org").id
    # One admin clicking twice: two requests of one session.
    clients = [app.test_client() for _ in range(2)]
    sign_in_admin(app, clients[0])
    with clients[0].session_transaction() as session:
        signed_in = dict(session)
    with clients[1].session_transaction() as session:
        session.update(signed_in)
    tokens = [support.csrf_token(client) for client in clients]
    path = f"/admin/members/{member_id}/comp"
    form = {"days": "30", "reason": "Conference speaker"}
    support.run_together(
        [
            lambda client=client, token=token: client.post(path, data={"csrf_token": token, **form})
            for client, token in zip(clients, tokens, strict=True)
        ]
    )
    assert len(audit_entries(app, action="comp_grant")) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CompMembership)) == 1
        emails = db.session.scalar(
            select(func.count())
            .select_from(EmailMessage)
            .where(EmailMessage.to == "comped@example.org")
        )
        assert emails == 1


def test_disabling_a_member_at_once_disables_and_logs_it_once(app):
    with app.app_context():
        member_id = support.create_user().id
    clients = [app.test_client() for _ in range(3)]
    tokens = []
    for client in clients:
        sign_in_admin(app, client)
        tokens.append(support.csrf_token(client))
    path = f"/admin/members/{member_id}/disable"
    support.run_together(
        [
            lambda client=client, token=token: client.post(path, data={"csrf_token": token})
            for client, token in zip(clients, tokens, strict=True)
        ]
    )
    assert len(audit_entries(app, action="disable")) == 1


def _meet_in(monkeypatch, module, *names: str) -> None:
    """Make calls of the functions named wait for each other (or 2 s), so both have read the
    row before either writes it."""
    import contextlib
    import threading

    meet = threading.Barrier(2)
    for name in names:
        real = getattr(module, name)

        def held(*args, real=real, **kwargs):
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait(timeout=2)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, held)


@pytest.mark.parametrize(
    ("published", "owner_does", "moderator_does"),
    [(False, "publish", "hide"), (True, "unpublish", "unhide")],
)
def test_a_moderators_hiding_and_the_owners_listing_at_once_list_the_profile_by_both(
    app, monkeypatch, published, owner_does, moderator_does
):
    from campus.accounts.models import User
    from campus.directory import actions, services
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db
    from tests.directory.helpers import make_profile

    with app.app_context():
        owner = support.create_user()
        profile = make_profile("10001", user=owner, published=published)
        if moderator_does == "unhide":
            actions.hide_profile(profile, "Claims a fake license", actor=None)
            db.session.commit()
        owner_id, profile_id = owner.id, profile.id
    _meet_in(monkeypatch, services, "publish", "unpublish", "moderate", "unmoderate")

    def by_owner() -> None:
        change = {"publish": actions.publish_profile, "unpublish": actions.unpublish_profile}
        change[owner_does](db.session.get_one(User, owner_id))

    def by_moderator() -> None:
        profile = db.session.get_one(DirectoryProfile, profile_id)
        if moderator_does == "hide":
            actions.hide_profile(profile, "Claims a fake license", actor=None)
        else:
            actions.unhide_profile(profile, actor=None)

    def in_context(change) -> None:
        with app.app_context():
            try:
                change()
                db.session.commit()
            except services.DirectoryError:  # refused once the other change was seen
                db.session.rollback()
            finally:
                db.session.remove()

    support.run_together([lambda: in_context(by_owner), lambda: in_context(by_moderator)])
    with app.app_context():
        profile = db.session.get_one(DirectoryProfile, profile_id)
        shown = profile.published_at is not None and profile.hidden_at is None
        # The directory's search reads `listed` alone: it must say what both changes left.
        assert profile.listed is shown


@pytest.mark.parametrize("kind", ["lesson", "module"])
def test_two_admins_moving_neighbours_at_once_both_move_them(app, monkeypatch, kind):
    from sqlalchemy import select

    from campus.extensions import db
    from campus.learning import actions, services
    from campus.learning.models import Course, Lesson, Module
    from tests.learning.helpers import make_course

    with app.app_context():
        course_id = make_course("moves", lessons=6).id
        course = db.session.get_one(Course, course_id)
        if kind == "module":
            services.add_module(course, "Three")
            db.session.commit()
            ids = [m.id for m in course.modules]
        else:
            ids = [lesson.id for lesson in course.modules[0].lessons]
    model, move = (
        (Module, actions.move_module) if kind == "module" else (Lesson, actions.move_lesson)
    )
    # Both read the positions before either writes them.
    support.hold_in_pairs(monkeypatch, actions, "_swap")

    def up(item_id: int):
        return lambda: move(db.session.get_one(model, item_id), -1, actor=None)

    first, second, third = ids
    results, errors = [], []

    def in_context(change) -> None:
        with app.app_context():
            try:
                results.append(change())
                db.session.commit()
            except Exception as exc:  # asserted on below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    support.run_together([lambda: in_context(up(second)), lambda: in_context(up(third))])
    assert errors == []
    with app.app_context():
        order = list(
            db.session.scalars(select(model.id).where(model.id.in_(ids)).order_by(model.position))
        )
        lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course_id)).all()
        assert all(lesson.module_position == lesson.module.position for lesson in lessons)
    # Either move first, then the other on what the first left.
    assert order in ([second, third, first], [first, second, third])
    assert len(audit_entries(app, action="move")) == sum(results)
