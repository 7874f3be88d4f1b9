"""The storage contract, run on both backends: a local folder and an S3 bucket (moto's server)."""

from __future__ import annotations

import base64
import hashlib
import io
import urllib.request

import pytest

from campus.storage import LocalStorage, S3Storage, StorageError, build_storage

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 1024  # 256 KiB: more than one streamed chunk


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """The same cases on each backend."""
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("bucket")
    return S3Storage(bucket, prefix="campus", endpoint_url=server.endpoint_url, region="us-east-1")


def test_saved_bytes_read_back_and_a_second_save_replaces_them(store):
    store.save("certificates/CE-AAAA-BBBB.pdf", b"%PDF-1", "application/pdf")
    store.save("certificates/CE-AAAA-BBBB.pdf", PDF, "application/pdf")
    assert store.read("certificates/CE-AAAA-BBBB.pdf") == PDF
    assert store.size("certificates/CE-AAAA-BBBB.pdf") == len(PDF)
    assert store.exists("certificates/CE-AAAA-BBBB.pdf")


def test_a_file_is_saved_from_where_it_stands_without_reading_it_whole(store):
    upload = io.BytesIO(b"headers already read" + PDF)
    upload.seek(20)
    store.save("practicals/7/clip.mp4", upload, "video/mp4")
    assert store.read("practicals/7/clip.mp4") == PDF


def test_open_streams_the_file_in_chunks(store):
    store.save("learning-resources/7/ab-handout.pdf", PDF)
    with store.open("learning-resources/7/ab-handout.pdf") as handle:
        chunks = list(iter(lambda: handle.read(64 * 1024), b""))
    assert len(chunks) == 5 and b"".join(chunks) == PDF


def test_open_can_start_part_way_through_the_file(store):
    store.save("practicals/7/clip.mp4", PDF)
    with store.open("practicals/7/clip.mp4", 70_000) as handle:
        assert handle.read() == PDF[70_000:]
    with store.open("practicals/7/clip.mp4", 70_000, 70_100) as handle:
        assert handle.read(100) == PDF[70_000:70_100]
    with store.open("practicals/7/clip.mp4", 0, 10) as handle:
        assert handle.read(10) == PDF[:10]


def test_s3_asks_only_for_the_bytes_wanted(s3_server, bucket):
    store = S3Storage(bucket, endpoint_url=s3_server.endpoint_url, region="us-east-1")
    store.save("practicals/7/clip.mp4", PDF)
    with store.open("practicals/7/clip.mp4", 70_000, 70_100) as handle:
        assert handle.read() == PDF[70_000:70_100]  # the GET's range ends at stop
    with store.open("practicals/7/clip.mp4", 0, 1) as handle:
        assert handle.read() == PDF[:1]


def test_a_missing_key_is_not_found_everywhere(store):
    assert not store.exists("downloads/nope.pdf")
    assert store.size("downloads/nope.pdf") is None
    with pytest.raises(FileNotFoundError):
        store.read("downloads/nope.pdf")
    with pytest.raises(FileNotFoundError):
        store.open("downloads/nope.pdf")


def test_delete_removes_the_file_and_tolerates_a_missing_one(store):
    store.save("uploads/a.bin", b"x")
    store.delete("uploads/a.bin")
    store.delete("uploads/a.bin")
    assert not store.exists("uploads/a.bin")


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/../b", "", "a//b", "a/.hidden", "é.pdf"])
def test_odd_keys_are_refused_before_anything_is_written(store, bad):
    for call in (lambda: store.save(bad, b"x"), lambda: store.read(bad), lambda: store.exists(bad)):
        with pytest.raises(ValueError):
            call()


def test_the_local_store_writes_atomically_and_leaves_no_temporary_file(tmp_path):
    store = LocalStorage(tmp_path)
    store.save("certificates/CE-AAAA-BBBB.pdf", b"%PDF-1")
    store.save("certificates/CE-AAAA-BBBB.pdf", b"%PDF-2")
    assert [p.name for p in (tmp_path / "certificates").iterdir()] == ["CE-AAAA-BBBB.pdf"]
    assert store.url("certificates/CE-AAAA-BBBB.pdf", download_name="c.pdf",
                     content_type="application/pdf", expires=60) is None  # fmt: skip


def test_s3_objects_live_under_the_prefix(s3_server, bucket):
    store = S3Storage(bucket, prefix="/site-a/", endpoint_url=s3_server.endpoint_url)
    store.save("certificates/CE-AAAA-BBBB.pdf", b"%PDF-1", "application/pdf")
    assert list(s3_server.keys(bucket)) == ["site-a/certificates/CE-AAAA-BBBB.pdf"]
    head = s3_server.client().head_object(Bucket=bucket, Key="site-a/certificates/CE-AAAA-BBBB.pdf")
    assert head["ContentType"] == "application/pdf"


def test_s3_uploads_carry_the_payloads_md5_for_the_store_to_check(s3_server, bucket):
    """S3, MinIO and R2 refuse a PutObject whose body does not match its Content-MD5 (BadDigest);
    moto does not check it, so the test looks at what is sent."""
    store = S3Storage(bucket, endpoint_url=s3_server.endpoint_url)
    sent: list[dict] = []
    store.client.meta.events.register(
        "before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers))
    )
    store.save("certificates/CE-AAAA-BBBB.pdf", PDF)
    store.save("practicals/7/clip.mp4", io.BytesIO(PDF))
    expected = base64.b64encode(hashlib.md5(PDF).digest())
    assert [headers["Content-MD5"] for headers in sent] == [expected, expected]


def test_s3_signed_link_sends_the_file_as_an_attachment_for_a_short_time(s3_server, bucket):
    store = S3Storage(bucket, endpoint_url=s3_server.endpoint_url, region="us-east-1")
    store.save("downloads/guide.pdf", PDF, "application/pdf")
    url = store.url(
        "downloads/guide.pdf", download_name="guide.pdf", content_type="application/pdf", expires=60
    )
    assert "X-Amz-Expires=60" in url and "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.read() == PDF
        assert answer.headers["Content-Disposition"] == 'attachment; filename="guide.pdf"'


def test_s3_outage_raises_a_storage_error_after_the_retries():
    store = S3Storage(
        "campus", endpoint_url="http://127.0.0.1:9", max_attempts=2, timeout=2
    )  # nothing listens on the discard port
    with pytest.raises(StorageError, match="could not store"):
        store.save("certificates/CE-AAAA-BBBB.pdf", b"%PDF")
    with pytest.raises(StorageError):
        store.exists("certificates/CE-AAAA-BBBB.pdf")


def test_s3_download_cut_short_raises_a_storage_error(s3_server, bucket):
    """A connection dropped mid-body is the store failing, as a refused GetObject is."""
    from botocore.response import StreamingBody

    store = S3Storage(bucket, endpoint_url=s3_server.endpoint_url, region="us-east-1")
    store.save("exports/1/a.zip", PDF)

    def cut_short(http_response, parsed, **_kwargs):
        # The headers promised the whole object; the body stops after 1000 bytes.
        parsed["Body"] = StreamingBody(io.BytesIO(PDF[:1000]), len(PDF))

    store.client.meta.events.register("after-call.s3.GetObject", cut_short)
    with pytest.raises(StorageError, match="could not read"):
        store.read("exports/1/a.zip")


def test_settings_choose_the_backend(tmp_path, s3_server, bucket):
    local = build_storage({"STORAGE_BACKEND": "local", "INSTANCE_PATH": tmp_path})
    assert isinstance(local, LocalStorage) and local.root == tmp_path
    elsewhere = build_storage({"STORAGE_LOCAL_DIR": str(tmp_path / "shared"), "INSTANCE_PATH": "x"})
    assert isinstance(elsewhere, LocalStorage) and elsewhere.root == tmp_path / "shared"
    remote = build_storage(s3_server.settings(bucket, prefix="p"))
    assert isinstance(remote, S3Storage) and remote.bucket == bucket and remote.prefix == "p/"
    remote.save("a.txt", b"via settings")
    assert s3_server.keys(bucket) == {"p/a.txt": b"via settings"}
    with pytest.raises(StorageError, match="STORAGE_S3_BUCKET"):
        build_storage({"STORAGE_BACKEND": "s3"})
    with pytest.raises(StorageError, match="not one of"):
        build_storage({"STORAGE_BACKEND": "ftp"})


def test_listing_names_the_files_under_a_prefix_with_when_they_were_stored(store):
    from datetime import UTC, datetime, timedelta

    store.save("directory/photos/1-aaaa.jpg", b"one")
    store.save("directory/photos/2-bbbb.jpg", b"two")
    store.save("directory/photosx/3-cccc.jpg", b"not under the prefix")
    store.save("certificates/CE-AAAA-BBBB.pdf", b"%PDF-1")
    listed = dict(store.listing("directory/photos/"))
    assert sorted(listed) == ["directory/photos/1-aaaa.jpg", "directory/photos/2-bbbb.jpg"]
    now = datetime.now(UTC)
    early, late = now - timedelta(minutes=5), now + timedelta(minutes=1)
    assert all(early < when <= late for when in listed.values())
    assert list(store.listing("nothing/here/")) == []
