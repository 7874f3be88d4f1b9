"""The member's notices when a reissue reinstating a revoked certificate is revoked undrawn."""

from __future__ import annotations

from tests import support
from tests.certificates.helpers import code_of, completed_student
from tests.certificates.test_revoke_while_reissued import _cli, _reissue_left

REVOKED = "Your certificate has been revoked"


def _subjects(app) -> list[str]:
    return [m["Subject"] for m in support.outbox(app)]


def test_a_reinstatement_never_told_sends_no_second_revocation_notice(app, monkeypatch):
    # Revoked (the member is told), reissued to reinstate it (no email: the "ready" one goes only
    # once it is drawn), then that reissue revoked before it was drawn: the member got a second
    # "has been revoked" for a certificate they were never told stood again.
    s = completed_student(app)
    first = code_of(app, s.user_id)
    assert _cli(app, "revoke", first, "--reason", "Quiz answers shared").exit_code == 0
    assert _subjects(app).count(REVOKED) == 1
    told = len(_subjects(app))
    second = _reissue_left(app, first, "pending", monkeypatch)
    assert len(_subjects(app)) == told  # the reinstating reissue tells the member nothing
    assert _cli(app, "revoke", second, "--reason", "Reinstated in error").exit_code == 0
    assert _subjects(app).count(REVOKED) == 1


def test_a_reinstatement_issued_and_revoked_again_is_told(app):
    # Drawn, the reinstatement was announced ("ready"): revoking it again is news to the member.
    s = completed_student(app)
    first = code_of(app, s.user_id)
    assert _cli(app, "revoke", first, "--reason", "Quiz answers shared").exit_code == 0
    assert _cli(app, "reissue", first, "--reason", "Appeal upheld").exit_code == 0
    second = code_of(app, s.user_id)
    assert _subjects(app).count("Your CE certificate is ready") == 2
    assert _cli(app, "revoke", second, "--reason", "Fraud found").exit_code == 0
    assert _subjects(app).count(REVOKED) == 2
