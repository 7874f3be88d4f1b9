"""Program commands: flask --app wsgi programs import FILE."""

from __future__ import annotations

from pathlib import Path

import click

from campus.extensions import db
from campus.programs import bp

bp.cli.help = "Certification programs."


@bp.cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Import (or update, by slug) the program described in a YAML file."""
    from campus.programs.importer import ProgramFileError, import_file

    try:
        program, outcome = import_file(path)
        db.session.commit()
    except ProgramFileError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{outcome} {program.slug}")
