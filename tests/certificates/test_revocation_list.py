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


def test_a_reinstated_certificate_leaves_its_list_and_the_codes_it_replaced_stay_revoked(
    app, client
):
    s = completed_student(app)
    first = code_of(app, s.user_id)
    _cli(app, "reissue", first, "--reason", "Name corrected")
    with app.app_context():
        second = certificate_of(s.user_id).code
    assert client.get(f"/verify/{first}.json").get_json()["status"] == "replaced"
    _cli(app, "revoke", second, "--reason", "Refunded")
    # A token saved under either code was that certificate: both say revoked (the first as
    # replaced; the revocation's own reason is never listed, it can be private).
    for code in (first, second):
        (entry,) = client.get(f"/verify/{code}/revocations.json").get_json()["revokedCredentials"]
        signed_id = app.config["PUBLIC_BASE_URL"] + f"/verify/{code}"
        assert (entry["id"], entry["revoked"]) == (signed_id, True)
        assert "Refunded" not in entry.get("revocationReason", "")
    _cli(app, "reissue", second, "--reason", "Reinstated after review")
    with app.app_context():
        third = certificate_of(s.user_id)
        assert third.status == "issued"
    assert (
        client.get(f"/verify/{third.code}/revocations.json").get_json()["revokedCredentials"] == []
    )
    # The codes it replaced are not valid again: their credentials print what was corrected.
    for code in (first, second):
        (entry,) = client.get(f"/verify/{code}/revocations.json").get_json()["revokedCredentials"]
        assert entry["id"].endswith(f"/verify/{code}") and entry["revoked"] is True
        assert third.code in entry["revocationReason"]


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


def _reissue_left(app, code: str, status: str, monkeypatch) -> str:
    """Reissue a certificate whose new PDF is not drawn yet (left `status`); its new code."""
    from campus.certificates import actions
    from campus.extensions import db

    with app.app_context():
        with monkeypatch.context() as patch:
            patch.setattr(actions, "enqueue_after_commit", lambda *args, **kwargs: None)
            certificate = actions.reissue(code, "Name misspelled", actor=None)
        certificate.status = status
        db.session.commit()
        return certificate.code


def test_a_replaced_codes_saved_credential_reads_revoked_once_the_new_one_is_issued(
    app, client, monkeypatch
):
    # A verifier holding the old signed credential (the misspelt name) offline reads the list
    # it names: once the corrected certificate exists, that credential is no longer valid.
    from campus.certificates import services
    from campus.extensions import db

    s = completed_student(app, full_name="Jordan Smtih")
    old = code_of(app, s.user_id)
    token = client.get(f"/verify/{old}.json").get_json()["vc_jwt"]
    claims = _verified_claims(client, token)
    list_path = "/" + claims["vc"]["credentialStatus"]["id"].split("/", 3)[3]
    new = _reissue_left(app, old, "pending", monkeypatch)
    # While the new one is drawn the completion stands (transcripts still print the old code,
    # whose page says the new one is being prepared): the old credential is still the one.
    assert client.get(list_path).get_json()["revokedCredentials"] == []
    with app.app_context():
        certificate = certificate_of(s.user_id)
        assert services.issue(certificate.id)
        db.session.commit()
    body = client.get(list_path).get_json()
    (entry,) = body["revokedCredentials"]
    assert entry["id"] == claims["jti"] and entry["revoked"] is True
    # Why, without the admin's words (they can be private): replaced, and by which code, as the
    # old code's own page says.
    assert "replaced" in entry["revocationReason"].lower() and new in entry["revocationReason"]
    assert "misspelled" not in client.get(list_path).get_data(as_text=True)
    assert client.get(f"/verify/{new}/revocations.json").get_json()["revokedCredentials"] == []


def test_a_code_whose_replacement_never_issued_stays_valid_while_another_is_drawn(
    app, client, monkeypatch
):
    # First reissue failed for good and was reissued again: no corrected credential exists
    # yet, so the first one is still the holder's only signed credential.
    s = completed_student(app)
    first = code_of(app, s.user_id)
    second = _reissue_left(app, first, "failed", monkeypatch)
    third = _reissue_left(app, second, "pending", monkeypatch)
    for code in (first, second):
        body = client.get(f"/verify/{code}/revocations.json").get_json()
        assert body["revokedCredentials"] == [], code
    assert client.get(f"/verify/{third}/revocations.json").status_code == 404


def test_an_older_code_stays_revoked_while_a_later_reissue_is_drawn(app, client, monkeypatch):
    # First replaced by a second that was issued; a third reissue is being drawn: the first
    # stays revoked (its replacement existed), the second is the credential that stands.
    s = completed_student(app)
    first = code_of(app, s.user_id)
    _cli(app, "reissue", first, "--reason", "Name misspelled")
    second = code_of(app, s.user_id)
    third = _reissue_left(app, second, "pending", monkeypatch)
    (entry,) = client.get(f"/verify/{first}/revocations.json").get_json()["revokedCredentials"]
    assert third in entry["revocationReason"]  # as the first code's page names the code to come
    assert client.get(f"/verify/{second}/revocations.json").get_json()["revokedCredentials"] == []
