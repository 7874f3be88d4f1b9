"""Account commands: seal the stored TOTP secrets with the current key."""

from __future__ import annotations

import click

from campus.accounts import bp, sealing
from campus.extensions import db


@bp.cli.command("reseal-totp")
def reseal_totp_command() -> None:
    """Seal every stored TOTP secret with TOTP_ENCRYPTION_KEY (after changing the key)."""
    resealed, unreadable = sealing.reseal_all()
    db.session.commit()
    click.echo(f"{resealed} TOTP secret(s) sealed with the current key")
    if unreadable:
        click.echo(
            f"{unreadable} secret(s) open with none of the configured keys: add the key that "
            "sealed them to TOTP_ENCRYPTION_KEY_FALLBACKS, or have those members set up "
            "their authenticator again",
            err=True,
        )
        raise SystemExit(1)
