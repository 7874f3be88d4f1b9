"""A local S3 server for the tests (moto's server mode), and settings that point Campus at it."""

from __future__ import annotations

import uuid
from typing import Any

REGION = "us-east-1"
# moto accepts any credentials; real ones must never be picked up from the machine.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "campus-test",
    "AWS_SECRET_ACCESS_KEY": "campus-test-secret",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class LocalS3:
    """moto's S3 server on a free port of this machine, in a thread of the test process."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"

    def client(self) -> Any:
        """A boto3 client of the server, for setting up and looking at buckets."""
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def new_bucket(self) -> str:
        """Create an empty bucket with a name of its own."""
        name = f"campus-test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, prefix: str = "campus") -> dict[str, str]:
        """The STORAGE_* settings (and credentials) of a Campus process using this bucket."""
        return {
            "STORAGE_BACKEND": "s3",
            "STORAGE_S3_BUCKET": bucket,
            "STORAGE_S3_PREFIX": prefix,
            "STORAGE_S3_ENDPOINT_URL": self.endpoint_url,
            "STORAGE_S3_REGION": REGION,
            **CREDENTIALS,
        }

    def keys(self, bucket: str) -> dict[str, bytes]:
        """Every object in a bucket, by key."""
        client = self.client()
        listing = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {
            item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            for item in listing
        }

    def stop(self) -> None:
        self.server.stop()
