"""Messages worded the same way on every page, a member's or an admin's."""

from __future__ import annotations


def refusal(outcome: str, reason: str) -> str:
    """Say what was not done and why: "Nothing changed. Give a reason for the revocation."

    A reason written as a sentence (a form's or a rule's message) follows as a sentence of its
    own; glued on with a colon it put a capital after it ("Nothing changed: Give ..."). A
    reason written as a clause ("the article body is empty", "x@example.com is already
    disabled") follows the colon as it is: its first letter is never changed, since it may
    begin an email address or a code. Either way the message ends with a full stop.
    """
    outcome, reason = outcome.strip().rstrip(".:"), reason.strip()
    if not reason.endswith((".", "!", "?")):
        reason += "."
    return f"{outcome}. {reason}" if reason[:1].isupper() else f"{outcome}: {reason}"
