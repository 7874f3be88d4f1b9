"""Where certificate PDFs live: a folder under instance/ by default, behind a small interface.

Writes are atomic (a temporary file in the same folder, fsynced, then renamed over the target),
so a reader sees the old file, the new file or no file, never half of one. Another backend
(object storage) only needs the same five methods.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$")


class StorageError(OSError):
    """A file could not be stored or read."""


class Storage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes: ...
    def open(self, key: str) -> BinaryIO: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files in a folder on the local disk (or a shared mount)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key:
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        """Store bytes under a key atomically: readers never see a partial file."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        """Return the bytes stored under a key."""
        return self._path(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        """Open the stored file for reading."""
        return self._path(key).open("rb")

    def exists(self, key: str) -> bool:
        """Tell whether a key holds a file."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file under a key; a key that holds nothing is fine (safe to repeat)."""
        self._path(key).unlink(missing_ok=True)


def get_storage() -> Storage:
    """The app's certificate storage (tests may put another object in app.extensions)."""
    storage = current_app.extensions.get("certificate_storage")
    if storage is None:
        root = current_app.config.get("CERTIFICATE_STORAGE_DIR") or (
            Path(current_app.config["INSTANCE_PATH"]) / "certificates"
        )
        storage = current_app.extensions["certificate_storage"] = LocalStorage(root)
    return storage
