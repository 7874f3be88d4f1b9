"""An admin previews an unpublished program only with the admin's own standing.

As in /admin/: the role, a second factor on the account and a session that passed it. An admin
signed in with the password alone sees what any member sees: no unpublished program.
"""

from __future__ import annotations

import pytest

from tests import support
from tests.programs.helpers import make_program


def _admin(app, client, *, totp: bool = True, second_factor: bool = False) -> None:
    """Sign in an admin on the client; with a second factor passed or the password alone."""
    with app.app_context():
        user_id = support.create_user(role="admin").id
        if totp:
            support.enable_totp(user_id)
        support.sign_in_directly(client, user_id, second_factor=second_factor)


@pytest.fixture
def retired(app) -> str:
    with app.app_context():
        return make_program(slug="retired-program", published=False).slug


@pytest.mark.parametrize("totp", [True, False], ids=["factor-on", "no-factor"])
def test_an_admin_signed_in_with_the_password_alone_finds_no_unpublished_program(
    app, client, retired, totp
):
    _admin(app, client, totp=totp, second_factor=False)
    assert client.get(f"/programs/{retired}").status_code == 404
    assert client.get(f"/programs/{retired}/credential.pdf").status_code == 404


def test_an_admin_past_the_second_factor_previews_an_unpublished_program(app, client, retired):
    _admin(app, client, second_factor=True)
    assert client.get(f"/programs/{retired}").status_code == 200
