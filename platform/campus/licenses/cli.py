"""License commands: flask --app wsgi licenses import-rules [FILE] [--replace]."""

from __future__ import annotations

from pathlib import Path

import click

from campus.extensions import db
from campus.licenses import bp

bp.cli.help = "Licenses and renewal rules."


@bp.cli.command("import-rules")
@click.argument(
    "path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--replace", is_flag=True, help="Overwrite rules that exist (admin edits too).")
def import_rules_command(path: Path | None, replace: bool) -> None:
    """Import renewal rules from FILE (default: the shipped renewal_rules.yaml)."""
    from campus.licenses.rules import RULES_FILE, RuleFileError, import_rules, read_rules

    try:
        specs = read_rules(path or RULES_FILE)
    except RuleFileError as exc:
        raise click.ClickException(str(exc)) from None
    report = import_rules(specs, replace=replace)
    db.session.commit()
    for outcome, labels in report.items():
        for label in labels:
            click.echo(f"{outcome:<10} {label}")
    click.echo(
        f"{len(report['created'])} created, {len(report['updated'])} updated, "
        f"{len(report['unchanged'])} unchanged."
    )
