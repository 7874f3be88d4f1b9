"""How a program describes itself: accredited by a named body, or the provider's own."""

from __future__ import annotations

from flask import current_app

from campus.programs.models import Program


def standing(program: Program) -> str:
    """Say what the program is: accredited by its body, or the provider's certificate program."""
    provider = current_app.config["PROVIDER_NAME"]
    if program.accrediting_body:
        return f"A certification program of {provider}, accredited by {program.accrediting_body}."
    return f"A certificate program of {provider}, not an accredited certification."
