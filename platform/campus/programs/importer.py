"""Read a program file (YAML) and create or update the program, its courses and exam bank.

The same importer serves `flask --app wsgi programs import FILE` and the demo content. A file
names its courses by slug; the exam bank is replaced as a whole on update (sittings already
started keep their frozen papers).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from campus.accounts.models import PROFESSIONS
from campus.accounts.rules import invisible_mark
from campus.audit import changed_fields, record, snapshot
from campus.extensions import db
from campus.learning.models import Course
from campus.programs.exam import choices_from
from campus.programs.models import RESERVED_SLUGS, ExamQuestion, Program, ProgramCourse
from campus.programs.progress import completion_gaps, practical_gaps
from campus.yamlfiles import UniqueKeyLoader

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # as the admin's form (admin/catalog.py)
# The fields each part of a file may hold: any other is a misspelling, whose default would
# take its place unsaid (`publishd: false` published the program).
_FIELDS = frozenset({
    "slug", "title", "description", "accrediting_body", "professions", "license_required",
    "elective_hours", "validity_months", "renewal_hours", "exam", "practical", "published",
    "required_courses", "elective_courses", "questions",
})  # fmt: skip
_EXAM_FIELDS = frozenset(
    ["weights", "questions", "time_limit_minutes", "pass_mark", "attempts", "retake_wait_days"]
)
# The exam's settings: field, column, a new program's default, and the admin form's bounds.
_EXAM_SETTINGS = (
    ("questions", "exam_question_count", 20, 1, 500),
    ("time_limit_minutes", "exam_time_limit_minutes", 60, 1, 600),
    ("pass_mark", "exam_pass_mark", 75, 1, 100),
    ("attempts", "exam_attempts_allowed", 3, 1, 50),
    ("retake_wait_days", "exam_retake_wait_days", 7, 0, 365),
)
_PRACTICAL_FIELDS = frozenset({"techniques", "rubric"})
_QUESTION_FIELDS = frozenset({"domain", "prompt", "answers", "explanation"})


class ProgramFileError(ValueError):
    """A program file that cannot be imported; the message names the problem."""


def _mapping(value: Any, name: str) -> dict:
    """Read a section that must be a mapping (absent is empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProgramFileError(f"{name} must be a mapping of settings, not {value!r}")
    return value


def _known(data: dict, fields: frozenset[str], where: str) -> None:
    """Refuse a field the format does not have, naming it."""
    unknown = sorted(map(str, set(data) - fields))
    if unknown:
        raise ProgramFileError(f"{where}unknown field(s) {', '.join(unknown)}")


def _line(text: str, name: str) -> str:
    """One line of text as the admin takes it: no control or text-direction characters."""
    # A right-to-left override prints a name reversed on the credential and the verify page.
    mark = invisible_mark(text)
    if mark:
        raise ProgramFileError(
            f"{name} holds an invisible control or text-direction character ({mark})"
        )
    return text


def _texts(value: Any, name: str) -> list[str]:
    """Read a list of words or lines; a lone string would be read letter by letter."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProgramFileError(f"{name} must be a list (one item a line starting with -)")
    items = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ProgramFileError(f"{name} must list plain text, not {item!r}")
        items.append(_line(str(item).strip(), name))
    return items


def _text(value: Any, name: str) -> str:
    """Read a piece of text (a number reads as its digits); absent is empty."""
    if value is None:
        return ""
    # str() of a list or mapping would be stored and shown to candidates: "['A', 'B']".
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ProgramFileError(f"{name} must be text, not {value!r}")
    return _block(str(value), name)


def _block(text: str, name: str) -> str:
    """Text of several lines as the admin takes it: tabs and line breaks, no other controls."""
    # A NUL stops the import at a database error on PostgreSQL; the rest garble the pages.
    _line(re.sub(r"[\t\n\r]", "", text), name)
    return text


def _hours(value: Any, name: str) -> Decimal:
    try:
        hours = Decimal(str(value if value is not None else 0))
    except InvalidOperation as exc:
        raise ProgramFileError(f"{name} must be a number of hours") from exc
    # NaN first: comparing it with a number raises InvalidOperation, a traceback.
    if hours.is_nan() or hours < 0 or hours > 500:
        raise ProgramFileError(f"{name} must be between 0 and 500")
    # The column keeps two decimals: more would be rounded away without a word.
    if hours != hours.quantize(Decimal("0.01")):
        raise ProgramFileError(f"{name} has more than two decimals")
    return hours


def _whole(value: Any, name: str, low: int, high: int) -> int:
    """Read a whole number within the admin form's bounds, or name what is wrong."""
    # int() would cut 1.5 to 1, read True as 1 and stop the command at a word.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProgramFileError(f"{name} must be a whole number from {low} to {high}")
    return value


def _flag(value: Any, name: str) -> bool:
    """Read true or false; bool() would read the text "false" (quoted) as true."""
    if not isinstance(value, bool):
        raise ProgramFileError(f"{name} must be true or false, not {value!r}")
    return value


def _professions(value: Any) -> list[str]:
    """The professions a program is for, as checked: stripped, each once."""
    # "massage_therapist " would match no member.
    return list(dict.fromkeys(_texts(value, "professions")))


def _bank(value: Any) -> list[ExamQuestion]:
    """The exam's question bank a file lists (absent or empty: none)."""
    if value is not None and not isinstance(value, list):
        raise ProgramFileError("questions must be a list (each item starting with -)")
    return [_question(item, number) for number, item in enumerate(value or [], start=1)]


def _setting(
    program: Program,
    new: bool,
    section: dict,
    key: str,
    default: Any,
    read: Callable[[Any], Any],
    *,
    column: str | None = None,
) -> None:
    """Set one setting as the file writes it; left out, only a new program takes the default."""
    if key in section or new:
        setattr(program, column or key, read(section.get(key, default)))


def _weights(value: Any) -> dict[str, int]:
    """Read the exam's domain weights as the admin's form does: whole numbers from 1 to 100."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProgramFileError("exam weights must be a mapping of domain: weight")
    weights: dict[str, int] = {}
    for domain, weight in value.items():
        # int() would read 0.6 as 0 and 1.5 as 1: the paper would draw other counts than the
        # file's proportions say, or nothing at all. A bool is an int to Python, not a weight.
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
            raise ProgramFileError(
                f"exam weight of {domain!r} must be a whole number from 1 to 100, not {weight!r}"
            )
        name = _line(str(domain).strip()[:80], f"the exam domain {str(domain)[:30]!r}")
        if name in weights:
            # Two spellings of one domain (a trailing space): one weight would be lost.
            raise ProgramFileError(f"exam weight of {name!r} is given twice")
        weights[name] = weight
    return weights


def _course(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise ProgramFileError(f"no course has the slug {slug!r}")
    return course


def _course_slugs(program: Program, written: bool, data: dict, key: str, kind: str) -> list[str]:
    """The slugs of a program's courses of one kind: as the file lists them, else its own."""
    if written:
        return _texts(data.get(key), key)
    return [link.course.slug for link in program.courses if link.kind == kind]


def _question(item: dict, number: int) -> ExamQuestion:
    if isinstance(item, dict):  # first: a misspelt prompt is not a missing one
        _known(item, _QUESTION_FIELDS, f"question {number}: ")
    if not isinstance(item, dict) or not item.get("prompt") or not item.get("domain"):
        raise ProgramFileError(f"question {number} needs a domain and a prompt")
    answers = _texts(item.get("answers"), f"the answers of question {number}")
    try:
        choices = choices_from(answers, "Answer")
    except ValueError as exc:
        raise ProgramFileError(f"question {number}: {exc}") from None
    return ExamQuestion(
        # Drawn by its exact name, as the weights are read: stripped the same way.
        domain=_line(
            _text(item["domain"], f"the domain of question {number}").strip()[:80],
            f"the domain of question {number}",
        ),
        prompt=_text(item["prompt"], f"the prompt of question {number}"),
        explanation=_text(item.get("explanation"), f"the explanation of question {number}"),
        choices=choices,
    )


def read_program(path: Path) -> dict:
    """Load and check a program file."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
    except UnicodeDecodeError:
        raise ProgramFileError(f"{path.name} is not UTF-8 text: save it as UTF-8") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ProgramFileError(f"{path.name}: {exc}") from exc
    except ValueError as exc:
        # YAML read a value Python cannot build: a date like 2027-02-30, or an integer past
        # Python's 4,300-digit conversion limit (whose message points at sys internals).
        why = "a number is too long" if "integer string" in str(exc) else str(exc)
        raise ProgramFileError(f"{path.name}: {why}") from None
    # A blank title (spaces) is none: the admin's form refuses it too.
    if not isinstance(data, dict) or not data.get("slug") or not _given(data.get("title")):
        raise ProgramFileError(f"{path.name}: a program needs at least a slug and a title")
    _known(data, _FIELDS, f"{path.name}: ")
    _check_names(data)
    unknown = [p for p in _texts(data.get("professions"), "professions") if p not in PROFESSIONS]
    if unknown:
        raise ProgramFileError(f"unknown professions: {', '.join(unknown)}")
    return data


def _given(value: Any) -> bool:
    """Whether a required field holds something (text of spaces holds nothing)."""
    return bool(value.strip()) if isinstance(value, str) else bool(value)


def _check_names(data: dict) -> None:
    """Hold the slug and the texts to the admin form's rules, before they reach a query."""
    slug = data["slug"]
    # A list is a database error as a traceback; "verify" or "Hip & Thigh" a page nobody reaches.
    if not isinstance(slug, str) or not _SLUG.match(slug) or slug in RESERVED_SLUGS:
        raise ProgramFileError(
            f"slug {slug!r} must be lower-case words joined by hyphens (and not "
            f"{', '.join(sorted(RESERVED_SLUGS))})"
        )
    for key in ("title", "description", "accrediting_body"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ProgramFileError(f"{key} must be text, not {data[key]!r}")
    for key in ("title", "accrediting_body"):
        _line((data.get(key) or "").strip(), key)
    _block(data.get("description") or "", "description")
    # The columns' sizes: a longer value was cut without a word, or refused by the database.
    for key, limit in (("slug", 120), ("title", 200), ("accrediting_body", 200)):
        if len(data.get(key) or "") > limit:
            raise ProgramFileError(f"{key} is longer than {limit} characters")


def _check_takeable(program: Program) -> None:
    """Refuse what the admin refuses: a practical with nothing to film or mark, and a published
    program no candidate could complete (a draft course, too few elective hours, a short bank)."""
    practical = practical_gaps(program)
    if practical:
        raise ProgramFileError(f"{practical[0]} (practical: rubric and techniques, as lists)")
    gaps = completion_gaps(program) if program.published else []
    if gaps:
        raise ProgramFileError(
            "no candidate could complete this program, so it cannot be published: "
            + "; ".join(gaps)
            + " (set published: false to keep it as a draft)"
        )
    weighed = program.exam_domain_weights or {}
    for number, question in enumerate(program.questions, start=1):
        if question.domain not in weighed:
            # A paper draws by the weights' domains only: this question would never be asked.
            raise ProgramFileError(
                f"question {number} is in the domain {question.domain!r}, which the exam's "
                f"weights do not list ({', '.join(weighed) or 'none'})"
            )


def import_program(data: dict) -> tuple[Program, str]:
    """Create or update (by slug) the program a file describes; return it and what happened."""
    program = db.session.scalar(select(Program).where(Program.slug == data["slug"]))
    outcome = "updated"
    before = _state(program) if program is not None else None
    if program is None:
        program, outcome = Program(slug=str(data["slug"])[:120]), "created"
        db.session.add(program)
    exam = _mapping(data.get("exam"), "exam")
    # `practical: true` used to pass as "required" and then stop the command at a traceback.
    practical = _mapping(data.get("practical") or None, "practical")
    _known(exam, _EXAM_FIELDS, "exam: ")
    _known(practical, _PRACTICAL_FIELDS, "practical: ")
    program.title = str(data["title"])[:200]
    # Left out, an existing program keeps what an admin chose (a longer validity, another
    # exam time): the next import of the same file must not put the defaults back.
    new = before is None
    _setting(program, new, data, "description", "", lambda value: str(value or ""))
    # Any text here makes every page say "accredited by" it: spaces are none, as in the admin.
    _setting(
        program, new, data, "accrediting_body", "", lambda value: (value or "").strip() or None
    )
    _setting(program, new, data, "professions", None, _professions)
    _setting(program, new, data, "license_required", True, partial(_flag, name="license_required"))
    _setting(program, new, data, "elective_hours", None, partial(_hours, name="elective_hours"))
    validity = partial(_whole, name="validity_months", low=1, high=240)
    _setting(program, new, data, "validity_months", 24, validity)
    _setting(program, new, data, "renewal_hours", None, partial(_hours, name="renewal_hours"))
    _setting(program, new, exam, "weights", None, _weights, column="exam_domain_weights")
    # The bounds the admin's form keeps: outside them, a published exam no one could start
    # (no attempts), pass or sit (no time), or a database refusal as a traceback.
    for key, column, default, low, high in _EXAM_SETTINGS:
        read = partial(_whole, name=key, low=low, high=high)
        _setting(program, new, exam, key, default, read, column=column)
    if "practical" in data or new:  # left out, the practical an admin set stays
        program.practical_required = bool(practical)
        program.practical_techniques = "\n".join(
            _texts(practical.get("techniques"), "practical techniques")
        )
        program.rubric = "\n".join(_texts(practical.get("rubric"), "practical rubric"))
    # Left out, an existing program keeps what an admin chose: taking it down in the admin
    # must survive the next import of the same file. A new one is published.
    _setting(program, new, data, "published", True, partial(_flag, name="published"))
    # Left out, the courses an admin linked (and their order) stay; listed, they are replaced.
    # One list in two: a file that writes either says which courses the program has.
    written = new or "required_courses" in data or "elective_courses" in data
    required = _course_slugs(program, written, data, "required_courses", "required")
    electives = _course_slugs(program, written, data, "elective_courses", "elective")
    program.courses.clear()
    db.session.flush()
    listed = required + electives
    twice = next((slug for slug in listed if listed.count(slug) > 1), None)
    if twice is not None:  # the database refuses a second link, as a traceback
        raise ProgramFileError(
            f"{twice!r} is listed twice: a course is either required or an elective"
        )
    for position, slug in enumerate(required):
        program.courses.append(
            ProgramCourse(course=_course(slug), kind="required", position=position)
        )
    for position, slug in enumerate(electives, start=len(program.courses)):
        program.courses.append(
            ProgramCourse(course=_course(slug), kind="elective", position=position)
        )
    # Left out, the bank an admin built (Admin → Exam bank) stays; listed, it is replaced.
    _setting(program, new, data, "questions", None, _bank, column="questions")
    db.session.flush()
    _check_takeable(program)
    # Only operators' commands import (the CLI and seed-demo): no actor, and said so.
    after = _state(program)
    if outcome == "updated":
        # Lowered requirements: whoever now meets them all is issued after the commit.
        from campus.programs.actions import requirements_changed

        requirements_changed(program, before, after)
        after = _state(program)
    changed = ", ".join(changed_fields(before, after)) if before is not None else ""
    record(
        f"program_import_{outcome}",
        program,
        summary=f"cli: {outcome} program {program.slug}" + (f": {changed}" if changed else ""),
        before=before,
        after=after,
        actor=None,
    )
    return program, outcome


def _state(program: Program) -> dict[str, Any]:
    """The program as its import's audit entry keeps it, its exam's question bank too.

    An import replaces the required courses and the questions with new rows: kept without
    their ids, only what a file changed shows as a change (the right answer, a new course).
    """
    state = snapshot(program)
    state["courses"] = [
        {"course_id": row.course_id, "kind": row.kind, "position": row.position}
        for row in program.courses
    ]
    state["questions"] = [
        {
            "domain": question.domain,
            "prompt": question.prompt,
            "explanation": question.explanation,
            "choices": [dict(choice) for choice in question.choices or []],
        }
        for question in program.questions
    ]
    return state


def import_file(path: Path) -> tuple[Program, str]:
    """Import one program file."""
    return import_program(read_program(path))
