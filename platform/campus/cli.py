"""Command-line interface: flask --app wsgi <command>."""

from __future__ import annotations

import click
from flask import Flask

from campus.extensions import db
from campus.urls import builds_links


def register_cli(app: Flask) -> None:
    """Add the project's commands to the flask CLI."""

    @app.cli.command("seed-demo")
    @builds_links
    def seed_demo_command() -> None:
        """Add demo content and accounts (safe to run again)."""
        from campus.demo import print_logins, seed_demo

        # The demo accounts' passwords are published (README, print_logins): on a live site
        # whoever read them could sign in, as the demo admin too.
        if app.config.get("ENV_NAME") == "production":
            raise click.ClickException(
                "seed-demo does not run in production: its accounts have published passwords. "
                "Try the demo with CAMPUS_ENV=development on a database of its own."
            )

        created = seed_demo()
        db.session.commit()
        for line in created:
            click.echo(f"  {line}")
        click.echo("Demo content is in place." if created else "Demo content was already there.")
        print_logins()

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option(
        "--password",
        prompt="New password",
        hide_input=True,
        confirmation_prompt=True,
        help="The account's new password (asked for when omitted; it replaces any old one).",
    )
    @click.option("--name", "full_name", default="Campus Admin", show_default=True)
    @click.option(
        "--allow-unverified",
        is_flag=True,
        help="Promote an account whose email address was never confirmed.",
    )
    def create_admin_command(
        email: str, password: str, full_name: str, allow_unverified: bool
    ) -> None:
        """Create an admin account, or promote an existing account with a new password."""
        from email_validator import EmailNotValidError, validate_email

        from campus.accounts.services import AccountError, create_admin

        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as exc:
            raise click.BadParameter(str(exc), param_hint="EMAIL") from None
        try:
            user, created = create_admin(
                email, password, full_name=full_name, allow_unverified=allow_unverified
            )
        except AccountError as exc:
            db.session.rollback()
            hints = {"password": "--password", "full_name": "--name", "email": "EMAIL"}
            raise click.BadParameter(str(exc), param_hint=hints.get(exc.field or "")) from None
        db.session.commit()
        if created:
            click.echo(f"Created admin {user.email}")
        else:
            click.echo(
                f"{user.email} is now an admin with the new password; "
                "its other sessions are signed out."
            )

    @app.cli.command("set-role")
    @click.argument("email")
    @click.argument("role")
    def set_role_command(email: str, role: str) -> None:
        """Make an account an assessor or a student (student also retires an admin)."""
        from email_validator import EmailNotValidError, validate_email

        from campus.accounts.roles import ARTICLES, ASSIGNABLE, RoleError, RoleUnchanged, set_role
        from campus.accounts.services import get_user_by_email

        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as exc:
            raise click.BadParameter(str(exc), param_hint="EMAIL") from None
        role = role.strip().lower()
        if role == "admin":
            raise click.BadParameter(
                "an admin is made with create-admin EMAIL, which also sets a new password.",
                param_hint="ROLE",
            )
        if role not in ASSIGNABLE:
            raise click.BadParameter(f"choose one of: {', '.join(ASSIGNABLE)}.", param_hint="ROLE")
        user = get_user_by_email(email)
        if user is None:
            raise click.BadParameter(f"No account has the address {email}.", param_hint="EMAIL")
        try:
            set_role(user, role, actor=None)
        except RoleUnchanged as exc:
            db.session.rollback()
            click.echo(f"{str(exc).removesuffix('.')}; nothing changed.")
            return
        except RoleError as exc:
            db.session.rollback()
            raise click.BadParameter(str(exc), param_hint="EMAIL") from None
        db.session.commit()
        click.echo(f"{user.email} is now {ARTICLES[role]} and is signed out everywhere.")
