"""A certificate prints the signature image it was issued with, whatever the settings say later."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader

from tests.certificates.helpers import certificate_of, complete_course, student
from tests.learning.helpers import make_course


def _png(path, width: int) -> str:
    Image.new("RGBA", (width, 20), (20, 40, 110, 255)).save(path)
    return str(path)


def _image_widths(body: bytes) -> list[int]:
    return [image.image.size[0] for image in PdfReader(io.BytesIO(body)).pages[0].images]


def _stored_pdf(certificate) -> bytes:
    from campus.storage import get_storage

    return get_storage().read(certificate.storage_key)


def test_a_later_signature_image_does_not_change_an_issued_certificate(app, tmp_path):
    from campus.certificates import actions, services
    from campus.extensions import db

    first = _png(tmp_path / "director.png", 40)
    app.config["CERTIFICATE_SIGNATURE_IMAGE"] = first
    with app.app_context():
        course = make_course("signed-image")
        user = student()
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        assert _image_widths(_stored_pdf(certificate)) == [40]
        # A new director: the setting points at another scan, the old file is gone.
        app.config["CERTIFICATE_SIGNATURE_IMAGE"] = _png(tmp_path / "new-director.png", 60)
        (tmp_path / "director.png").unlink()
        assert _image_widths(services.render(certificate, revoked=True)) == [40]
        actions.reissue(certificate.code, "Name corrected", actor=None)
        db.session.commit()
        reissued = certificate_of(user.id)
        assert reissued.status == "issued"
        assert _image_widths(_stored_pdf(reissued)) == [40]


def test_a_certificate_issued_with_the_drawn_signature_keeps_it(app, tmp_path):
    from campus.certificates import services

    app.config["CERTIFICATE_SIGNATURE_IMAGE"] = None
    with app.app_context():
        course = make_course("signed-drawn")
        user = student()
        complete_course(user.id, course)
        app.config["CERTIFICATE_SIGNATURE_IMAGE"] = _png(tmp_path / "scan.png", 60)
        assert _image_widths(services.render(certificate_of(user.id))) == []


def test_a_certificate_frozen_before_its_signature_was_kept_prints_the_current_one(app, tmp_path):
    from campus.certificates import services

    app.config["CERTIFICATE_SIGNATURE_IMAGE"] = None
    with app.app_context():
        course = make_course("signed-before")
        user = student()
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        certificate.data = {k: v for k, v in certificate.data.items() if k != "signature_image"}
        app.config["CERTIFICATE_SIGNATURE_IMAGE"] = _png(tmp_path / "scan.png", 60)
        assert _image_widths(services.render(certificate)) == [60]
