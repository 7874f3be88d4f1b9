"""The demo program, a data file in demo_programs/ added with the program importer."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from campus.extensions import db
from campus.programs.importer import import_file, read_program
from campus.programs.models import Program

DEMO_PROGRAMS = Path(__file__).resolve().parent / "demo_programs"


def seed() -> list[str]:
    """Add the demo programs that are missing (matched by slug)."""
    created = []
    for path in sorted(DEMO_PROGRAMS.glob("*.yaml")):
        data = read_program(path)
        if db.session.scalar(select(Program.id).where(Program.slug == data["slug"])) is None:
            program, _ = import_file(path)
            created.append(f"created program {program.title} ({program.slug})")
    return created
