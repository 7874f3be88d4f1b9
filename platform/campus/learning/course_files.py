"""Read a course written as files and check all of it before anything touches the database.

A course is a folder:

    <slug>/course.yaml      the course: title, CE hours, approvals, modules and their lessons
    <slug>/lessons/*.md     one lesson each: YAML front matter (title, minutes, ...) + Markdown
    <slug>/lessons/<lesson>.transcript.md   the transcript of that lesson's video (Markdown)
    <slug>/quiz.yaml        the final quiz (optional)
    <slug>/resources/*      files offered for download beside a lesson

`read_course` returns a `CourseSpec` or raises `CourseFileError` naming the file and what is
wrong with it; unknown keys are errors too, so a misspelt field is never silently ignored.
The README ("Courses") documents the format.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from campus.accounts.models import PROFESSIONS
from campus.learning.course_fields import (
    ApprovalSpec,
    Fields,
    check_choices,
    file_text,
    read_approval,
    refuse_nul,
)
from campus.learning.course_fields import CourseFileError as CourseFileError
from campus.learning.models import COURSE_STATUSES, DELIVERY_TYPES, LEVELS, SUBJECTS, share_a_day
from campus.learning.rendering import VideoURLError, video_embed_url
from campus.yamlfiles import UniqueKeyLoader, UniqueKeyYAMLHandler

COURSE_FILE = "course.yaml"
QUIZ_FILE = "quiz.yaml"
TRANSCRIPT_SUFFIX = ".transcript.md"
MAX_RESOURCE_BYTES = 20 * 1024 * 1024
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Ends in a letter or digit too: the store trims a final "." or "-", and a name it changes
# would never match its own resource again, so every import stored it anew.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_COVER_IMAGE = re.compile(r"^https://[^\s\"'<>]+$")  # as the admin's form (admin/catalog.py)
# The fields of course.yaml that an existing course keeps when a file leaves them out.
_OPTIONAL_FIELDS = (
    "description", "objectives", "presenters", "presenter_bio", "delivery_type", "level",
    "cover_image_url", "subjects", "professions", "approvals",
)  # fmt: skip
_QUIZ_SETTINGS = ("title", "instructions", "pass_mark_percent", "attempts_per_day")


@dataclass(frozen=True)
class ResourceSpec:
    title: str
    filename: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class LessonSpec:
    title: str
    minutes: int
    body: str
    video_url: str | None
    resources: tuple[ResourceSpec, ...]
    transcript: str = ""
    filename: str = ""


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    summary: str
    lessons: tuple[LessonSpec, ...]


@dataclass(frozen=True)
class QuestionSpec:
    prompt: str
    choices: tuple[tuple[str, bool], ...]
    explanation: str
    multiple: bool
    objective: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The question in the shape `services.set_quiz` takes."""
        return {
            "prompt": self.prompt,
            "choices": list(self.choices),
            "explanation": self.explanation,
            "multiple": self.multiple,
            "objective": self.objective,
        }


@dataclass(frozen=True)
class QuizSpec:
    title: str
    instructions: str
    pass_mark_percent: int
    attempts_per_day: int
    questions: tuple[QuestionSpec, ...]
    questions_per_attempt: int | None = None  # None: every question in the bank
    # Settings the file leaves out: a new quiz takes their defaults, an existing one keeps its own.
    unsaid: frozenset[str] = frozenset()

    def said_settings(self) -> dict[str, Any]:
        """The quiz's settings the file writes: what an update may change."""
        said = [key for key in _QUIZ_SETTINGS if key not in self.unsaid]
        return {key: getattr(self, key) for key in [*said, "questions_per_attempt"]}


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    fields: dict[str, Any]  # Course columns: title, summary, description, ce_hours, ...
    status: str | None  # None: not said; a new course is a draft, an existing one keeps its own
    professions: tuple[str, ...]
    approvals: tuple[ApprovalSpec, ...]
    modules: tuple[ModuleSpec, ...]
    quiz: QuizSpec | None
    # Optional fields the file leaves out: a new course takes their defaults (in `fields`, or
    # no professions or approvals), an existing one keeps its own.
    unsaid: frozenset[str] = frozenset()

    def said_fields(self) -> dict[str, Any]:
        """The columns the file writes: what an update may change."""
        return {key: value for key, value in self.fields.items() if key not in self.unsaid}


def course_folders(folder: Path) -> list[Path]:
    """The course folders to import: `folder` itself if it holds a course, else its children."""
    if (folder / COURSE_FILE).is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / COURSE_FILE).is_file())


def read_course(folder: Path) -> CourseSpec:
    """Read and check one course folder; raise CourseFileError on the first problem."""
    data = _mapping(_load_yaml(_inside(folder, COURSE_FILE)), COURSE_FILE)
    reader = Fields(data, COURSE_FILE)
    # Taken before the reader drops them: left out, an admin's edit must survive the next import.
    unsaid = frozenset(key for key in _OPTIONAL_FIELDS if data.get(key) is None)
    slug = reader.text("slug", default=folder.name, limit=120)
    if not _SLUG.match(slug):
        raise CourseFileError(
            f"{COURSE_FILE}: slug {slug!r} must be lowercase letters, digits and hyphens"
        )
    fields = {
        "title": reader.text("title", limit=200),
        "summary": reader.text("summary", limit=500),
        "description": reader.text("description", default="", limit=None),
        "objectives": "\n".join(reader.lines("objectives")),
        "presenters": "\n".join(reader.lines("presenters")),
        "presenter_bio": reader.text("presenter_bio", default="", limit=None),
        "ce_hours": reader.hours("ce_hours"),
        "delivery_type": reader.choice("delivery_type", DELIVERY_TYPES, default="home_study"),
        "level": reader.choice("level", LEVELS, default="introductory"),
        "topic": reader.text("topic", limit=80),
        "cover_image_url": _cover_image(reader.text("cover_image_url", default="", limit=500)),
        "subjects": _subjects(reader.lines("subjects")),
    }
    status = reader.optional_choice("status", COURSE_STATUSES)
    # Each once: the audience holds one row per profession (a second is a database error).
    professions = tuple(dict.fromkeys(reader.lines("professions")))
    for profession in professions:
        if profession not in PROFESSIONS:
            raise CourseFileError(
                f"{COURSE_FILE}: unknown profession {profession!r} "
                f"(one of {', '.join(PROFESSIONS)})"
            )
    approvals = tuple(_approval(item, n) for n, item in enumerate(reader.items("approvals"), 1))
    _check_one_per_board(approvals)
    modules = tuple(
        _module(folder, item, n) for n, item in enumerate(reader.items("modules", required=True), 1)
    )
    reader.done()
    _check_listed_once(modules)
    quiz_path = _inside(folder, QUIZ_FILE)
    quiz = _quiz(quiz_path) if quiz_path.exists() else None
    if status == "published":
        _check_transcripts(modules)
    return CourseSpec(slug, fields, status, professions, approvals, modules, quiz, unsaid)


# --- the parts -----------------------------------------------------------------------------------


def _cover_image(address: str) -> str | None:
    """The course's cover image address, held to the admin's rule (pages load https only)."""
    if address and not _COVER_IMAGE.match(address):
        raise CourseFileError(f"{COURSE_FILE}: `cover_image_url` must be an https:// address")
    return address or None


def _subjects(keys: list[str]) -> list[str]:
    """The renewal subjects a course covers (keys of SUBJECTS), each once, in a stable order."""
    for key in keys:
        if key not in SUBJECTS:
            raise CourseFileError(
                f"{COURSE_FILE}: unknown subject {key!r} (one of {', '.join(SUBJECTS)})"
            )
    return sorted(set(keys))


def _approval(item: Any, number: int) -> ApprovalSpec:
    where = f"{COURSE_FILE}, approval {number}"
    return read_approval(_mapping(item, where), where)


def _check_one_per_board(approvals: tuple[ApprovalSpec, ...]) -> None:
    # As the admin: one approval of a board on any day (a renewal from the day after the last
    # one ends stands beside it); an update matches rows by (board, number), so a number
    # written twice would keep one of the two unsaid.
    seen: dict[str, list[ApprovalSpec]] = {}
    for approval in approvals:
        same_board = seen.setdefault(approval.board.casefold(), [])
        if any(
            share_a_day(approval, other) or other.approval_number == approval.approval_number
            for other in same_board
        ):
            raise CourseFileError(
                f"{COURSE_FILE}: the {approval.board} approval is listed twice; a course holds "
                "one approval of each board on any day"
            )
        same_board.append(approval)


def _module(folder: Path, item: Any, number: int) -> ModuleSpec:
    where = f"{COURSE_FILE}, module {number}"
    reader = Fields(_mapping(item, where), where)
    title = reader.text("title", limit=200)
    summary = reader.text("summary", default="", limit=None)
    names = reader.lines("lessons")
    reader.done()
    if not names:
        raise CourseFileError(f"{where}: list at least one lesson file")
    lessons = tuple(_lesson(folder, name, where) for name in names)
    return ModuleSpec(title, summary, lessons)


def _check_listed_once(modules: tuple[ModuleSpec, ...]) -> None:
    # A lesson listed twice is studied twice: its minutes would count twice toward the CE hours.
    seen: set[str] = set()
    for lesson in (lesson for module in modules for lesson in module.lessons):
        if lesson.filename in seen:
            raise CourseFileError(f"{COURSE_FILE}: lessons/{lesson.filename} is listed twice")
        seen.add(lesson.filename)


def _check_transcripts(modules: tuple[ModuleSpec, ...]) -> None:
    # A published course's videos need transcripts (WCAG 2.1 AA 1.2.x); drafts may wait.
    for module in modules:
        for lesson in module.lessons:
            if lesson.video_url and not lesson.transcript.strip():
                raise CourseFileError(
                    f"lessons/{lesson.filename}: the lesson has a video but no transcript; "
                    f"write what the video shows and says in "
                    f"lessons/{transcript_name(lesson.filename)} (or keep the course a draft)"
                )


def _inside(folder: Path, name: str) -> Path:
    """The path of a course's file, refused if it (or its folder) links outside the course."""
    # A link to /etc/passwd or the server's settings would be published as a lesson or download.
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        raise CourseFileError(f"{name}: is a link to a file outside the course folder")
    return path


def transcript_name(lesson_name: str) -> str:
    """The file name of a lesson's transcript: `01-intro.md` → `01-intro.transcript.md`."""
    return lesson_name.removesuffix(".md") + TRANSCRIPT_SUFFIX


def _transcript(folder: Path, name: str) -> str:
    where = f"lessons/{transcript_name(name)}"
    try:
        text = _inside(folder, where).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError:
        raise CourseFileError(f"{where}: not UTF-8 text") from None
    except OSError as exc:
        raise CourseFileError(f"{where}: {_unreadable(exc)}") from None
    refuse_nul(text, where)
    return file_text(text, where, "the transcript is empty")


def _lesson(folder: Path, name: str, where: str) -> LessonSpec:
    if not (_PLAIN_NAME.match(name) and name.endswith(".md")):
        raise CourseFileError(f"{where}: {name!r} must be a .md file name in lessons/")
    if name.endswith(TRANSCRIPT_SUFFIX):
        raise CourseFileError(f"{where}: {name!r} is a transcript, not a lesson")
    path = _inside(folder, f"lessons/{name}")
    where = f"lessons/{name}"
    try:
        # parse, not loads: loads passes the keys as keywords, a TypeError for a key like 12.
        # utf-8-sig: a byte-order mark (Notepad's UTF-8) would hide the front matter.
        text = path.read_text(encoding="utf-8-sig")
        metadata, content = frontmatter.parse(text, handler=UniqueKeyYAMLHandler())
    except FileNotFoundError:
        raise CourseFileError(f"{where}: no such file") from None
    except OSError as exc:
        raise CourseFileError(f"{where}: {_unreadable(exc)}") from None
    except UnicodeDecodeError:
        raise CourseFileError(f"{where}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise CourseFileError(f"{where}: bad YAML front matter ({_first(exc)})") from None
    except ValueError as exc:
        raise CourseFileError(f"{where}: bad YAML front matter ({_unbuildable(exc)})") from None
    refuse_nul(content, where)
    for key in metadata:
        if not isinstance(key, str):
            raise CourseFileError(f"{where}: the front matter names a field {key!r}, not a name")
    reader = Fields(dict(metadata), where)
    title = reader.text("title", limit=200)
    minutes = reader.integer("minutes", low=1, high=600)
    video = reader.text("video", default="", limit=500) or None
    resources = tuple(
        _resource(folder, item, f"{where}, resource {n}")
        for n, item in enumerate(reader.items("resources"), 1)
    )
    names = [resource.filename for resource in resources]
    # An update matches resources by file name: a second would be stored anew every import.
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:
        raise CourseFileError(f"{where}: resources/{twice} is listed twice")
    reader.done()
    if video:
        try:
            video_embed_url(video)
        except VideoURLError as exc:
            raise CourseFileError(f"{where}: {exc}") from None
    body = file_text(content, where, "the lesson has no text")
    transcript = _transcript(folder, name)
    return LessonSpec(title, minutes, body, video, resources, transcript, name)


def _resource(folder: Path, item: Any, where: str) -> ResourceSpec:
    reader = Fields(_mapping(item, where), where)
    title = reader.text("title", limit=200)
    name = reader.text("file", limit=200)
    reader.done()
    if not _PLAIN_NAME.match(name):
        raise CourseFileError(f"{where}: {name!r} must be a file name in resources/")
    path = _inside(folder, f"resources/{name}")
    if not path.is_file():
        raise CourseFileError(f"{where}: resources/{name} does not exist")
    if path.stat().st_size > MAX_RESOURCE_BYTES:
        raise CourseFileError(f"{where}: resources/{name} is larger than 20 MB")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    return ResourceSpec(title, name, path.read_bytes(), content_type)


def _quiz(path: Path) -> QuizSpec:
    data = _mapping(_load_yaml(path), QUIZ_FILE)
    reader = Fields(data, QUIZ_FILE)
    # Left out, an admin's edit must survive the next import. Not `questions_per_attempt`:
    # leaving it out is how a file asks for every question.
    unsaid = frozenset(key for key in _QUIZ_SETTINGS if data.get(key) is None)
    title = reader.text("title", default="Final quiz", limit=200)
    if not title:  # written blank, not left out: the quiz would show no title at all
        raise CourseFileError(f"{QUIZ_FILE}: `title` must be text (or left out for “Final quiz”)")
    instructions = reader.text("instructions", default="", limit=None)
    pass_mark = reader.integer("pass_mark_percent", low=1, high=100, default=70)
    per_day = reader.integer("attempts_per_day", low=1, high=50, default=3)  # as the admin
    drawn = reader.optional_integer("questions_per_attempt", low=1, high=500)
    questions = tuple(
        _question(item, n) for n, item in enumerate(reader.items("questions", required=True), 1)
    )
    reader.done()
    if drawn is not None and drawn > len(questions):
        raise CourseFileError(
            f"{QUIZ_FILE}: questions_per_attempt is {drawn} but the bank has only "
            f"{len(questions)} questions"
        )
    return QuizSpec(title, instructions, pass_mark, per_day, questions, drawn, unsaid)


def _question(item: Any, number: int) -> QuestionSpec:
    where = f"{QUIZ_FILE}, question {number}"
    reader = Fields(_mapping(item, where), where)
    prompt = reader.text("prompt", limit=None)
    explanation = reader.text("explanation", default="", limit=None)
    multiple = reader.flag("multiple")
    objective = reader.text("objective", default="", limit=200)
    choices = []
    for n, choice in enumerate(reader.items("choices", required=True), 1):
        choice_reader = Fields(_mapping(choice, f"{where}, choice {n}"), f"{where}, choice {n}")
        choices.append((choice_reader.text("text", limit=None), choice_reader.flag("correct")))
        choice_reader.done()
    reader.done()
    check_choices(choices, where)
    return QuestionSpec(prompt, tuple(choices), explanation, multiple, objective)


# --- reading values ------------------------------------------------------------------------------


def _first(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _unreadable(exc: OSError) -> str:
    """Say why a named file could not be read (a folder under a file's name, no permission)."""
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot be read ({exc.strerror or type(exc).__name__})"


def _unbuildable(exc: ValueError) -> str:
    """Say which value YAML parsed but Python could not build (it raises a bare ValueError)."""
    # A date like 2027-02-30, or an integer past Python's 4,300-digit conversion limit.
    if "integer string conversion" in str(exc):
        return "a number is more than 4,300 digits long"
    return _first(exc)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
    except FileNotFoundError:
        raise CourseFileError(f"{path.name}: no such file") from None
    except OSError as exc:
        raise CourseFileError(f"{path.name}: {_unreadable(exc)}") from None
    except UnicodeDecodeError:
        raise CourseFileError(f"{path.name}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise CourseFileError(f"{path.name}: not valid YAML ({_first(exc)})") from None
    except ValueError as exc:
        raise CourseFileError(f"{path.name}: not valid YAML ({_unbuildable(exc)})") from None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CourseFileError(f"{where}: expected a mapping of fields")
    return value
