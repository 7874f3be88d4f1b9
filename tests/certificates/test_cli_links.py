"""Commands that write links (QR codes, emails) use PUBLIC_BASE_URL or refuse to run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import support
from tests.certificates.helpers import certificate_of, code_of, completed_student

ROOT = Path(__file__).resolve().parents[2]


def _certificate_count(app) -> int:
    from sqlalchemy import func, select

    from campus.certificates.models import Certificate
    from campus.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Certificate))


@pytest.mark.parametrize(
    "args",
    [
        ["certificates", "reissue", "{code}", "--reason", "Name misspelled"],
        ["certificates", "sweep"],
        ["billing", "sync"],
        ["seed-demo"],
    ],
)
def test_commands_that_write_links_refuse_to_run_without_public_base_url(app, args):
    s = completed_student(app)
    code = code_of(app, s.user_id)
    bare = support.make_app(PUBLIC_BASE_URL=None)
    try:
        before = _certificate_count(app)
        result = bare.test_cli_runner().invoke(args=[a.format(code=code) for a in args])
        assert result.exit_code != 0
        assert "PUBLIC_BASE_URL is not set" in result.output
        assert _certificate_count(app) == before
    finally:
        with bare.app_context():
            from campus.extensions import db

            db.engine.dispose()


def _configured_base_url(env: dict[str, str]) -> str:
    """PUBLIC_BASE_URL as a fresh process reads it from this environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "PORT")}
    code = (
        "import config; "
        "print(config.DevelopmentConfig.PUBLIC_BASE_URL, config.ProductionConfig.PUBLIC_BASE_URL)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_development_links_use_the_address_the_dev_server_listens_on():
    assert _configured_base_url({"PORT": "5114"}) == "http://127.0.0.1:5114 None"
    assert _configured_base_url({}) == "http://127.0.0.1:5000 None"
    assert (
        _configured_base_url({"PUBLIC_BASE_URL": "https://campus.example", "PORT": "5114"})
        == "https://campus.example https://campus.example"
    )


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")
def test_certificate_reissued_from_the_cli_carries_the_configured_host_in_its_qr_code(
    app, tmp_path
):
    import zxingcpp
    from PIL import Image

    s = completed_student(app)
    old = code_of(app, s.user_id)
    configured = support.make_app(PUBLIC_BASE_URL="https://learn.campus.example")
    try:
        result = configured.test_cli_runner().invoke(
            args=["certificates", "reissue", old, "--reason", "Name misspelled"]
        )
        assert result.exit_code == 0, result.output
        with configured.app_context():
            from campus.storage import get_storage

            cert = certificate_of(s.user_id)
            (tmp_path / "c.pdf").write_bytes(get_storage().read(cert.storage_key))
            new = cert.code
    finally:
        with configured.app_context():
            from campus.extensions import db

            db.engine.dispose()
    assert new != old
    subprocess.run(
        ["pdftoppm", "-png", "-r", "110", str(tmp_path / "c.pdf"), str(tmp_path / "page")],
        check=True,
    )
    (png,) = tmp_path.glob("page*.png")
    found = zxingcpp.read_barcodes(Image.open(png))
    assert [b.text for b in found] == [f"https://learn.campus.example/verify/{new}"]
