"""Profile photos: checked by size and by their bytes, re-encoded, kept in the file storage.

An upload is accepted only if its first bytes say JPEG, PNG or WebP (whatever its name or
declared type claims) and Pillow can decode it; it is then re-encoded as a JPEG of at most
PHOTO_SIZE pixels a side, which drops any metadata (a phone's GPS position, say) and any
payload hidden after the image; a photo tagged as turned is turned upright first.
"""

from __future__ import annotations

import io
import logging
import re
import secrets

from PIL import Image, ImageOps
from sqlalchemy import select

from campus.directory.models import DirectoryProfile
from campus.directory.services import DirectoryError
from campus.extensions import db
from campus.storage import get_storage

MAX_PHOTO_BYTES = 800 * 1024
PHOTO_SIZE = 480
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
_NAME = re.compile(r"^[0-9]{1,10}-[A-Za-z0-9_-]{16,32}\.jpg$")
PREFIX = "directory/photos/"
log = logging.getLogger(__name__)
# Decoding a small file into a huge image would exhaust memory: refuse past this many pixels.
# No photo within MAX_PHOTO_BYTES holds more than a phone camera's 16 megapixels, while a flat
# PNG of 40 million (under 200 KB) took some 650 MB and a second to decode and flatten.
_MAX_PIXELS = 4096 * 4096


def sniff(data: bytes) -> str | None:
    """Name the image format the bytes start with (JPEG, PNG, WEBP), else None."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def normalise(data: bytes) -> bytes:
    """Check an uploaded photo and return it as a square-bounded JPEG, or raise DirectoryError."""
    if not data:
        raise DirectoryError("Choose a photo to upload.", 422, "photo")
    if len(data) > MAX_PHOTO_BYTES:
        raise DirectoryError(
            f"The photo is too large: at most {MAX_PHOTO_BYTES // 1024} KB.", 422, "photo"
        )
    kind = sniff(data)
    if kind is None:
        raise DirectoryError("Upload a JPEG, PNG or WebP photo.", 422, "photo")
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            if image.width * image.height > _MAX_PIXELS:
                raise DirectoryError("That photo has too many pixels.", 422, "photo")
            image.load()
            # A phone saves a portrait photo sideways with an Orientation tag; the re-encoded
            # JPEG carries no tag, so the turn is made in the pixels (in place: no full copy).
            ImageOps.exif_transpose(image, in_place=True)
            picture = _opaque(image)
    except DirectoryError:
        raise
    except Exception as exc:
        # A damaged file fails inside Pillow in many ways besides UnidentifiedImageError and
        # OSError: SyntaxError for a broken PNG chunk, EOFError, struct.error, ValueError, a
        # DecompressionBombError. To the member each one means the same thing.
        log.info("photo refused: %s: %s", type(exc).__name__, exc)
        raise DirectoryError("That file is not a photo we can read.", 422, "photo") from None
    picture.thumbnail((PHOTO_SIZE, PHOTO_SIZE))
    # Pillow writes an image's "comment" into the JPEG it saves, and the upload's text came
    # along in `info` (a JPEG's comment, a PNG's text chunk named so): the member's words to
    # anyone, and one past 64 KB (a few hundred bytes compressed) failed the save with a 500.
    picture.info.clear()
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def _opaque(image: Image.Image) -> Image.Image:
    """The image in RGB, with any transparent part on white (a JPEG has no transparency)."""
    if image.mode.startswith("I"):
        # 16-bit greyscale (a PNG from a scanner or an editor): converted as it is, every shade
        # past 255 of 65535 came out white, so the photo was a white square.
        image = image.convert("I").point(lambda value: value / 257).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent pixels hold any colour, black mostly: without this the background of a
        # cut-out portrait came out black.
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def store(profile_id: int, data: bytes) -> str:
    """Store a normalised photo under a new, unguessable key; return the key."""
    key = f"{PREFIX}{profile_id}-{secrets.token_urlsafe(12)}.jpg"
    get_storage().save(key, data)
    return key


def key_for(name: str) -> str | None:
    """The storage key of a photo's file name from a URL (None for anything malformed)."""
    return PREFIX + name if _NAME.match(name) else None


def file_name(key: str | None) -> str | None:
    """The file name a photo is served under."""
    return key.removeprefix(PREFIX) if key else None


def read(key: str) -> bytes | None:
    """The stored photo's bytes, or None if it is missing."""
    storage = get_storage()
    if not storage.exists(key):
        return None
    return storage.read(key)


def delete_orphans() -> int:
    """Delete the stored photos no profile refers to, past the grace period; count them.

    Left by a save whose commit never came (a process killed at the wrong moment) and by
    photos replaced before a replaced photo was deleted.
    """
    from campus.records.orphans import Kind, delete_unreferenced

    return delete_unreferenced(Kind(PREFIX, _photos_in_use))


def _photos_in_use() -> set[str]:
    """The photo keys the profiles refer to."""
    return set(
        db.session.scalars(
            select(DirectoryProfile.photo_key).where(DirectoryProfile.photo_key.is_not(None))
        )
    )
