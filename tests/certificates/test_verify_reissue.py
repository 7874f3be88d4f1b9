"""The public verification of a certificate while its reissue is being prepared."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.certificates.helpers import certificate_of, code_of, completed_student


def test_a_replaced_codes_json_points_to_the_new_one_only_once_it_is_issued(app, client):
    # A verifier following "current" while the reissue was being prepared got "No certificate
    # has that code" (404): the completion read as gone. The page says it is being prepared
    # and links nowhere yet; the JSON must say the same.
    from campus.extensions import db

    s = completed_student(app)
    old = code_of(app, s.user_id)
    result = app.test_cli_runner().invoke(args=["certificates", "reissue", old, "--reason", "x"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        cert = certificate_of(s.user_id)
        new = cert.code
        cert.status = "failed"  # the worker has not issued it yet, and is retrying
        db.session.commit()
    body = client.get(f"/verify/{old}.json").get_json()
    assert body["status"] == "replaced" and body["current"] is None
    assert body["next_code"] == new and "being prepared" in body["message"]
    with app.app_context():
        certificate_of(s.user_id).status = "issued"
        db.session.commit()
    body = client.get(f"/verify/{old}.json").get_json()
    assert body["current"].endswith(f"/verify/{new}.json") and "next_code" not in body
    assert client.get(urlsplit(body["current"]).path).status_code == 200


def _given_up(app, user_id: int) -> None:
    """Leave the certificate's reissue failed past its cut-off tries: only the staff restart it."""
    from campus.extensions import db

    with app.app_context():
        cert = certificate_of(user_id)
        cert.status = "failed"
        cert.cut_off_tries = app.config["CERTIFICATE_MAX_CUT_OFF_TRIES"] + 1
        # What the sweep records, which is for the staff: no public page may show it.
        cert.last_error = "Drawing it was cut off 5 times (its worker died each time)"
        db.session.commit()
        assert cert.given_up


def _reissue(app, code: str) -> None:
    result = app.test_cli_runner().invoke(args=["certificates", "reissue", code, "--reason", "x"])
    assert result.exit_code == 0, result.output


def test_a_replaced_code_does_not_promise_a_reissue_that_was_given_up(app, client):
    # The reissue failed after its cut-off tries: nothing draws it until the staff step in, and
    # its holder reads "Delayed". The old code's page and JSON said it "is being prepared".
    s = completed_student(app)
    old = code_of(app, s.user_id)
    _reissue(app, old)
    new = code_of(app, s.user_id)
    _given_up(app, s.user_id)
    page = client.get(f"/verify/{old}").get_data(as_text=True)
    assert "being prepared" not in page
    assert "delayed and not available yet" in page and new in page
    assert "cut off" not in page and "worker" not in page  # no private reason
    body = client.get(f"/verify/{old}.json").get_json()
    assert body["status"] == "replaced" and body["current"] is None and body["next_code"] == new
    assert "being prepared" not in body["message"]
    assert "delayed and not available yet" in body["message"]


def test_a_replaced_codes_revocation_reason_does_not_promise_a_reissue_given_up(app, client):
    # First replaced by an issued second, whose own reissue was then given up: the first
    # code's list said the current one "is being prepared".
    s = completed_student(app)
    first = code_of(app, s.user_id)
    _reissue(app, first)
    second = code_of(app, s.user_id)
    _reissue(app, second)
    third = code_of(app, s.user_id)
    _given_up(app, s.user_id)
    (entry,) = client.get(f"/verify/{first}/revocations.json").get_json()["revokedCredentials"]
    reason = entry["revocationReason"]
    assert "being prepared" not in reason
    assert third in reason and "delayed and not available yet" in reason
