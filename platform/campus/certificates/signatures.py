"""The signature image a certificate prints, kept by its content so a later scan never replaces it.

`CERTIFICATE_SIGNATURE_IMAGE` names a PNG on disk. At completion its bytes are copied into the
storage under their SHA-256 (`certificates/signatures/<sha256>.png`) and that key is frozen in
the certificate's data; a re-render or reissue reads the image back by the key. A stored
signature is never replaced or deleted: another image has another key. None frozen means the
shipped drawn signature (signature.json).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import current_app

from campus.storage import get_storage

FIELD = "signature_image"


def frozen_key() -> str | None:
    """Keep the configured signature image in the storage; return its key (None: drawn)."""
    path = current_app.config.get("CERTIFICATE_SIGNATURE_IMAGE")
    if not path:
        return None
    body = Path(path).read_bytes()
    key = f"certificates/signatures/{hashlib.sha256(body).hexdigest()}.png"
    storage = get_storage()
    if not storage.exists(key):  # same bytes, same key: every certificate shares one copy
        storage.save(key, body, "image/png")
    return key


@cache
def _stored(key: str) -> bytes:
    # A key names its content, so the bytes read once stay right for the process's life.
    return get_storage().read(key)


def printed(data: dict) -> str | bytes | None:
    """The signature a certificate prints: its frozen image's bytes, a path, or None (drawn)."""
    if FIELD not in data:
        # Frozen before the image was kept: what it printed then is unknown, so today's.
        return current_app.config.get("CERTIFICATE_SIGNATURE_IMAGE")
    key = data[FIELD]
    return _stored(key) if key else None
