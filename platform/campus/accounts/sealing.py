"""Secrets sealed at rest: the database holds TOTP secrets encrypted with a key it never holds.

An authenticator's secret has to be readable by the server (it computes the codes), so it
cannot be hashed like a password; it is encrypted instead (Fernet: AES-128-CBC with an
HMAC-SHA256 tag). The key comes from `TOTP_ENCRYPTION_KEY`, or is derived from `SECRET_KEY`
when that is unset, so a copy of the database (a backup, a read-only leak) cannot make codes.
Keys named in `TOTP_ENCRYPTION_KEY_FALLBACKS` still open what they sealed, so a key can be
replaced without locking anyone out; what is written is sealed with the current key.
"""

from __future__ import annotations

import base64
import logging
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

# What an unreadable secret reads as: not base32, so no code ever matches it (the account keeps
# its second factor; it does not silently lose it).
UNREADABLE = "!unreadable"
_INFO = b"campus totp secrets"
_REPORTED: set[str] = set()
_SEALED_COLUMNS = ("totp_secret", "totp_pending_secret")  # of users


def _fernet_key(material: str) -> bytes:
    """A Fernet key from any key material (a Fernet key, a passphrase, SECRET_KEY)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode()
    )
    return base64.urlsafe_b64encode(derived)


def keys_from(config: Any) -> list[str]:
    """The key materials in use, the current one first."""
    current = config.get("TOTP_ENCRYPTION_KEY") or config.get("SECRET_KEY")
    if not current:
        raise RuntimeError("TOTP_ENCRYPTION_KEY or SECRET_KEY is needed to seal TOTP secrets")
    return [current, *(config.get("TOTP_ENCRYPTION_KEY_FALLBACKS") or [])]


def sealer(materials: list[str]) -> MultiFernet:
    """The Fernet set for these key materials (the first one seals)."""
    return MultiFernet([Fernet(_fernet_key(m)) for m in materials])


def _app_sealer() -> MultiFernet:
    materials = keys_from(current_app.config)
    cached = current_app.extensions.get("campus_sealing")
    if cached is None or cached[0] != materials:
        cached = current_app.extensions["campus_sealing"] = (materials, sealer(materials))
    return cached[1]


def seal(value: str) -> str:
    """Encrypt a secret with the current key."""
    return _app_sealer().encrypt(value.encode()).decode("ascii")


def unseal(token: str) -> str:
    """Decrypt a sealed secret (UNREADABLE, logged, if no configured key opens it)."""
    try:
        return _app_sealer().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        # Once per token and process: the same account loads on every request it makes.
        if token not in _REPORTED and len(_REPORTED) < 1000:
            _REPORTED.add(token)
            log.error("a sealed TOTP secret cannot be opened with the configured keys")
        return UNREADABLE


class SealedString(TypeDecorator):
    """A string column stored sealed; Python code reads and writes the plain value.

    Each write seals with a fresh IV, so a query can never compare such a column with a value.
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else unseal(value)


def reseal_all() -> tuple[int, int]:
    """Seal every stored TOTP secret with the current key; return (resealed, unreadable)."""
    from sqlalchemy import CursorResult, column, or_, select, table, update

    from campus.audit import record
    from campus.extensions import db

    # The raw columns, without SealedString: rotation works on the sealed tokens themselves.
    users = table("users", column("id"), *(column(name) for name in _SEALED_COLUMNS))
    sealed = [users.c[name] for name in _SEALED_COLUMNS]
    fernet = _app_sealer()
    resealed = unreadable = changed = 0
    rows = db.session.execute(
        select(users.c.id, *sealed).where(or_(*(c.is_not(None) for c in sealed)))
    ).all()
    for user_id, *tokens in rows:
        values = {}
        for col, token in zip(sealed, tokens, strict=True):
            if token is None:
                continue
            try:
                values[col.name] = fernet.rotate(token.encode("ascii")).decode("ascii")
            except (InvalidToken, UnicodeError, ValueError):
                unreadable += 1
        if values:
            # Only over the tokens just read: a member who set up or turned off the app
            # meanwhile keeps what they did (their row is left for the next run).
            unchanged = [
                col.is_(None) if token is None else col == token
                for col, token in zip(sealed, tokens, strict=True)
            ]
            done = db.session.execute(
                update(users).where(users.c.id == user_id, *unchanged).values(**values)
            )
            if cast(CursorResult, done).rowcount == 1:
                resealed += len(values)
            else:
                changed += 1
    record(
        "totp_secrets_resealed",
        object_type="User",
        # Run only by the operator's `flask accounts reseal-totp`: a command names no one.
        summary=(
            f"cli: {resealed} TOTP secret(s) sealed with the current key; {unreadable} unreadable"
            + (
                f"; {changed} account(s) changed meanwhile, left for the next run"
                if changed
                else ""
            )
        ),
    )
    db.session.flush()
    return resealed, unreadable
