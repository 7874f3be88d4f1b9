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
