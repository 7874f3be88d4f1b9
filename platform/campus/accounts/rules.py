"""What a new password and a printed name must be: hard to guess, and plain visible text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from zxcvbn import zxcvbn

PASSWORD_MIN = 10
PASSWORD_MAX = 128
# zxcvbn's 0-4 scale; 3 is "safely unguessable" (about 10**8 guesses and up).
PASSWORD_MIN_SCORE = 3
# Words of this site that a guesser tries first, whoever the user is.
_SITE_WORDS = ("campus", "massage", "therapist", "trigger", "point", "membership")

# Bidi embeddings, overrides and isolates, plus the invisible direction marks: they can make a
# certificate show a different name from the one stored.
DIRECTION_MARKS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# Combining marks one letter may carry: Vietnamese typed decomposed needs two, Hebrew a shin's
# dot, dagesh and vowel three. Browsers stack each on the one before, so 30 on a letter rise
# over the six lines above it, across the headings and names around a name on a page.
MAX_MARKS = 4


class RuleError(ValueError):
    """Input that breaks a rule; the message is safe to show the user."""


def password_problem(password: str, context: Iterable[str | None] = ()) -> str | None:
    """Say why a new password is not acceptable, or return None when it is."""
    if len(password) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    result = zxcvbn(password, user_inputs=_context_words(context), max_length=PASSWORD_MAX)
    if result["score"] >= PASSWORD_MIN_SCORE:
        return None
    feedback = result["feedback"]
    if any(match.get("dictionary_name") == "user_inputs" for match in result["sequence"]):
        reason = "It contains your email, your name or the name of this site"
    else:
        reason = feedback["warning"] or "It is built from words or patterns that are easy to guess"
    hint = " ".join(feedback["suggestions"][:1]) or "Try a few unrelated words together."
    return f"This password is too easy to guess. {reason.rstrip('.')}. {hint}"


def _context_words(context: Iterable[str | None]) -> list[str]:
    """Split the user's email and name into the pieces a guesser would try."""
    words: list[str] = list(_SITE_WORDS)
    for value in context:
        if not value:
            continue
        value = value.strip().lower()
        words.extend((value, re.sub(r"[\s@._+-]+", "", value)))
        words.extend(part for part in re.split(r"[\s@._+-]+", value) if len(part) > 2)
    return words


def invisible_mark(text: str) -> str | None:
    """Name the first control or text-direction character in the text ("U+202E"), if any."""
    for char in text:
        if unicodedata.category(char) == "Cc" or DIRECTION_MARKS.match(char):
            return f"U+{ord(char):04X}"
    return None


def plain_text(value: str | None, label: str) -> str:
    """Return the value trimmed and NFC-normalised; refuse control and bidi-override characters."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    mark = invisible_mark(text)
    if mark:
        raise RuleError(
            f"{label} contains an invisible control or text-direction character ({mark}); "
            "type it again as plain text."
        )
    if stacked_marks(text):
        raise RuleError(stacked_marks_message(label))
    return text


def stacked_marks(text: str) -> bool:
    """Tell whether a letter carries more than MAX_MARKS combining marks (joiners between aside)."""
    run = 0
    for char in text:
        category = unicodedata.category(char)
        if category.startswith("M"):
            run += 1
            if run > MAX_MARKS:
                return True
        elif category != "Cf":  # a zero-width joiner between marks does not end the stack
            run = 0
    return False


def stacked_marks_message(label: str) -> str:
    """Say why a text with a tower of marks on one letter is refused."""
    return (
        f"{label} has more than {MAX_MARKS} accents or other marks on one letter, which pages "
        "stack over the text around it; type it again as plain text."
    )


def has_letter(text: str) -> bool:
    """Tell whether a text holds a letter of any script (not only spaces, marks or joiners)."""
    return any(unicodedata.category(char).startswith("L") for char in text)


def says_something(text: str) -> bool:
    """Tell whether a text holds a letter or a digit: zero-width characters, accents or dashes
    alone are not blank, yet read as nothing on a page or in an email."""
    return any(char.isalnum() for char in text)


def shows_something(text: str) -> bool:
    """Tell whether a text holds a character that prints (not only spaces, marks or joiners)."""
    return any(unicodedata.category(char)[0] not in "CMZ" for char in text)
