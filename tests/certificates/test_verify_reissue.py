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
