"""Content commands: flask --app wsgi content import DIR | leads-csv."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from campus.audit import record
from campus.content import bp
from campus.extensions import db

bp.cli.help = "Articles and downloads."


@bp.cli.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_command(folder: Path) -> None:
    """Import (or update, by slug) the articles in FOLDER's Markdown files."""
    from campus.content.importer import import_directory

    report = import_directory(folder, actor=None)
    if not (report.created or report.updated or report.failed):
        # A mistyped folder would otherwise read as an import that went well.
        raise click.UsageError(f"{folder} holds no .md file.")
    db.session.commit()
    for slug in report.created:
        click.echo(f"created  {slug}")
    for slug in report.updated:
        click.echo(f"updated  {slug}")
    for name, error in report.failed:
        click.echo(f"FAILED   {name}: {error}", err=True)
    click.echo(
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.failed)} failed."
    )
    if report.failed:
        sys.exit(1)


@bp.cli.command("leads-csv")
@click.option("--download", "download_slug", help="Only the leads of this download (its slug).")
def leads_csv_command(download_slug: str | None) -> None:
    """Write the download leads as CSV to standard output."""
    from sqlalchemy import select

    from campus.content.downloads import leads_for_export
    from campus.content.models import Download
    from campus.exports import safe_cell

    # A mistyped slug would otherwise export no one, as if nobody had asked for that download.
    if (
        download_slug
        and db.session.scalar(select(Download.id).filter_by(slug=download_slug)) is None
    ):
        raise click.BadParameter(
            f"no download has the slug {download_slug!r}", param_hint="--download"
        )
    writer = csv.writer(sys.stdout)
    writer.writerow(
        ["download", "name", "email", "consented_at", "requests", "last_requested_at", "consent"]
    )
    leads = leads_for_export(download_slug)
    for lead in leads:
        writer.writerow(
            [
                lead.download.slug,
                safe_cell(lead.name),
                safe_cell(lead.email),
                lead.consented_at.isoformat() if lead.consented_at else "",
                lead.requests,
                lead.last_requested_at.isoformat(),
                lead.consent_text,
            ]
        )
    # Names and addresses left the site: an auditor must be able to see when, and how many.
    record(
        "export",
        object_type="Lead",
        summary=f"cli: exported {len(leads)} download leads as csv"
        + (f" (download {download_slug!r})" if download_slug else ""),
        actor=None,
    )
    db.session.commit()
