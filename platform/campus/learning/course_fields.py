"""Take a course file's fields one by one, each checked; what is left over is refused.

Used by `course_files`, which reads the files; the errors name the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from campus.accounts.rules import invisible_mark, shows_something
from campus.learning.actions import plain_answer


class CourseFileError(ValueError):
    """A course folder that cannot be imported; the message names the file and the problem."""


def refuse_nul(text: str, where: str) -> None:
    """Refuse a file's text that holds a NUL (PostgreSQL cannot store one: the import stopped)."""
    if "\x00" in text:
        raise CourseFileError(f"{where}: the file holds a NUL character, which no text has")


def file_text(text: str, where: str, empty: str) -> str:
    """A file's text, trimmed; refuse one that shows nothing (blank, or zero-width characters)."""
    if not shows_something(text):
        raise CourseFileError(f"{where}: {empty}")
    return text.strip() + "\n"


def check_choices(choices: list[tuple[str, bool]], where: str) -> None:
    """Refuse a question's choices as the admin does: fewer than two, none correct, one twice."""
    if len(choices) < 2:
        raise CourseFileError(f"{where}: give at least two choices")
    plain = [plain_answer(text) for text, _correct in choices]
    for n, key in enumerate(plain, 1):
        first = plain.index(key)
        if first != n - 1:  # a learner reads the answers only: could not tell the two apart
            raise CourseFileError(
                f"{where}, choice {n}: the answer “{choices[first][0].strip()}” is given twice: "
                "make each answer different"
            )
    if not any(correct for _text, correct in choices):
        raise CourseFileError(f"{where}: mark at least one choice `correct: true`")


class Fields:
    """Take fields from a mapping one by one, checking each; `done` refuses the leftovers."""

    def __init__(self, data: dict[str, Any], where: str) -> None:
        self.data = dict(data)
        self.where = where

    def _take(self, key: str, default: Any, required: bool) -> Any:
        if key not in self.data or self.data[key] is None:
            self.data.pop(key, None)
            if required:
                raise CourseFileError(f"{self.where}: `{key}` is required")
            return default
        return self.data.pop(key)

    def text(self, key: str, *, default: str | None = None, limit: int | None) -> str:
        value = self._take(key, default, default is None)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise CourseFileError(f"{self.where}: `{key}` must be text")
        if limit is not None and len(value) > limit:
            raise CourseFileError(f"{self.where}: `{key}` is longer than {limit} characters")
        if limit is None:  # Markdown and long text keep their lines (and tabs)
            # A NUL stops the import at a database error on PostgreSQL; the rest garble pages.
            self._plain(key, re.sub(r"[\t\n\r]", "", value))
            return value
        return self._plain(key, value.strip())

    def _plain(self, key: str, value: str) -> str:
        """One line of text as the admin takes it: no control or text-direction characters."""
        # A right-to-left override prints a title or approval number reversed on certificates.
        mark = invisible_mark(value)
        if mark:
            raise CourseFileError(
                f"{self.where}: `{key}` holds an invisible control or text-direction character "
                f"({mark})"
            )
        return value

    def lines(self, key: str) -> list[str]:
        value = self._take(key, [], False)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise CourseFileError(f"{self.where}: `{key}` must be a list of text lines")
        return [self._plain(key, v.strip()) for v in value]

    def items(self, key: str, *, required: bool = False) -> list[Any]:
        value = self._take(key, [], required)
        if not isinstance(value, list) or (required and not value):
            raise CourseFileError(f"{self.where}: `{key}` must be a non-empty list")
        return value

    def choice(self, key: str, allowed: Any, *, default: str) -> str:
        value = self._take(key, default, False)
        # Text first: a list or mapping cannot be looked up in a dict of choices (TypeError).
        if not isinstance(value, str) or value not in allowed:
            raise CourseFileError(f"{self.where}: `{key}` must be one of {', '.join(allowed)}")
        return value

    def optional_choice(self, key: str, allowed: Any) -> str | None:
        """One of `allowed`, or None when the file leaves the field out."""
        if self.data.get(key) is None:
            self.data.pop(key, None)
            return None
        return self.choice(key, allowed, default="")

    def integer(self, key: str, *, low: int, high: int, default: int | None = None) -> int:
        value = self._take(key, default, default is None)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise CourseFileError(f"{self.where}: `{key}` must be a whole number {low}-{high}")
        return value

    def optional_integer(self, key: str, *, low: int, high: int) -> int | None:
        if self.data.get(key) is None:
            self.data.pop(key, None)
            return None
        return self.integer(key, low=low, high=high)

    def hours(self, key: str) -> Decimal:
        value = self._take(key, None, True)
        try:
            hours = Decimal(str(value)) if not isinstance(value, bool) else Decimal("nan")
        except InvalidOperation:
            hours = Decimal("nan")
        # The admin's bounds: past them, the course could not be saved in the admin again.
        if not hours.is_finite() or not Decimal("0.25") <= hours <= Decimal("100"):
            raise CourseFileError(
                f"{self.where}: `{key}` must be a number of hours from 0.25 to 100"
            )
        if hours != hours.quantize(Decimal("0.01")):
            raise CourseFileError(f"{self.where}: `{key}` has more than two decimals")
        return hours

    def date(self, key: str) -> date | None:
        value = self._take(key, None, False)
        if value is None or isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise CourseFileError(f"{self.where}: `{key}` must be a date like 2027-12-31")

    def flag(self, key: str) -> bool:
        value = self._take(key, False, False)
        if not isinstance(value, bool):
            raise CourseFileError(f"{self.where}: `{key}` must be true or false")
        return value

    def done(self) -> None:
        if self.data:
            unknown = ", ".join(sorted(map(str, self.data)))
            raise CourseFileError(f"{self.where}: unknown field(s) {unknown}")


@dataclass(frozen=True)
class ApprovalSpec:
    """A board approval as a course file writes it."""

    board: str
    approval_number: str
    valid_from: date | None
    valid_until: date | None
    # Left out (or null), an existing approval keeps its first day: an admin may have entered it.
    from_said: bool


def read_approval(item: dict[str, Any], where: str) -> ApprovalSpec:
    """Read one approval of a course file: board, number, first and last day."""
    reader = Fields(item, where)
    from_said = item.get("valid_from") is not None
    spec = ApprovalSpec(
        board=reader.text("board", limit=60),
        approval_number=reader.text("approval_number", limit=80),
        valid_from=reader.date("valid_from"),
        valid_until=reader.date("valid_until"),
        from_said=from_said,
    )
    reader.done()
    if spec.valid_from and spec.valid_until and spec.valid_from > spec.valid_until:
        raise CourseFileError(
            f"{where}: `valid_from` {spec.valid_from} is after `valid_until` {spec.valid_until}"
        )
    return spec
