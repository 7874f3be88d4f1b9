"""The holder's API asked for an old code whose reissue was revoked before it was drawn."""

from __future__ import annotations

from tests import support
from tests.api.test_answers import _problems
from tests.certificates.helpers import code_of, completed_student
from tests.certificates.test_revoke_while_reissued import _cli, _reissue_left

PATH = "/api/v1/certificates/{code}"


def _answer(client, code: str):
    """The API's answer for one of the signed-in holder's codes, checked against the document."""
    response = client.get(f"/api/v1/certificates/{code}")
    document = client.get("/api/v1/openapi.json").get_json()
    assert _problems(document, PATH, "get", response) == []
    return response


def test_an_old_code_whose_reissue_was_revoked_undrawn_answers_revoked(app, client, monkeypatch):
    # It answered 410 "superseded" naming the reissue's code, under which nothing was ever
    # issued; the verify pages read the old code as revoked.
    s = completed_student(app)
    old = code_of(app, s.user_id)
    new = _reissue_left(app, old, "pending", monkeypatch)
    assert _cli(app, "revoke", new, "--reason", "Fraud found").exit_code == 0
    support.login(client, s.email)
    response = _answer(client, old)
    assert response.status_code == 410
    error = response.get_json()["error"]
    assert error["code"] == "revoked" and "superseded_by" not in error
    revoked_at = client.get(f"/verify/{old}.json").get_json()["revoked_at"]
    assert error["revoked_at"] == revoked_at
    assert new not in error["message"] and "Fraud" not in error["message"]
    page = client.get(f"/verify/{old}").get_data(as_text=True)
    assert error["message"] in page.replace(f"Certificate {old} was", "This certificate was")


def test_a_replaced_code_names_a_reissue_revoked_undrawn_only_as_revoked(app, client, monkeypatch):
    # Replaced by an issued second code, then a third reissue revoked before it was drawn: the
    # first code's answer named the third as the code it was "reissued under".
    s = completed_student(app)
    first = code_of(app, s.user_id)
    assert _cli(app, "reissue", first, "--reason", "Name misspelled").exit_code == 0
    second = code_of(app, s.user_id)
    third = _reissue_left(app, second, "pending", monkeypatch)
    assert _cli(app, "revoke", third, "--reason", "Fraud found").exit_code == 0
    support.login(client, s.email)
    for code in (first, second):
        error = _answer(client, code).get_json()["error"]
        assert error["code"] == "revoked" and "superseded_by" not in error and error["revoked_at"]
    error = _answer(client, second).get_json()["error"]
    assert error["revoked_at"] == client.get(f"/verify/{second}.json").get_json()["revoked_at"]
    error = _answer(client, first).get_json()["error"]
    assert (
        error["message"] == f"This certificate was reissued; the current one, {third}, is revoked."
    )
    # Issued again: the old codes point to the new one, as before.
    fourth = _reissue_left(app, third, "issued", monkeypatch)
    error = _answer(client, first).get_json()["error"]
    assert error["code"] == "superseded" and error["superseded_by"] == fourth
