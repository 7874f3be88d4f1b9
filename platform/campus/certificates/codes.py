"""Certificate codes: short, unambiguous when read aloud or typed from paper, and unique."""

from __future__ import annotations

import re
import secrets

# No 0/O and no 1/I: a code copied from a printed certificate cannot be misread.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_GROUP = "[2-9A-HJ-NP-Z]{4}"
CODE_PATTERN = re.compile(rf"^CE-{_GROUP}-{_GROUP}$")


def new_code() -> str:
    """Draw a random code such as CE-7K4M-Q2XP (32**8, about 10**12 possibilities)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"CE-{chars[:4]}-{chars[4:]}"


def normalize(text: str | None) -> str | None:
    """Return the code in canonical form, or None when it cannot be a certificate code."""
    if not text or len(text) > 40:
        return None
    candidate = text.strip().upper()
    return candidate if CODE_PATTERN.match(candidate) else None
