"""Fixtures of the library's tests."""

from __future__ import annotations

import pytest

SLUG = "hip-and-thigh-stretching-guide"


@pytest.fixture
def guide(app) -> str:
    """The demo download with its real PDF; returns its slug."""
    from campus.content.demo import seed
    from campus.extensions import db

    with app.app_context():
        seed()
        db.session.commit()
    return SLUG
