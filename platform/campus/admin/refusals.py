"""Refusals on admin pages: their messages, and a record's page shown again with the form."""

from __future__ import annotations

from typing import Any

from flask import flash

from campus.wording import refusal


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
