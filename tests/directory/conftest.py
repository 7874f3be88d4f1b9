"""The directory tests' shared fixture: a member signed in to edit their profile."""

from __future__ import annotations

import pytest

from tests import support


@pytest.fixture
def member(app, client):
    with app.app_context():
        user = support.create_user(full_name="Robin Reyes")
        support.sign_in_directly(client, user.id)
        return user.id
