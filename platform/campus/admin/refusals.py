"""Refusals on admin pages: their messages, and a record's page shown again with the form."""

from __future__ import annotations

from typing import Any

from flask import flash


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


def flash_refusal(outcome: str, reason: str) -> None:
    """Flash one refusal as an error."""
    flash(refusal(outcome, reason), "error")


def flash_form_refusals(outcome: str, form: Any) -> None:
    """Flash each error of a refused form after `outcome` ("Nothing changed", ...)."""
    for errors in form.errors.values():
        for error in errors:
            flash_refusal(outcome, str(error))


def details_again(view: Any, model: Any, **forms: Any) -> tuple[str, int]:
    """Render `view`'s details page for `model` with the refused `forms` in place of fresh ones.

    A redirect to the page lost the form, so a refusal could only be flashed at the top: on a
    phone a screen above the field it was about. Rendered again, the field macro shows it
    under the field and puts the focus there.
    """
    page = view.render(
        view.details_template,
        model=model,
        details_columns=view._details_columns,
        get_value=view.get_detail_value,
        return_url=view.get_url(".index_view"),
        **forms,
    )
    return page, 422
