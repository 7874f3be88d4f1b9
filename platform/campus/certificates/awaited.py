"""What the public reads of a reissued certificate whose new code is not issued yet."""

from __future__ import annotations

from campus.certificates.models import Certificate


def awaited_message(certificate: Certificate) -> str:
    """The replaced code's note on the new certificate still to come, as its holder reads it."""
    if certificate.given_up:
        # Nothing draws it until the staff do: "being prepared" would promise it soon. Its holder
        # reads "Delayed"; the reason (a drawing that kept failing) stays private.
        return (
            "A corrected certificate was ordered but is delayed and not available yet; "
            f"it will have the code {certificate.code}."
        )
    return f"The new certificate is being prepared; it will have the code {certificate.code}."


def awaited_state(certificate: Certificate) -> str:
    """How a replaced code's list names the current code while it is not issued yet."""
    if certificate.given_up:
        return "is delayed and not available yet"
    return "is being prepared"
