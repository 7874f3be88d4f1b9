"""Certificate codes: unguessable, unambiguous when read aloud or typed from paper, and unique."""

from __future__ import annotations

import re
import secrets

# No 0/O and no 1/I: a code copied from a printed certificate cannot be misread.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
GROUPS = 4  # of 4 characters: 32**16 = 2**80 codes, so guessing one is hopeless
_GROUP = "[2-9A-HJ-NP-Z]{4}"
# Codes issued before December 2026 have two groups (40 bits); they keep working.
CODE_PATTERN = re.compile(rf"^CE-{_GROUP}-{_GROUP}(?:-{_GROUP}-{_GROUP})?$")


def new_code() -> str:
    """Draw a random code such as CE-7K4M-Q2XP-9HDA-3RTW (80 random bits)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * 4))
    return "CE-" + "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def normalize(text: str | None) -> str | None:
    """Return the code in canonical form, or None when it cannot be a certificate code."""
    if not text or len(text) > 40:
        return None
    candidate = text.strip().upper()
    return candidate if CODE_PATTERN.match(candidate) else None
