"""The issuer's Ed25519 key: signs Open Badges credentials (VC-JWT) and is published as a JWKS.

Production reads the private key from CERTIFICATE_SIGNING_KEY (a JWK as JSON, e.g. the output
of `flask --app wsgi certificates new-key`). A rotation keeps the keys used before published
(CERTIFICATE_PREVIOUS_KEYS): a credential a learner saved must verify for as long as it exists.
Elsewhere one key is generated on first use and kept in <instance>/certificate-signing-key.json,
so web and worker processes sign with the same key.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import OKPKey

ALGORITHM = "EdDSA"
EDDSA_WARNING = "EdDSA is deprecated via RFC 9864"
# RFC 9864 prefers the name "Ed25519"; "EdDSA" is what VC-JWT verifiers accept today. The filter
# is set once for the process: warnings.catch_warnings() around each signature swapped the
# process-wide filter list, so threads signing at once let the warning through at random.
warnings.filterwarnings("ignore", message=EDDSA_WARNING, category=SecurityWarning)
_KEY_FILE = "certificate-signing-key.json"


def generate_jwk() -> dict:
    """Make a new Ed25519 private key as a JWK dict."""
    return OKPKey.generate_key("Ed25519").as_dict(private=True)


def _load_or_create(folder: Path) -> dict:
    target = folder / _KEY_FILE
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # A file of this call's own: threads of one process share its pid, and a name made of
        # the pid let one thread unlink the file another was about to link.
        handle, name = tempfile.mkstemp(prefix=f".{_KEY_FILE}.", dir=folder)
        tmp = Path(name)
        with os.fdopen(handle, "w") as out:  # mkstemp makes it 0600 already
            out.write(json.dumps(generate_jwk()))
        try:
            # link() fails if another process won the race: everyone then reads the winner's key.
            os.link(tmp, target)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return json.loads(target.read_text())


def load_key(value: str | dict) -> OKPKey:
    """Parse a private Ed25519 JWK (JSON text or dict); raise ValueError saying what is wrong."""
    try:
        data = json.loads(value) if isinstance(value, str) else value
        key = OKPKey.import_key(data)
    except (ValueError, TypeError, JoseError) as error:
        raise ValueError(f"not an Ed25519 JWK ({error})") from None
    if key.as_dict(private=False).get("crv") != "Ed25519" or not key.is_private:
        raise ValueError("not a private Ed25519 JWK (it needs crv Ed25519 and the private part d)")
    return key


def load_public_keys(value: str | list | dict) -> list[dict]:
    """Parse retired keys (a JWKS or a JSON array of JWKs) into public JWKs with their kid."""
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        raise ValueError("not JSON (give the JWKS published before, or an array of JWKs)") from None
    if isinstance(data, dict) and "keys" in data:
        data = data["keys"]
    if not isinstance(data, list):
        raise ValueError("not a JWKS or a JSON array of Ed25519 JWKs")
    keys = []
    for item in data:
        try:
            key = OKPKey.import_key(item)
        except (ValueError, TypeError, JoseError) as error:
            raise ValueError(f"not all Ed25519 JWKs ({error})") from None
        public = key.as_dict(private=False)  # a private part given by mistake is never published
        if public.get("crv") != "Ed25519":
            raise ValueError("not all Ed25519 JWKs (each needs crv Ed25519)")
        public.update(kid=key.thumbprint(), use="sig", alg=ALGORITHM)
        keys.append(public)
    return keys


def signing_key() -> OKPKey:
    """Return the private signing key (loaded once per app)."""
    cached = current_app.extensions.get("certificate_signing_key")
    if cached is not None:
        return cached
    configured = current_app.config.get("CERTIFICATE_SIGNING_KEY")
    if configured:
        source: str | dict = configured
    elif current_app.config.get("ENV_NAME") == "production":
        raise RuntimeError("CERTIFICATE_SIGNING_KEY must be set in production")
    else:
        source = _load_or_create(Path(current_app.config["INSTANCE_PATH"]))
    try:
        key = load_key(source)
    except ValueError as error:
        raise RuntimeError(f"CERTIFICATE_SIGNING_KEY is {error}") from None
    current_app.extensions["certificate_signing_key"] = key
    return key


def key_id() -> str:
    """The key id (RFC 7638 thumbprint) that names the key in the JWKS and JWT headers."""
    return signing_key().thumbprint()


def jwks() -> dict:
    """The public keys as a JSON Web Key Set: the signing key first, then the retired ones."""
    public = signing_key().as_dict(private=False)
    public.update(kid=key_id(), use="sig", alg=ALGORITHM)
    keys = [public]
    retired = current_app.config.get("CERTIFICATE_PREVIOUS_KEYS")
    for old in load_public_keys(retired) if retired else []:
        if old["kid"] not in {k["kid"] for k in keys}:
            keys.append(old)
    return {"keys": keys}


def sign(claims: dict, typ: str = "JWT") -> str:
    """Sign claims as a compact JWS (JWT) with the issuer key."""
    header = {"alg": ALGORITHM, "kid": key_id(), "typ": typ}
    return jwt.encode(header, claims, signing_key(), algorithms=[ALGORITHM])
