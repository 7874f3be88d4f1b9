"""Course commands: flask --app wsgi learning import DIR."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.exc import IntegrityError

from campus.extensions import db
from campus.learning import bp

bp.cli.help = "CE courses."


@bp.cli.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_command(folder: Path) -> None:
    """Import (or update, by slug) the course in FOLDER, or every course folder inside it."""
    from campus.learning.access import LearningError
    from campus.learning.course_files import CourseFileError, course_folders, read_course
    from campus.learning.importer import ImportReport, import_course

    report = ImportReport()
    folders = course_folders(folder)
    if not folders:
        raise click.UsageError(f"{folder} holds no course.yaml, nor any folder with one.")
    folder_of: dict[str, str] = {}  # slug -> the folder of this import that holds it
    for course_folder in folders:
        warnings: list[str] = []
        try:
            spec = read_course(course_folder)
            slug = spec.slug
            if slug in folder_of:  # the second would overwrite the first's course unsaid
                raise CourseFileError(
                    f"course.yaml: slug {slug!r} is also that of the folder {folder_of[slug]}"
                )
            outcome = import_course(spec, source=course_folder.name, warnings=warnings)
            db.session.commit()  # one transaction per course: a bad one leaves the rest in
        except (CourseFileError, LearningError, IntegrityError) as exc:
            db.session.rollback()
            report.failed.append((course_folder.name, str(exc).splitlines()[0]))
            click.echo(f"FAILED     {course_folder.name}: {report.failed[-1][1]}", err=True)
            continue
        folder_of[slug] = course_folder.name
        report.add(slug, outcome)
        click.echo(f"{outcome:<10} {slug}")
        for warning in warnings:  # went through, but the admin would have been warned too
            report.warnings.append((slug, warning))
            click.echo(f"{'WARNING':<10} {slug}: {warning}", err=True)
    count = len(report.warnings)
    click.echo(
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed"
        + (f", {count} warning{'s' if count != 1 else ''}." if count else ".")
    )
    if report.failed:
        sys.exit(1)
