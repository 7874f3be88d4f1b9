"""Credential codes: the certificate alphabet and length, with their own prefix."""

from __future__ import annotations

import re

from campus.certificates import codes as certificate_codes

PATTERN = re.compile(r"^CP(-[2-9A-HJ-NP-Z]{4}){4}$")


def new_code() -> str:
    """Draw a random credential code such as CP-7K4M-Q2XP-9HDA-3RTW (80 random bits)."""
    return "CP" + certificate_codes.new_code()[2:]


def normalize(text: str | None) -> str | None:
    """Return the code in canonical form, or None when it cannot be a credential code."""
    if not text or len(text) > 40:
        return None
    candidate = text.strip().upper()
    return candidate if PATTERN.match(candidate) else None
