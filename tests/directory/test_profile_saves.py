"""Saving a profile: a photo is published as pixels only, and saves are limited per member."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

from tests.directory.helpers import save_form


def test_a_photo_is_published_without_what_the_camera_or_an_editor_wrote_in_it(app, client, member):
    """The position, the device and any text written in the file stay with the member."""
    from campus.directory.services import profile_of
    from campus.storage import get_storage

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # the device
    exif[0x8825] = {1: "N", 2: (40.0, 44.0, 54.36), 3: "W", 4: (73.0, 59.0, 8.36)}  # GPS
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description GPSLatitude="40,44N"/>'
    upload = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 80, 40)).save(
        upload,
        format="JPEG",
        exif=exif.tobytes(),
        xmp=xmp + b"</x:xmpmeta>",
        comment=b"Robin at home, 12 Elm St",
    )
    upload.seek(0)
    assert save_form(client, photo=(upload, "me.jpg")).status_code == 302
    with app.app_context():
        stored = get_storage().read(profile_of(member).photo_key)
    photo = Image.open(io.BytesIO(stored))
    assert dict(photo.getexif()) == {}
    assert "comment" not in photo.info and "xmp" not in photo.info
    for trace in (b"PhoneMaker", b"GPSLatitude", b"12 Elm St"):
        assert trace not in stored, trace
    # A PNG's text chunk named "comment" was written as the JPEG's comment, and one longer
    # than a JPEG comment holds (compressed to a few hundred bytes) answered 500.
    for text in ("Robin at home, 12 Elm St", "x" * 70_000):
        chunks = PngImagePlugin.PngInfo()
        chunks.add_text("comment", text, zip=True)
        upload = io.BytesIO()
        Image.new("RGB", (64, 64), (200, 80, 40)).save(upload, format="PNG", pnginfo=chunks)
        upload.seek(0)
        assert save_form(client, photo=(upload, "me.png")).status_code == 302
        with app.app_context():
            stored = get_storage().read(profile_of(member).photo_key)
        assert "comment" not in Image.open(io.BytesIO(stored)).info
        assert b"12 Elm St" not in stored


def test_saving_a_profile_is_limited_per_member_and_a_refused_save_changes_nothing(
    app, client, member
):
    from campus.directory.services import profile_of

    app.config["PROFILE_SAVE_RATE_LIMIT"] = "2 per hour"
    statuses = [save_form(client, practice_name=f"Clinic {n}").status_code for n in range(3)]
    assert statuses == [302, 302, 429]
    with app.app_context():
        assert profile_of(member).practice_name == "Clinic 1"
    assert client.get("/directory/me").status_code == 200  # reading the page is not limited
