"""accounts: TOTP secrets sealed at rest with a key the database does not hold

Revision ID: 0020_totp_sealed
Revises: 0019_directory_bands
Create Date: 2026-12-02 08:10:00

"""
import base64

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


revision = "0020_totp_sealed"
down_revision = "0019_directory_bands"
branch_labels = None
depends_on = None

COLUMNS = ("totp_secret", "totp_pending_secret")
users = sa.table("users", sa.column("id", sa.Integer), *(sa.column(c, sa.String) for c in COLUMNS))


def _sealer() -> MultiFernet:
    # campus.accounts.sealing as of this revision (a migration keeps its own copy): the key
    # material is TOTP_ENCRYPTION_KEY, else SECRET_KEY, stretched by HKDF-SHA256.
    config = current_app.config
    materials = [
        config.get("TOTP_ENCRYPTION_KEY") or config["SECRET_KEY"],
        *(config.get("TOTP_ENCRYPTION_KEY_FALLBACKS") or []),
    ]
    keys = []
    for material in materials:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"campus totp secrets"
        ).derive(material.encode())
        keys.append(Fernet(base64.urlsafe_b64encode(derived)))
    return MultiFernet(keys)


def _rewrite(change) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(users.c.id, *(users.c[c] for c in COLUMNS)).where(
            sa.or_(*(users.c[c].is_not(None) for c in COLUMNS))
        )
    ).all()
    for user_id, *values in rows:
        new = {c: change(v) for c, v in zip(COLUMNS, values) if v is not None}
        bind.execute(users.update().where(users.c.id == user_id).values(**new))


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.alter_column(
                name, existing_type=sa.String(length=64), type_=sa.String(length=255)
            )
    fernet = _sealer()
    _rewrite(lambda secret: fernet.encrypt(secret.encode()).decode("ascii"))


def downgrade():
    fernet = _sealer()
    _rewrite(lambda token: fernet.decrypt(token.encode("ascii")).decode())
    with op.batch_alter_table("users", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.alter_column(
                name, existing_type=sa.String(length=255), type_=sa.String(length=64)
            )
