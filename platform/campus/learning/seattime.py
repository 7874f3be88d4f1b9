"""Seat time: how long a course's content takes, and how long a learner really spent on it.

The rule (README "How CE hours are computed and enforced"):
- A lesson's expected study time is the author's figure (which covers its video, handouts and
  practice) or, without one, its words read at 200 words a minute: NCBTMB counts about 12,000
  words of home-study reading, or one hour of video, per CE hour.
- A course can be published only when its lessons' expected time covers its CE hours at
  60 minutes each (NCBTMB's hour; it also satisfies the 50-minute hour of Florida and Texas).
- Time is credited on the server from the lesson page's heartbeats, one clock per member: each
  beat earns the time since the member's previous beat (of any course), and nothing after a gap
  longer than three beats (a hidden or idle page stops beating), so two tabs, two courses at
  once or forged beats earn wall time at most.
- A lesson can be marked complete after SEAT_TIME_LESSON_SHARE of its expected time; the quiz
  opens once the lessons hold at least 50 minutes per CE hour (the shortest hour a board counts).
- SEAT_TIME_SCALE multiplies every required time (1 in production; lower for demos and tests).

Functions flush and never commit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, case, func, select, update

from campus.accounts.models import User
from campus.extensions import db
from campus.learning import snapshots
from campus.learning.access import EnrollmentFacts, LearningError
from campus.learning.models import Course, Enrollment, Lesson
from campus.learning.records import SeatTime
from campus.models.writes import insert_if_absent, lock_row
from campus.templating import counted

READING_WORDS_PER_MINUTE = 200  # NCBTMB: about 12,000 words of reading per CE hour
CONTENT_MINUTES_PER_CE_HOUR = 60  # what the content must hold per CE hour to be published
STUDY_MINUTES_PER_CE_HOUR = 50  # what a learner must spend per CE hour before the quiz
_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")


def reading_minutes(markdown: str) -> int:
    """Minutes its words take to read at the documented rate (at least one)."""
    words = len(_WORD.findall(markdown or ""))
    return max(1, math.ceil(words / READING_WORDS_PER_MINUTE))


def expected_minutes(lesson: Lesson | snapshots.LessonView) -> int:
    """A lesson's expected study time in minutes."""
    return lesson.estimated_minutes


@dataclass(frozen=True)
class HoursSupport:
    """How many CE hours a course's content supports, against what it claims."""

    minutes: int
    claimed: Decimal

    @property
    def needed_minutes(self) -> int:
        return math.ceil(self.claimed * CONTENT_MINUTES_PER_CE_HOUR)

    @property
    def supported(self) -> Decimal:
        hours = Decimal(self.minutes) / CONTENT_MINUTES_PER_CE_HOUR
        return hours.quantize(Decimal("0.01"), rounding=ROUND_DOWN)

    @property
    def shortfall_minutes(self) -> int:
        return max(0, self.needed_minutes - self.minutes)

    @property
    def ok(self) -> bool:
        return self.shortfall_minutes == 0


def hours_support(course: Course) -> HoursSupport:
    """Compare the expected study time of a course's lessons with its CE hours."""
    minutes = 0
    if course.id:
        minutes = (
            db.session.scalar(
                select(func.coalesce(func.sum(Lesson.estimated_minutes), 0)).where(
                    Lesson.course_id == course.id
                )
            )
            or 0
        )
    return HoursSupport(int(minutes), Decimal(course.ce_hours or 0))


def check_hours_supported(course: Course) -> None:
    """Refuse to publish a course whose content cannot support its CE hours; say by how much."""
    with db.session.no_autoflush:
        support = hours_support(course)
    if support.ok:
        return
    raise LearningError(
        409,
        "hours_unsupported",
        f"Its lessons hold {support.minutes} minutes of expected study, which supports "
        f"{counted(support.supported, 'CE hour')}; {counted(support.claimed, 'CE hour')} need "
        f"{support.needed_minutes} minutes ({CONTENT_MINUTES_PER_CE_HOUR} per CE hour). "
        f"Add {support.shortfall_minutes} minutes of content or lower the CE hours.",
        shortfall_minutes=support.shortfall_minutes,
    )


# --- what a learner must spend ------------------------------------------------------------------


def _scale() -> float:
    return float(current_app.config["SEAT_TIME_SCALE"])


def required_lesson_seconds(lesson: Lesson | snapshots.LessonView) -> int:
    """Seconds a learner must spend on a lesson before it can be marked complete."""
    share = float(current_app.config["SEAT_TIME_LESSON_SHARE"])
    return math.ceil(expected_minutes(lesson) * 60 * share * _scale())


def required_course_seconds(
    course: Course | snapshots.CourseCard, hours: Decimal | None = None
) -> int:
    """Seconds a learner must spend on a course's lessons before its quiz opens.

    `hours` are the CE hours to be earned when not the course's own now: a completed
    enrollment's, which later edits of the course do not change.
    """
    hours = Decimal(course.ce_hours) if hours is None else Decimal(hours)
    return math.ceil(hours * STUDY_MINUTES_PER_CE_HOUR * 60 * Decimal(_scale()))


def spent_by_lesson(enrollment: Enrollment | EnrollmentFacts | None) -> dict[int, int]:
    """Seconds credited to each lesson of an enrollment."""
    if enrollment is None:
        return {}
    rows = db.session.execute(
        select(SeatTime.lesson_id, SeatTime.seconds).where(SeatTime.enrollment_id == enrollment.id)
    )
    return {lesson_id: seconds for lesson_id, seconds in rows}


@dataclass(frozen=True)
class Clock:
    """Time spent against time required (seconds)."""

    spent: int
    required: int

    @property
    def remaining(self) -> int:
        return max(0, self.required - self.spent)

    @property
    def met(self) -> bool:
        return self.remaining == 0


def lesson_clock(
    enrollment: Enrollment | EnrollmentFacts | None, lesson: Lesson | snapshots.LessonView
) -> Clock:
    """How long a learner has spent on a lesson and how long it requires."""
    return Clock(spent_by_lesson(enrollment).get(lesson.id, 0), required_lesson_seconds(lesson))


def course_clock(
    enrollment: Enrollment | EnrollmentFacts | None, course: Course | snapshots.CourseCard
) -> Clock:
    """How long a learner has spent on a course's lessons and how long its quiz requires."""
    return Clock(sum(spent_by_lesson(enrollment).values()), required_course_seconds(course))


def duration(seconds: int) -> str:
    """Say a number of seconds the way a person would: '1 h 05 min', '12 min', '40 s'."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min" if not secs else f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def check_lesson_time(enrollment: Enrollment | EnrollmentFacts, lesson: Lesson) -> None:
    """Refuse to complete a lesson before the required share of its expected time was spent."""
    clock = lesson_clock(enrollment, lesson)
    if clock.met:
        return
    raise LearningError(
        409,
        "needs_more_time",
        f"Spend another {duration(clock.remaining)} on this lesson before marking it complete "
        f"({duration(clock.spent)} of {duration(clock.required)} so far).",
        remaining_seconds=clock.remaining,
    )


def check_quiz_open(enrollment: Enrollment | EnrollmentFacts, course: Course) -> None:
    """Refuse the quiz until the course's lessons hold its minimum study time."""
    clock = course_clock(enrollment, course)
    if clock.met:
        return
    raise LearningError(
        409,
        "needs_more_time",
        f"The quiz opens after {duration(clock.required)} of study on this course's lessons; "
        f"{duration(clock.remaining)} to go ({duration(clock.spent)} so far).",
        remaining_seconds=clock.remaining,
    )


@dataclass(frozen=True)
class SeatTimeFacts:
    """What a lesson page shows about study time."""

    lesson: Clock
    course: Clock
    heartbeat_seconds: int
    scale: float

    @property
    def lesson_remaining(self) -> str:
        return duration(self.lesson.remaining)

    @property
    def course_remaining(self) -> str:
        return duration(self.course.remaining)


def seat_time_facts(
    enrollment: Enrollment | EnrollmentFacts | None,
    course: Course | snapshots.CourseCard,
    lesson: Lesson | snapshots.LessonView,
) -> SeatTimeFacts:
    """The clocks of a lesson page (read once: the lesson's and the course's)."""
    spent = spent_by_lesson(enrollment)
    return SeatTimeFacts(
        Clock(spent.get(lesson.id, 0), required_lesson_seconds(lesson)),
        Clock(sum(spent.values()), required_course_seconds(course)),
        int(current_app.config["SEAT_TIME_HEARTBEAT_SECONDS"]),
        _scale(),
    )


# --- the one write path: a heartbeat -------------------------------------------------------------


def max_gap_seconds() -> int:
    """The longest pause between beats that still counts (three beats; longer means away)."""
    return 3 * int(current_app.config["SEAT_TIME_HEARTBEAT_SECONDS"])


def database_now() -> datetime:
    """Return the database's clock, the one every web host's beats are timed by.

    Beats of one member reach whichever web host the load balancer picks; timed by each host's
    own clock, a host running fast would credit the difference as study and a slow one would
    refuse the next beat's time. PostgreSQL's clock_timestamp() is the time as the statement
    runs (now() would be when the transaction began); SQLite's 'now' is its one machine's clock.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        stamp = db.session.scalar(select(func.strftime("%Y-%m-%d %H:%M:%f", "now")))
        return datetime.fromisoformat(str(stamp)).replace(tzinfo=UTC)
    return cast(datetime, db.session.scalar(select(func.clock_timestamp()))).astimezone(UTC)


def record_heartbeat(enrollment_id: int, lesson_id: int, now: datetime | None = None) -> int:
    """Credit a lesson with the time since the member's previous beat; return the seconds.

    The enrollment's first beat, or one after a pause longer than `max_gap_seconds`, starts the
    clock and earns nothing. The compare-and-set on `seat_beat_at` means two concurrent beats
    (two tabs, a scripted burst) cannot both claim the same interval.
    """
    # One clock per member: their beats, of any course, take turns on their row, so two
    # courses open in two tabs share the wall time instead of each earning all of it.
    user_id = db.session.scalar(select(Enrollment.user_id).where(Enrollment.id == enrollment_id))
    if user_id is None:
        return 0  # no such enrollment: nothing to credit
    lock_row(User, user_id)
    now = now or database_now()  # read once the row is ours: a beat that waited is timed late
    # This enrollment's last beat (for the compare-and-set) and the member's, of any course.
    previous, latest = db.session.execute(
        select(
            func.max(case((Enrollment.id == enrollment_id, Enrollment.seat_beat_at))),
            func.max(Enrollment.seat_beat_at),
        ).where(Enrollment.user_id == user_id)
    ).one()
    same = (
        Enrollment.seat_beat_at.is_(None)
        if previous is None
        else Enrollment.seat_beat_at == previous
    )
    result = db.session.execute(
        update(Enrollment)
        .where(Enrollment.id == enrollment_id, same)
        .values(seat_beat_at=now, last_activity_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, result).rowcount != 1:
        return 0  # another beat moved the clock first; it earned this interval
    credit = 0
    # The time since the member's latest beat, whichever course it was for: the clock is
    # theirs. This enrollment's own first beat (previous None) still only starts it.
    if previous is not None and latest is not None and now > latest:
        gap = (now - latest).total_seconds()
        credit = int(gap) if gap <= max_gap_seconds() else 0
    insert_if_absent(
        SeatTime,
        {
            "enrollment_id": enrollment_id,
            "lesson_id": lesson_id,
            "seconds": 0,
            "beats": 0,
            "first_at": now,
            "last_at": now,
        },
        ["enrollment_id", "lesson_id"],
    )
    db.session.execute(
        update(SeatTime)
        .where(SeatTime.enrollment_id == enrollment_id, SeatTime.lesson_id == lesson_id)
        .values(seconds=SeatTime.seconds + credit, beats=SeatTime.beats + 1, last_at=now)
        .execution_options(synchronize_session=False)
    )
    return credit


def time_log(enrollment_id: int) -> list[SeatTime]:
    """An enrollment's time log: each lesson's credited seconds, first and last activity."""
    return list(
        db.session.scalars(
            select(SeatTime)
            .join(Lesson, Lesson.id == SeatTime.lesson_id)
            .where(SeatTime.enrollment_id == enrollment_id)
            .order_by(Lesson.module_position, Lesson.position)
        )
    )
