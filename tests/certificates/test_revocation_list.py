"""The revocation list a certificate's credential names: a saved token learns it was revoked."""

from __future__ import annotations

import json

import jwt as pyjwt

from tests.certificates.helpers import certificate_of, code_of, completed_student


def _verified_claims(client, token: str) -> dict:
    """Verify a VC-JWT with the published keys, as a verifier elsewhere does."""
    jwks = client.get("/.well-known/jwks.json").get_json()
    kid = pyjwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    return pyjwt.decode(token, key=pyjwt.PyJWK.from_json(json.dumps(jwk)), algorithms=["EdDSA"])


def _cli(app, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=["certificates", *args])
    assert result.exit_code == 0, result.output


def test_the_signed_credential_names_its_revocation_list_on_this_site(app, client):
    s = completed_student(app)
    code = code_of(app, s.user_id)
    body = client.get(f"/verify/{code}.json").get_json()
    base = app.config["PUBLIC_BASE_URL"]
    expected = {"id": f"{base}/verify/{code}/revocations.json", "type": "1EdTechRevocationList"}
    assert body["credential"]["credentialStatus"] == expected
    # The type is a term of the Open Badges extensions context, which the credential names.
    extensions = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
    assert extensions in body["credential"]["@context"]
    claims = _verified_claims(client, body["vc_jwt"])
    assert claims["vc"]["credentialStatus"] == expected
    assert claims["vc"] == body["credential"]


def test_the_list_names_a_revoked_certificate_and_not_an_issued_one(app, client):
    s = completed_student(app, full_name="Robin Quill")
    code = code_of(app, s.user_id)
    credential = client.get(f"/verify/{code}.json").get_json()["credential"]
    url = f"/verify/{code}/revocations.json"
    issued = client.get(url, headers={"Origin": "https://verifier.example"})
    assert issued.status_code == 200
    assert issued.get_json() == {
        "id": credential["credentialStatus"]["id"],
        "issuer": credential["issuer"]["id"],
        "revokedCredentials": [],
    }
    assert issued.headers["Cache-Control"] == "public, max-age=60"
    assert issued.headers["Access-Control-Allow-Origin"] == "*"
    _cli(app, "revoke", code, "--reason", "Quiz taken by someone else")
    revoked = client.get(url)
    assert revoked.get_json()["revokedCredentials"] == [{"id": credential["id"], "revoked": True}]
    text = revoked.get_data(as_text=True)
    for private in ("Robin", "Quill", s.email, "MT-004512", "4512", "someone else"):
        assert private not in text


def test_a_reinstated_certificate_leaves_the_list_and_a_revoked_one_lists_every_code(app, client):
    s = completed_student(app)
    first = code_of(app, s.user_id)
    _cli(app, "reissue", first, "--reason", "Name corrected")
    with app.app_context():
        second = certificate_of(s.user_id).code
    assert client.get(f"/verify/{first}.json").get_json()["status"] == "replaced"
    _cli(app, "revoke", second, "--reason", "Refunded")
    # A token saved under either code was that certificate: both say revoked.
    for code in (first, second):
        listed = client.get(f"/verify/{code}/revocations.json").get_json()["revokedCredentials"]
        signed_id = app.config["PUBLIC_BASE_URL"] + f"/verify/{code}"
        assert listed == [{"id": signed_id, "revoked": True}]
    _cli(app, "reissue", second, "--reason", "Reinstated after review")
    with app.app_context():
        third = certificate_of(s.user_id)
        assert third.status == "issued"
    for code in (first, second, third.code):
        body = client.get(f"/verify/{code}/revocations.json").get_json()
        assert body["revokedCredentials"] == [], code


def test_an_unknown_or_unissued_code_gets_a_json_404(app, client):
    from campus.extensions import db

    s = completed_student(app)
    with app.app_context():
        certificate = certificate_of(s.user_id)
        certificate.status = "pending"
        db.session.commit()
        pending = certificate.code
    for code in ("CE-ZZZZ-ZZZZ", "not-a-code", pending):
        response = client.get(f"/verify/{code}/revocations.json")
        assert response.status_code == 404, code
        assert response.get_json()["error"]["code"] == "not_found", code


def test_the_list_shares_the_verify_budget_and_answers_json_over_it(app, client):
    app.config["VERIFY_PAGE_RATE_LIMIT"] = "2 per minute"
    s = completed_student(app)
    code = code_of(app, s.user_id)
    assert client.get(f"/verify/{code}.json").status_code == 200
    assert client.get(f"/verify/{code}/revocations.json").status_code == 200
    refused = client.get(f"/verify/{code}/revocations.json")
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
