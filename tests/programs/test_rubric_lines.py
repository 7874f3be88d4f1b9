"""A rubric criterion written twice: two checkboxes for one mark, so it is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from campus.extensions import db
from campus.programs.importer import ProgramFileError, import_file
from campus.programs.models import Program
from tests.admin import helpers
from tests.programs.test_admin import _program_form


@pytest.mark.parametrize("rubric", ["Safe pressure\nDraping\nSafe pressure", "Draping\n Draping "])
def test_the_admin_refuses_a_rubric_criterion_written_twice(app, client, rubric):
    # The assessor saw two boxes; the marks are kept by criterion, so only the last one counted.
    helpers.sign_in_admin(app, client)
    form = _program_form(practical_required="y", rubric=rubric, published="")
    response = helpers.post(client, "/admin/programs/new/", form)
    assert response.status_code == 200
    assert any("twice" in m for m in helpers.flashes(response)), helpers.flashes(response)
    with app.app_context():
        assert db.session.scalar(select(Program)) is None


def test_the_importer_refuses_a_rubric_criterion_written_twice(app, tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "slug: x\ntitle: X\npublished: false\npractical:\n  techniques: [Pin and stretch]\n"
        "  rubric: [Safe pressure, Draping, Safe pressure]\n"
    )
    with app.app_context():
        with pytest.raises(ProgramFileError, match="Safe pressure"):
            import_file(path)
        db.session.rollback()
        assert db.session.scalar(select(Program)) is None
