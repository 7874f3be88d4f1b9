"""After the signing key is replaced, credentials signed with the old one still verify."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest

from campus.preflight import setting_problems
from tests.certificates.helpers import code_of, completed_student


def _verified(jwks: dict, token: str) -> dict:
    kid = pyjwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    key = pyjwt.PyJWK.from_json(json.dumps(jwk))
    return pyjwt.decode(token, key.key, algorithms=["EdDSA"], options={"verify_aud": False})


def test_a_credential_signed_before_a_key_rotation_still_verifies_against_the_jwks(app, client):
    from campus.certificates.signing import generate_jwk

    s = completed_student(app, full_name="Alex Kim")
    code = code_of(app, s.user_id)
    # What the learner saved and a verifier checks later, maybe years on.
    saved = client.get(f"/verify/{code}.json").get_json()["vc_jwt"]
    old_jwks = client.get("/.well-known/jwks.json").get_json()
    # The operator rotates: a new private key, and the keys published so far stay published.
    app.config["CERTIFICATE_SIGNING_KEY"] = json.dumps(generate_jwk())
    app.config["CERTIFICATE_PREVIOUS_KEYS"] = json.dumps(old_jwks)
    app.extensions.pop("certificate_signing_key", None)
    fresh = client.get(f"/verify/{code}.json").get_json()["vc_jwt"]
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert len(jwks["keys"]) == 2 and all("d" not in k for k in jwks["keys"])
    assert _verified(jwks, saved)["sub"] == _verified(jwks, fresh)["sub"]
    assert pyjwt.get_unverified_header(fresh)["kid"] == jwks["keys"][0]["kid"]


@pytest.mark.parametrize(
    "value",
    ["not json", '{"kty": "OKP"}', "[1]", '[{"kty": "OKP", "crv": "X25519", "x": "AAAA"}]'],
)
def test_previous_keys_that_are_not_ed25519_public_keys_are_refused_at_start(value):
    problems = setting_problems({"LOG_FORMAT": "text", "CERTIFICATE_PREVIOUS_KEYS": value})
    assert [p for p in problems if p.startswith("CERTIFICATE_PREVIOUS_KEYS")]
