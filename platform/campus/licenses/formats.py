"""License number formats, where a board's format is known: read from data/number_formats.yaml."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

FORMATS_FILE = Path(__file__).resolve().parent / "data" / "number_formats.yaml"


@dataclass(frozen=True)
class NumberFormat:
    """A board's license number shape: a pattern, an example and where it comes from."""

    jurisdiction: str
    profession: str
    pattern: re.Pattern[str]
    example: str
    description: str


@cache
def _formats() -> dict[tuple[str, str], NumberFormat]:
    rows = yaml.safe_load(FORMATS_FILE.read_text(encoding="utf-8"))
    found = {}
    for row in rows:
        fmt = NumberFormat(
            jurisdiction=row["jurisdiction"],
            profession=row["profession"],
            # ASCII: by default `\d` matches any script's digits (Arabic-Indic, fullwidth),
            # which no board prints and CE Broker would not match.
            pattern=re.compile(row["pattern"], re.ASCII),
            example=row["example"],
            description=row["description"],
        )
        # The shipped example must pass its own pattern, or the data file is wrong.
        if not fmt.pattern.fullmatch(fmt.example):
            raise ValueError(f"{FORMATS_FILE.name}: example {fmt.example!r} fails its pattern")
        found[(fmt.jurisdiction, fmt.profession)] = fmt
    return found


def number_format(jurisdiction: str, profession: str) -> NumberFormat | None:
    """Return the known number format for a jurisdiction and profession, if there is one."""
    return _formats().get((jurisdiction, profession))


def normalize_number(text: str) -> str:
    """Upper-case a license number, drop the spaces people type inside it ("ma 12345") and
    write every dash as "-".

    Invisible format characters go too (a zero-width space or soft hyphen copied from a board's
    lookup page or a PDF): kept, they would print and be reported as part of the number, which
    then matches neither the board's record nor the same license already on file.
    """
    visible = "".join(_plain_dash(c) for c in (text or "") if unicodedata.category(c) != "Cf")
    return "".join(visible.split()).upper()


def _plain_dash(char: str) -> str:
    """Read any dash (a non-breaking hyphen, an en dash, a minus sign) as the hyphen "-".

    Boards print a hyphen; their lookup pages and PDFs often give another dash that looks the
    same, which no format matches and CE Broker does not hold.
    """
    if char != "-" and (unicodedata.category(char) == "Pd" or char == "\u2212"):
        return "-"
    return char


def foreign_characters(number: str) -> bool:
    """Tell whether a number holds other scripts' digits or compatibility forms (fullwidth, ①)."""
    return any(
        (unicodedata.category(c) == "Nd" and not c.isascii())
        or unicodedata.normalize("NFKC", c) != c
        for c in number
    )
