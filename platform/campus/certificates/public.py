"""What the public verification page and credential disclose about a participant's license."""

from __future__ import annotations

SHOWN = 4  # trailing characters of a license number anyone may see


def masked_license(number: str | None) -> str:
    """Keep the last 4 characters of a license number (at most half of it), mask the rest."""
    number = (number or "").strip()
    if not number:
        return ""
    shown = min(SHOWN, len(number) // 2)
    return "•" * (len(number) - shown) + number[len(number) - shown :]


def public_license_line(data: dict) -> str:
    """The license line of the verification page: the masked number and the state."""
    number = masked_license(data.get("license_number"))
    state = (data.get("license_state") or "").strip()
    if number and state:
        return f"License no. ending {number}  ·  {state}"
    if number:
        return f"License no. ending {number}"
    return "License number not provided"
