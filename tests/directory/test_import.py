"""`flask directory import FILE`: profiles from a YAML file, checked like the member's form."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select


def _run(app, path: Path, *extra: str):
    return app.test_cli_runner().invoke(args=["directory", "import", str(path), *extra])


def _users(app) -> int:
    from campus.accounts.models import User
    from campus.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("- email: [unclosed\n", "not valid YAML"),
        ("email: maya@example.com\n", "a list of profiles"),
        ("- maya@example.com\n", "a list of profiles"),
    ],
)
def test_a_malformed_file_is_refused_with_a_clear_message(app, tmp_path, text, complaint):
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1
    assert not isinstance(result.exception, AttributeError | LookupError | ValueError)
    assert complaint in result.output
    assert _users(app) == 0
