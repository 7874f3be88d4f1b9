"""The dashboard's approvals to renew: the 20 soonest not yet renewed, chosen in SQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import event, select

TODAY = date(2026, 12, 5)
D = timedelta


def _course(n: int, *approvals: tuple[str, date | None, date | None]):
    """A course (inside an app context) holding approvals given as (board, from, until)."""
    from campus.extensions import db
    from campus.learning.models import BoardApproval, Course

    course = Course(
        slug=f"c{n}", title=f"Course {n}", summary="S", topic="T", ce_hours=Decimal("1")
    )
    course.approvals = [
        BoardApproval(board=board, approval_number=f"{n}-{k}", valid_from=start, valid_until=end)
        for k, (board, start, end) in enumerate(approvals)
    ]
    db.session.add(course)
    return course


def _as_before(today: date) -> list[int]:
    """Every approval ending by `today` + 60 days, soonest first, less the renewed: the 20 first."""
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    due = db.session.scalars(
        select(BoardApproval)
        .where(BoardApproval.valid_until <= today + D(days=60))
        .order_by(BoardApproval.valid_until, BoardApproval.id)
    )
    return [a.id for a in due if not a.renewed][:20]


def _fill(n0: int = 0) -> None:
    n = n0
    for k in range(12):
        ends = TODAY - D(days=400 + k)
        n += 1  # renewed from the day after, the board written in another case
        _course(n, ("NCBTMB", None, ends), ("ncbtmb", ends + D(days=1), TODAY + D(days=900)))
        n += 1  # renewed with no first day, and for good
        _course(n, ("FL", ends - D(days=700), ends), ("FL", None, None))
        n += 1  # a renewal that starts two days after: a day between them is not approved
        _course(n, ("BOC", None, ends), ("BOC", ends + D(days=2), TODAY + D(days=900)))
        n += 1  # another board's approval is no renewal
        _course(n, ("NCBTMB", None, ends + D(days=3)), ("FSBPT", None, TODAY + D(days=900)))
        n += 1  # a renewal that ends the same day is none
        _course(
            n, ("NCBTMB", None, TODAY + D(days=k)), ("NCBTMB", TODAY + D(days=k), TODAY + D(days=k))
        )
        n += 1  # beyond the 60 days: not listed
        _course(n, ("NCBTMB", None, TODAY + D(days=61 + k)))


def test_the_list_is_the_same_twenty_soonest_unrenewed_approvals(app):
    from campus.admin.dashboard import approvals_expiring
    from campus.extensions import db

    with app.app_context():
        _fill()
        # Another course's approval of the same board is not this course's renewal.
        ends = TODAY - D(days=5)
        _course(900, ("NCBTMB", None, ends))
        _course(901, ("NCBTMB", ends + D(days=1), None))
        # Renewed under the board's name in other (non-ASCII) letter case: SQLite's lower()
        # folds ASCII only; it must still be left out, and the 20 filled from further on.
        for n in range(902, 905):
            ends = TODAY - D(days=2000 + n)
            _course(n, ("ÄRZTEKAMMER", None, ends), ("Ärztekammer", ends + D(days=1), None))
            _course(n + 10, ("STRAẞE", None, ends), ("strasse", ends + D(days=1), None))
        db.session.commit()
        expected = _as_before(TODAY)
        db.session.expunge_all()
        shown = [a.id for a in approvals_expiring(TODAY)]
        assert len(expected) == 20
        assert shown == expected


def test_the_list_loads_no_more_than_it_shows(app):
    from campus.admin.dashboard import approvals_expiring
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        for n in range(40):  # long renewed: every one of them ended in the past
            ends = TODAY - D(days=400 + n)
            _course(n, ("NCBTMB", None, ends), ("NCBTMB", ends + D(days=1), TODAY + D(days=900)))
        for n in range(40, 65):
            _course(n, ("NCBTMB", None, TODAY + D(days=n - 40)))
        db.session.commit()
        db.session.expunge_all()
        loaded: list[int] = []
        statements: list[str] = []

        def on_load(target, _context) -> None:
            loaded.append(target.id)

        def on_execute(_conn, _cursor, statement, *_args) -> None:
            statements.append(statement)

        event.listen(BoardApproval, "load", on_load)
        event.listen(db.engine, "before_cursor_execute", on_execute)
        try:
            shown = approvals_expiring(TODAY)
        finally:
            event.remove(BoardApproval, "load", on_load)
            event.remove(db.engine, "before_cursor_execute", on_execute)
        assert [a.course.slug for a in shown] == [f"c{n}" for n in range(40, 60)]
        assert len(loaded) <= 20, f"{len(loaded)} approvals loaded to show 20"
        main = [s for s in statements if "ORDER BY board_approvals.valid_until" in s]
        assert main and all("LIMIT" in s for s in main)


def test_a_board_renewed_only_in_a_linguistic_letter_case_is_still_listed(app):
    from campus.admin.dashboard import approvals_expiring
    from campus.extensions import db

    with app.app_context():
        # Not renewed as BoardApproval.renewed reads it ("İ".casefold() is not "i"), though
        # PostgreSQL's lower() folds one to the other.
        ends = TODAY - D(days=5)
        _course(1, ("İSTANBUL", None, ends), ("istanbul", ends + D(days=1), None))
        db.session.commit()
        expected = _as_before(TODAY)
        db.session.expunge_all()
        assert len(expected) == 1
        assert [a.id for a in approvals_expiring(TODAY)] == expected
