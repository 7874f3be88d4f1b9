"""The program pages say who may take a program in a sentence, as the refusal does."""

from __future__ import annotations

import re

import pytest

from tests.programs.helpers import make_program


def _text(html: str) -> str:
    """The page's text, tags taken out and spaces run together."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("professions", "license_required", "said"),
    [
        (
            ["massage_therapist", "physical_therapist", "athletic_trainer"],
            True,
            "Open to massage therapists, physical therapists and athletic trainers, with an "
            "active license on file.",
        ),
        (["chiropractor"], False, "Open to chiropractors."),
        ([], False, "Open to every profession."),
    ],
)
def test_who_may_take_a_program_reads_as_a_sentence(
    app, client, professions, license_required, said
):
    # It read "Massage therapist, Physical therapist, with an active license on file.",
    # capitals standing mid-sentence, beside a refusal that says "open to chiropractors only".
    with app.app_context():
        program = make_program(professions=professions, license_required=license_required)
        slug = program.slug
    detail = _text(client.get(f"/programs/{slug}").text)
    assert f"Who may take it {said}" in detail
    listing = _text(client.get("/programs/").text)
    assert said.split(", with")[0].removesuffix(".") in listing
