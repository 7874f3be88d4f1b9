"""An admin's refused change says what was not done and why, in one grammatical message."""

from __future__ import annotations

import re

import pytest

from tests import support
from tests.admin import helpers
from tests.certificates.helpers import completed_student

# "Nothing changed: Give a reason": a capital letter after a colon.
_CAPITAL_AFTER_COLON = re.compile(r":\s+[A-Z]")


@pytest.mark.parametrize(
    ("outcome", "reason", "said"),
    [
        # A sentence follows as a sentence of its own.
        (
            "Nothing changed",
            "Give a reason for the revocation.",
            "Nothing changed. Give a reason for the revocation.",
        ),
        (
            "Not resent",
            "CE Broker already accepted this completion; it is not sent again.",
            "Not resent. CE Broker already accepted this completion; it is not sent again.",
        ),
        # A clause follows the colon unchanged (an address is never capitalised), with a stop.
        (
            "The article was not saved",
            "the article body is empty",
            "The article was not saved: the article body is empty.",
        ),
        (
            "Nothing changed",
            "pat@example.org is already disabled.",
            "Nothing changed: pat@example.org is already disabled.",
        ),
    ],
)
def test_a_refusal_joins_what_was_not_done_to_why(outcome, reason, said):
    from campus.wording import refusal

    assert refusal(outcome, reason) == said
    assert not _CAPITAL_AFTER_COLON.search(said)


def _refusals(response) -> list[str]:
    return [m for m in helpers.flashes(response) if m.startswith(("Nothing", "The comp"))]


def test_a_revocation_without_a_reason_is_refused_in_one_sentence_after_another(app, client):
    student = completed_student(app, "refusal-words")
    with app.app_context():
        from tests.certificates.helpers import certificate_of

        cert_id = certificate_of(student.user_id).id
    helpers.sign_in_admin(app, client)
    empty = helpers.post(client, f"/admin/certificates/{cert_id}/revoke", {"revoke-reason": ""})
    assert _refusals(empty) == ["Nothing changed. Give a reason for the revocation."]


def test_a_comp_refused_for_its_days_says_so_in_sentences(app, client):
    with app.app_context():
        member_id = support.create_user(email="comp-words@example.com").id
    helpers.sign_in_admin(app, client)
    refused = helpers.post(
        client,
        f"/admin/members/{member_id}/comp",
        {"days": "0", "reason": "Thanks"},
        follow_redirects=True,
    )
    assert _refusals(refused) == [
        "The comp membership was not granted. Days must be between 1 and 3660."
    ]
