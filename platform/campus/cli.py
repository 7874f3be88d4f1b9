"""Command-line interface: flask --app wsgi <command>."""

from __future__ import annotations

import secrets

import click
from flask import Flask

from campus.extensions import db


def register_cli(app: Flask) -> None:
    """Add the project's commands to the flask CLI."""

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Add demo content and accounts (safe to run again)."""
        from campus.demo import print_logins, seed_demo

        created = seed_demo()
        db.session.commit()
        for line in created:
            click.echo(f"  {line}")
        click.echo("Demo content is in place." if created else "Demo content was already there.")
        print_logins()

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--password", help="Password for a new account (generated if omitted).")
    @click.option("--name", "full_name", default="Campus Admin", show_default=True)
    def create_admin_command(email: str, password: str | None, full_name: str) -> None:
        """Create an admin account, or make an existing account an admin."""
        from email_validator import EmailNotValidError, validate_email

        from campus.accounts.services import AccountError, create_admin, get_user_by_email

        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as exc:
            raise click.BadParameter(str(exc), param_hint="EMAIL") from None
        existed = get_user_by_email(email) is not None
        generated = password is None and not existed
        password = password or secrets.token_urlsafe(12)
        try:
            user = create_admin(email, password, full_name=full_name)
        except AccountError as exc:
            raise click.BadParameter(str(exc), param_hint="--password") from None
        db.session.commit()
        if existed:
            click.echo(f"{user.email} is now an admin.")
        else:
            click.echo(f"Created admin {user.email}")
            if generated:
                click.echo(f"Password: {password}")
