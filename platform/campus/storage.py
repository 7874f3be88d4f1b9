"""Where stored files live: a folder on disk by default, or an S3-compatible bucket.

Every file Campus keeps (certificate PDFs, lesson resources, free downloads, uploads) goes
through `get_storage()` under a key `<feature>/<...>`. Both backends write atomically: the local
one through a temporary file renamed over the target, S3 with one PutObject (a reader sees the
old object, the new object or none, never half of one) carrying the payload's MD5, so an upload
damaged on the way is refused instead of stored. A large upload (a practical video) is saved
from its file, in chunks, never held whole in memory. Downloads stream from the store in chunks
(`send`), after the caller's access check.

With more than one host (web and worker machines), files must be shared: `STORAGE_BACKEND=s3`,
or a local folder on a shared mount (see campus.preflight).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol

from flask import Response, current_app, send_file

log = logging.getLogger(__name__)

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$")
CHUNK_SIZE = 64 * 1024  # bytes read from the store per chunk of a streamed download


class StorageError(OSError):
    """A file could not be stored or read."""


def check_key(key: str) -> str:
    """Return the key if it is a safe relative name (letters, digits, `._-`, slashes)."""
    if not _KEY.match(key) or ".." in key or len(key) > 900:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    def save(self, key: str, data: bytes | IO[bytes], content_type: str | None = None) -> None:
        """Store bytes, or a file from its current position to its end, under a key."""
        ...

    def read(self, key: str) -> bytes: ...
    def open(self, key: str, start: int = 0, stop: int | None = None) -> BinaryIO: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def size(self, key: str) -> int | None: ...
    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]: ...
    def url(self, key: str, *, download_name: str, content_type: str, expires: int) -> str | None:
        """A short-lived signed URL for the file, or None where the backend has none."""
        ...


class LocalStorage:
    """Files in a folder on the local disk (or a shared mount)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, data: bytes | IO[bytes], content_type: str | None = None) -> None:
        """Store bytes (or a file, copied in chunks) under a key atomically."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(data, bytes):
                    handle.write(data)
                else:
                    shutil.copyfileobj(data, handle, CHUNK_SIZE)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        """Return the bytes stored under a key (FileNotFoundError if there are none)."""
        return self._path(key).read_bytes()

    def open(self, key: str, start: int = 0, stop: int | None = None) -> BinaryIO:
        """Open the stored file for reading from byte `start` (FileNotFoundError if none)."""
        # `stop` is a hint for remote stores; the caller reads no further than it needs.
        handle = self._path(key).open("rb")
        if start:
            handle.seek(start)
        return handle

    def exists(self, key: str) -> bool:
        """Tell whether a key holds a file."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file under a key, if there is one."""
        self._path(key).unlink(missing_ok=True)

    def size(self, key: str) -> int | None:
        """The file's size in bytes, or None if there is none."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def url(self, key: str, *, download_name: str, content_type: str, expires: int) -> str | None:
        """A folder has no signed URLs: downloads stream through the app."""
        return None

    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """Each stored file's key under a folder prefix ("a/b/"), and when it was last written."""
        folder = self.root / prefix
        if not folder.is_dir():
            return
        for path in folder.rglob("*"):
            # A save in progress writes a ".tmp-" file first: it is no stored file yet.
            if path.is_file() and not path.name.startswith(".tmp-"):
                stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                yield path.relative_to(self.root).as_posix(), stamp


class _S3Body(io.RawIOBase):
    """A GetObject body as a read-only binary file, closed with the response."""

    def __init__(self, body: Any, length: int | None) -> None:
        self._body = body
        self.length = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Storage:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2 and the like)."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        max_attempts: int = 4,
        timeout: float = 30.0,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            import boto3
            from botocore.config import Config as BotoConfig

            # Credentials come from the standard AWS environment variables, files or roles.
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region or None,
                config=BotoConfig(
                    # Throttling, 5xx answers and dropped connections are retried with backoff.
                    retries={"total_max_attempts": max_attempts, "mode": "standard"},
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    signature_version="s3v4",
                ),
            )
        self.client = client

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _fail(self, action: str, key: str, error: Exception) -> OSError:
        from botocore.exceptions import ClientError

        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                return FileNotFoundError(f"no stored file {key!r}")
        return StorageError(f"could not {action} {key!r} in bucket {self.bucket!r}: {error}")

    def save(self, key: str, data: bytes | IO[bytes], content_type: str | None = None) -> None:
        """Store bytes (or a file, streamed) under a key with one PutObject, checked by MD5."""
        from botocore.exceptions import BotoCoreError, ClientError

        digest = base64.b64encode(_md5(data)).decode()
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._name(key),
                Body=data,
                ContentMD5=digest,
                ContentType=content_type or "application/octet-stream",
            )
        except (BotoCoreError, ClientError) as error:
            raise self._fail("store", key, error) from error

    def read(self, key: str) -> bytes:
        """Return the bytes stored under a key (FileNotFoundError if there are none)."""
        from botocore.exceptions import BotoCoreError

        with self.open(key) as handle:
            try:
                return handle.read()
            except BotoCoreError as error:
                # The body cut short or stalled after the answer began: the store failed.
                raise self._fail("read", key, error) from error

    def open(self, key: str, start: int = 0, stop: int | None = None) -> BinaryIO:
        """Open the object for streaming bytes `start` to `stop` (FileNotFoundError if none)."""
        from botocore.exceptions import BotoCoreError, ClientError

        # A ranged GET: a video seeked to its middle does not download the first half, and a
        # player's short probe (the last few KB, where an MP4 may keep its index) no more.
        ranged = {}
        if start or stop is not None:
            ranged["Range"] = f"bytes={start}-{'' if stop is None else stop - 1}"
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key), **ranged)
        except (BotoCoreError, ClientError) as error:
            raise self._fail("read", key, error) from error
        body = _S3Body(answer["Body"], answer.get("ContentLength"))
        return io.BufferedReader(body, buffer_size=CHUNK_SIZE)

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None if there is none."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except (BotoCoreError, ClientError) as error:
            failure = self._fail("look up", key, error)
            if isinstance(failure, FileNotFoundError):
                return None
            raise failure from error
        return int(answer["ContentLength"])

    def exists(self, key: str) -> bool:
        """Tell whether a key holds an object."""
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        """Remove the object under a key (no error if there is none)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except (BotoCoreError, ClientError) as error:
            raise self._fail("delete", key, error) from error

    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """Each object's key under a folder prefix ("a/b/"), and when it was last written."""
        from botocore.exceptions import BotoCoreError, ClientError

        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"].removeprefix(self.prefix), item["LastModified"]
        except (BotoCoreError, ClientError) as error:
            raise self._fail("list", prefix, error) from error

    def url(self, key: str, *, download_name: str, content_type: str, expires: int) -> str:
        """A signed GET URL valid for `expires` seconds, sending the file as an attachment."""
        disposition = f'attachment; filename="{re.sub(r"[^A-Za-z0-9._-]", "-", download_name)}"'
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self._name(key),
                    "ResponseContentDisposition": disposition,
                    "ResponseContentType": content_type,
                },
                ExpiresIn=expires,
            )
        )


def _md5(data: bytes | IO[bytes]) -> bytes:
    """The MD5 of bytes, or of a file read in chunks and wound back to where it stood."""
    digest = hashlib.md5(usedforsecurity=False)
    if isinstance(data, bytes):
        digest.update(data)
        return digest.digest()
    start = data.tell()
    for chunk in iter(lambda: data.read(CHUNK_SIZE), b""):
        digest.update(chunk)
    data.seek(start)
    return digest.digest()


def build_storage(config: Mapping[str, Any]) -> Storage:
    """Make the storage the settings ask for (STORAGE_BACKEND and its STORAGE_* values)."""
    backend = (config.get("STORAGE_BACKEND") or "local").lower()
    if backend == "s3":
        if not config.get("STORAGE_S3_BUCKET"):
            raise StorageError("STORAGE_BACKEND=s3 needs STORAGE_S3_BUCKET")
        return S3Storage(
            config["STORAGE_S3_BUCKET"],
            prefix=config.get("STORAGE_S3_PREFIX") or "",
            endpoint_url=config.get("STORAGE_S3_ENDPOINT_URL"),
            region=config.get("STORAGE_S3_REGION"),
            max_attempts=int(config.get("STORAGE_S3_MAX_ATTEMPTS") or 4),
        )
    if backend != "local":
        raise StorageError(f"STORAGE_BACKEND={backend!r} is not one of local, s3")
    return LocalStorage(config.get("STORAGE_LOCAL_DIR") or Path(config["INSTANCE_PATH"]))


def get_storage() -> Storage:
    """The app's file storage, made once per app (tests may put another in app.extensions)."""
    storage = current_app.extensions.get("storage")
    if storage is None:
        storage = current_app.extensions["storage"] = build_storage(current_app.config)
    return storage


def delete_after_commit(keys: Iterable[str]) -> None:
    """Delete these stored files once the transaction commits; keep them if it rolls back."""
    from campus.jobs import on_commit

    on_commit(functools.partial(_delete_committed, get_storage(), list(keys)))


def delete_on_rollback(keys: Iterable[str]) -> None:
    """Delete these just-stored files if the transaction does not commit: no row names them."""
    from campus.jobs import on_rollback

    on_rollback(functools.partial(_delete_uncommitted, get_storage(), list(keys)))


def _delete_uncommitted(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            log.exception("could not delete stored file %s after its change rolled back", key)


def _delete_committed(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        # The change is committed: a file that cannot go now is left behind, not an error.
        try:
            storage.delete(key)
        except Exception:
            log.exception("could not delete stored file %s after its rows were deleted", key)


def send(
    key: str,
    *,
    mimetype: str,
    download_name: str,
    as_attachment: bool = True,
    private: bool = True,
) -> Response | None:
    """Stream a stored file in chunks as a download, or None if it is missing.

    Call it only after the access check: the bytes go to whoever made this request.
    """
    try:
        handle = get_storage().open(key)
    except FileNotFoundError:
        return None
    length = getattr(getattr(handle, "raw", None), "length", None)
    if length is None and hasattr(handle, "fileno"):
        try:
            length = os.fstat(handle.fileno()).st_size
        except (OSError, io.UnsupportedOperation):
            length = None
    response = send_file(
        handle,
        mimetype=mimetype,
        as_attachment=as_attachment,
        download_name=download_name,
        max_age=0,
        conditional=False,
    )
    if ";" in mimetype:
        # Parameters given (a text file's charset): as stored, not with Werkzeug's charset added.
        response.content_type = mimetype
    if length is not None:
        response.content_length = length
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response
