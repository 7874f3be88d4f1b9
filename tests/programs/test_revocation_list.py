"""The revocation list a program credential's badge names: a saved token learns it was revoked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt as pyjwt
import time_machine
from sqlalchemy import select

from campus.extensions import db
from campus.programs import actions
from campus.programs.models import Credential
from campus.storage import get_storage
from tests.programs.helpers import candidate, ready_program, right_answers

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _certified(app, **user_fields) -> SimpleNamespace:
    """A candidate who passed the exam of a two-year program: the credential and their email."""
    with app.app_context(), time_machine.travel(START, tick=False):
        program, courses = ready_program(validity_months=24, renewal_hours=4)
        user = candidate(courses, when=START - timedelta(days=10))
        for name, value in user_fields.items():
            setattr(user, name, value)
        sitting = actions.start_exam(user, program)
        actions.submit_exam(user, sitting, right_answers(sitting))
        db.session.commit()
        credential = db.session.scalar(select(Credential))
        return SimpleNamespace(
            id=credential.id, code=credential.code, badge_key=credential.badge_key, email=user.email
        )


def _verified_claims(client, token: str) -> dict:
    """Verify a VC-JWT with the published keys, as a verifier elsewhere does."""
    jwks = client.get("/.well-known/jwks.json").get_json()
    kid = pyjwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    return pyjwt.decode(
        token,
        key=pyjwt.PyJWK.from_json(json.dumps(jwk)),
        algorithms=["EdDSA"],
        options={"verify_exp": False, "verify_nbf": False},
    )


def test_the_signed_badge_and_the_stored_one_name_its_revocation_list(app, client):
    credential = _certified(app)
    code = credential.code
    base = app.config["PUBLIC_BASE_URL"]
    expected = {
        "id": f"{base}/programs/verify/{code}/revocations.json",
        "type": "1EdTechRevocationList",
    }
    with time_machine.travel(START + timedelta(days=1), tick=False):
        body = client.get(f"/programs/verify/{code}.json").get_json()
    assert body["credential"]["credentialStatus"] == expected
    assert (
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
        in (body["credential"]["@context"])
    )
    assert _verified_claims(client, body["jwt"])["vc"] == body["credential"]
    with app.app_context():
        stored = get_storage().read(credential.badge_key).decode()
    assert _verified_claims(client, stored)["vc"]["credentialStatus"] == expected


def test_the_list_names_a_revoked_credential_and_not_a_valid_or_expired_one(app, client):
    credential = _certified(app, full_name="Robin Quill")
    url = f"/programs/verify/{credential.code}/revocations.json"
    with time_machine.travel(START + timedelta(days=1), tick=False):
        signed = client.get(f"/programs/verify/{credential.code}.json").get_json()["credential"]
        valid = client.get(url, headers={"Origin": "https://verifier.example"})
    assert signed["credentialSubject"]["identifier"][0]["identityHash"] == "Robin Quill"
    assert valid.status_code == 200
    assert valid.get_json() == {
        "id": signed["credentialStatus"]["id"],
        "issuer": signed["issuer"]["id"],
        "revokedCredentials": [],
    }
    assert valid.headers["Cache-Control"] == "public, max-age=60"
    assert valid.headers["Access-Control-Allow-Origin"] == "*"
    # Expired is not revoked: the badge's own validUntil says that much.
    with time_machine.travel(START + timedelta(days=800), tick=False):
        assert client.get(url).get_json()["revokedCredentials"] == []
    with app.app_context():
        actions.revoke_credential(
            db.session.get(Credential, credential.id), "Exam misconduct", actor=None
        )
        db.session.commit()
    revoked = client.get(url)
    assert revoked.get_json()["revokedCredentials"] == [{"id": signed["id"], "revoked": True}]
    text = revoked.get_data(as_text=True)
    for private in ("Robin", "Quill", "misconduct", credential.email):
        assert private not in text


def test_an_unknown_or_unissued_code_gets_a_json_404(app, client):
    credential = _certified(app)
    with app.app_context():
        row = db.session.get(Credential, credential.id)
        row.status = "pending"
        db.session.commit()
    for code in ("PC-ZZZZ-ZZZZ", "not-a-code", credential.code):
        response = client.get(f"/programs/verify/{code}/revocations.json")
        assert response.status_code == 404, code
        assert response.get_json()["error"]["code"] == "not_found", code
