"""Directory commands: import profiles from a YAML file."""

from __future__ import annotations

from pathlib import Path

import click

from campus.directory import bp
from campus.directory.importer import import_profiles
from campus.directory.services import DirectoryError
from campus.extensions import db


@bp.cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create-members", is_flag=True, help="Create missing members (no password).")
def import_command(path: Path, create_members: bool) -> None:
    """Create or update directory profiles from a YAML file."""
    try:
        report = import_profiles(path, actor=None, create_members=create_members)
    except DirectoryError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    for email in report.created:
        click.echo(f"created {email}")
    for email in report.updated:
        click.echo(f"updated {email}")
    for email, problem in report.failed:
        click.echo(f"failed {email}: {problem}", err=True)
    if report.failed:
        raise SystemExit(1)
