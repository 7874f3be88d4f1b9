"""Fixtures of the storage tests: a local S3 server for the whole session, a bucket per test."""

from __future__ import annotations

import pytest

from tests.storage.s3 import CREDENTIALS, LocalS3


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server, started once per test process."""
    server = LocalS3()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server, monkeypatch) -> str:
    """A new empty bucket on the server; boto3 in this process sees only the test credentials."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return s3_server.new_bucket()
