"""Read-only snapshots of course content, cached per process and keyed by the course's stamp.

A course's `updated_at` is its content version: any change to its modules, lessons, resources,
quiz, approvals or audience bumps it (see `_touch_courses`). Pages load the course row anyway
(to check it is visible), so a stale snapshot is never served, in any process, and no message
between processes is needed. Progress and enrollments are never cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import Select, event, inspect, select, update
from sqlalchemy.orm import InstanceState, Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from campus.cache import VersionedLRU, app_cache, clear_caches
from campus.extensions import db
from campus.learning.models import (
    BoardApproval,
    Choice,
    Course,
    CourseProfession,
    Lesson,
    LessonResource,
    Module,
    Question,
    Quiz,
    in_force,
)
from campus.models.base import utcnow

_MAX_ENTRIES = 512
T = TypeVar("T")


@dataclass(frozen=True)
class ModuleView:
    id: int
    position: int
    title: str


@dataclass(frozen=True)
class ResourceView:
    id: int
    title: str
    filename: str
    size_bytes: int


@dataclass(frozen=True)
class LessonView:
    """What a lesson page shows; the same attribute names as the Lesson model."""

    id: int
    course_id: int
    module_id: int
    module: ModuleView
    position: int
    title: str
    body_html: str
    video_embed_url: str | None
    transcript_html: str
    estimated_minutes: int
    resources: tuple[ResourceView, ...]


@dataclass(frozen=True)
class ApprovalView:
    board: str
    approval_number: str
    valid_from: date | None
    valid_until: date | None

    def is_valid_on(self, day: date) -> bool:
        """Tell whether the approval is in force on a given day, as BoardApproval.is_valid_on."""
        return in_force(self.valid_from, self.valid_until, day)


@dataclass(frozen=True)
class AudienceView:
    profession: str


@dataclass(frozen=True)
class CourseCard:
    """What a catalog card shows; the same attribute names as the Course model."""

    id: int
    slug: str
    title: str
    summary: str
    ce_hours: Decimal
    delivery_type: str
    delivery_label: str
    level: str
    level_label: str
    topic: str
    cover_image_url: str | None
    status: str
    approvals: tuple[ApprovalView, ...]
    audience: tuple[AudienceView, ...]
    updated_at: datetime  # the content version: snapshots of this course are keyed by it

    @property
    def professions(self) -> list[str]:
        return [row.profession for row in self.audience]

    @property
    def is_published(self) -> bool:
        return self.status == "published"


def _cache(name: str) -> VersionedLRU[Any]:
    return app_cache(f"learning.{name}", _MAX_ENTRIES)


def clear() -> None:
    """Forget every snapshot of this app (benchmarks measure cold pages with it)."""
    clear_caches(prefix="learning.")


def course_lessons(course: Course | CourseCard) -> list[LessonView]:
    """The course's lessons in order, with modules and resources, from the snapshot cache."""
    cache = _cache("lessons")
    found = cache.get(course.id, course.updated_at)
    if found is not None:
        return found
    rows = db.session.scalars(
        select(Lesson)
        .where(Lesson.course_id == course.id)
        .options(selectinload(Lesson.module), selectinload(Lesson.resources))
        .order_by(Lesson.module_position, Lesson.position)
    ).all()
    views = [
        LessonView(
            id=lesson.id,
            course_id=lesson.course_id,
            module_id=lesson.module_id,
            module=ModuleView(lesson.module.id, lesson.module.position, lesson.module.title),
            position=lesson.position,
            title=lesson.title,
            body_html=lesson.body_html,
            video_embed_url=lesson.video_embed_url,
            transcript_html=lesson.transcript_html,
            estimated_minutes=lesson.estimated_minutes,
            resources=tuple(
                ResourceView(r.id, r.title, r.filename, r.size_bytes) for r in lesson.resources
            ),
        )
        for lesson in rows
    ]
    return cache.put(course.id, views, course.updated_at)


_STAMPS: dict[bool, Select] = {}


def catalog_stamp(include_drafts: bool) -> tuple:
    """The catalog's version (every listed course's id and stamp), re-read at most every
    LEARNING_CATALOG_STAMP_SECONDS (default 1) per process: a busy catalog then answers from
    memory, and an admin's edit shows within that second.
    """
    ttl = current_app.config.get("LEARNING_CATALOG_STAMP_SECONDS", 1.0)
    if not ttl:
        return _read_stamp(include_drafts)
    memo = app_cache("learning.catalog_stamp", 2, max_age=ttl)
    return memo.get_or_build(include_drafts, None, lambda: _read_stamp(include_drafts))


def _read_stamp(include_drafts: bool) -> tuple:
    # Every course's stamp, not the newest alone: an edit saved on a host whose clock runs
    # behind, or committed after a later-stamped one, is older than the newest stamp.
    stmt = _STAMPS.get(include_drafts)
    if stmt is None:  # built once: constructing a statement costs more than running this one
        stmt = select(Course.id, Course.updated_at).order_by(Course.id)
        if not include_drafts:
            stmt = stmt.where(Course.status == "published")
        _STAMPS[include_drafts] = stmt
    return tuple(tuple(row) for row in db.session.execute(stmt))


def cached_fragment(key: tuple, stamp: object, build: Callable[[], T]) -> T:
    """Return a rendered piece of a page cached under a content stamp, building it when missing."""
    return _cache("fragments").get_or_build(key, stamp, build)


def cached_catalog(key: tuple, stamp: tuple, build: Callable[[], T]) -> T:
    """Return the cached catalog result for `key` at `stamp`, building it when missing."""
    return _cache("catalog").get_or_build(key, stamp, build)


def card(course: Course) -> CourseCard:
    """Freeze a loaded course (with approvals and audience) into a catalog card."""
    return CourseCard(
        id=course.id,
        slug=course.slug,
        title=course.title,
        summary=course.summary,
        ce_hours=course.ce_hours,
        delivery_type=course.delivery_type,
        delivery_label=course.delivery_label,
        level=course.level,
        level_label=course.level_label,
        topic=course.topic,
        cover_image_url=course.cover_image_url,
        status=course.status,
        approvals=tuple(
            ApprovalView(a.board, a.approval_number, a.valid_from, a.valid_until)
            for a in course.approvals
        ),
        audience=tuple(AudienceView(p.profession) for p in course.audience),
        updated_at=course.updated_at,
    )


def course_card(course_id: int, stamp: datetime) -> CourseCard | None:
    """The card of a course at content version `stamp`, from the cache (None: no such course)."""
    cache = _cache("cards")
    found = cache.get(course_id, stamp)
    if found is not None:
        return found
    course = db.session.scalar(
        select(Course)
        .where(Course.id == course_id)
        .options(selectinload(Course.approvals), selectinload(Course.audience))
    )
    if course is None:
        return None
    found = card(course)
    # Keyed by the version the caller read: the row may have moved on since, and then the next
    # reader's newer stamp simply misses and rebuilds.
    return cache.put(course_id, found, stamp)


# --- the content version -----------------------------------------------------------------------

_CHILDREN = (Module, Lesson, Quiz, BoardApproval, CourseProfession)  # resources: above


def _course_id_of(session: Session, obj) -> int | None:
    if isinstance(obj, LessonResource):
        lesson = obj.lesson or (session.get(Lesson, obj.lesson_id) if obj.lesson_id else None)
        return lesson.course_id if lesson is not None else None
    if isinstance(obj, _CHILDREN):
        return obj.course_id if obj.course_id is not None else getattr(obj.course, "id", None)
    if isinstance(obj, Question):
        quiz = obj.quiz or (session.get(Quiz, obj.quiz_id) if obj.quiz_id else None)
        return quiz.course_id if quiz is not None else None
    if isinstance(obj, Choice):
        question = obj.question or (
            session.get(Question, obj.question_id) if obj.question_id else None
        )
        return _course_id_of(session, question) if question is not None else None
    return None


# The key that places each part: a part moved by it leaves a course as well as joining one.
_PLACES = {
    LessonResource: ("lesson_id", Lesson),
    Question: ("quiz_id", Quiz),
    Choice: ("question_id", Question),
}


def _left_course_id(session: Session, obj) -> int | None:
    """The course a part was moved out of in this flush (None when it did not move)."""
    state: InstanceState[Any] = inspect(obj)
    if isinstance(obj, _CHILDREN):
        return next(iter(state.attrs.course_id.history.deleted), None)
    for kind, (key, parent_kind) in _PLACES.items():
        if isinstance(obj, kind):
            earlier = next(iter(state.attrs[key].history.deleted), None)
            parent = session.get(parent_kind, earlier) if earlier is not None else None
            return _course_id_of(session, parent) if parent is not None else None
    return None


@event.listens_for(Session, "after_flush")
def _touch_courses(session: Session, _context) -> None:
    # Bump the owning course's updated_at whenever its content changes, so snapshots keyed by
    # it are never served stale (the course row itself bumps through its onupdate); a part
    # moved to another course changes the one it left too.
    ids = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Course):
            continue
        for course_id in (_course_id_of(session, obj), _left_course_id(session, obj)):
            if course_id is not None:
                ids.add(course_id)
    if ids:
        now = utcnow()
        session.execute(
            update(Course)
            .where(Course.id.in_(ids))
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
        for course_id in ids:
            course = session.identity_map.get(Session.identity_key(Course, course_id))
            if course is not None:
                set_committed_value(course, "updated_at", now)
