"""Staff accounts stay: what they decided about members' records keeps naming them."""

from __future__ import annotations

from campus.extensions import db
from tests import support


def test_an_assessor_cannot_delete_the_account_their_verdicts_name(app, client):
    from campus.accounts.models import User

    with app.app_context():
        assessor = support.create_user(email="assessor@example.com", role="assessor")
        assessor_id = assessor.id
        secret = support.enable_totp(assessor_id)
    support.login_with_code(client, "assessor@example.com", support.totp_code(secret))
    response = support.post_form(
        client,
        "/account/delete",
        {
            "password": support.DEFAULT_PASSWORD,
            "code": support.totp_code(secret, steps=1),
            "confirmation": "DELETE",
        },
    )
    # Their pass or return of a candidate's practical is a record the candidate's credential
    # rests on: deleted, the review and its audit entry would name no one.
    assert response.status_code == 403
    assert "assessor account cannot be deleted" in response.get_data(as_text=True)
    with app.app_context():
        kept = db.session.get(User, assessor_id)
        assert kept is not None and kept.email == "assessor@example.com"


def test_the_refusal_names_the_way_out_and_a_retired_assessor_can_leave(app, client):
    from campus.accounts.models import User

    with app.app_context():
        assessor_id = support.create_user(email="assessor@example.com", role="assessor").id
        secret = support.enable_totp(assessor_id)
    # Each code is taken once: the codes of the last, this and the next step serve in turn.
    support.login_with_code(client, "assessor@example.com", support.totp_code(secret, steps=-1))
    form = {
        "password": support.DEFAULT_PASSWORD,
        "code": support.totp_code(secret),
        "confirmation": "DELETE",
    }
    refused = support.post_form(client, "/account/delete", form)
    assert refused.status_code == 403
    assert "ask an admin to remove the assessor role" in refused.get_data(as_text=True)
    # The operator (or an admin, from the member's page) retires the assessor.
    result = app.test_cli_runner().invoke(args=["set-role", "assessor@example.com", "student"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    support.login_with_code(client, "assessor@example.com", support.totp_code(secret))
    form["code"] = support.totp_code(secret, steps=1)
    response = support.post_form(client, "/account/delete", form)
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.get(User, assessor_id) is None
