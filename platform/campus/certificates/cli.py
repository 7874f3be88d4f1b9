"""Operator commands: flask --app wsgi certificates revoke|reissue|sweep|new-key."""

from __future__ import annotations

import json

import click

from campus.certificates import bp
from campus.extensions import db
from campus.urls import builds_links


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


@bp.cli.command("revoke")
@click.argument("code")
@click.option(
    "--reason",
    required=True,
    help="Why: emailed to the holder and shown to them and admins, never to the public.",
)
def revoke_command(code: str, reason: str) -> None:
    """Revoke a certificate by code."""
    from campus.certificates.actions import revoke
    from campus.certificates.services import CertificateError

    try:
        certificate = revoke(code, reason, actor=None)
    except CertificateError as err:
        _fail(err.message)
    db.session.commit()
    click.echo(f"Revoked {certificate.code}: {reason}")


@bp.cli.command("reissue")
@click.argument("code")
@click.option(
    "--reason",
    required=True,
    help="Why: the holder and admins see it on the old code's verification page, not the public.",
)
@builds_links
def reissue_command(code: str, reason: str) -> None:
    """Reissue a certificate under a new code with fresh data; the old code points to it."""
    from campus.certificates.actions import reissue
    from campus.certificates.services import CertificateError

    try:
        old = code.strip().upper()
        certificate = reissue(code, reason, actor=None)
    except CertificateError as err:
        _fail(err.message)
    db.session.commit()
    click.echo(f"Reissued {old} as {certificate.code} (status: {certificate.status}): {reason}")


@bp.cli.command("sweep")
@builds_links
def sweep_command() -> None:
    """Queue every completed enrollment whose certificate is missing, failed or stuck."""
    from campus.certificates.tasks import sweep_certificates

    count = sweep_certificates.apply().get()
    click.echo(f"Queued {count} certificate(s).")


@bp.cli.command("new-key")
def new_key_command() -> None:
    """Print a new Ed25519 private JWK for CERTIFICATE_SIGNING_KEY (keep it secret)."""
    from campus.certificates.signing import generate_jwk

    click.echo(json.dumps(generate_jwk()))
