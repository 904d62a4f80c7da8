"""Issue 16: XCom values offloaded to the bucket are written with the same server-side encryption as the
outputs (the local S3's bucket gets default SSE-S3, as AWS buckets have; s3fs sends no SSE header)."""

from __future__ import annotations

import boto3
from moto.server import ThreadedMotoServer

from genesys_sandbox.devstack import create_bucket


def test_an_object_written_without_sse_header_is_encrypted_like_the_outputs() -> None:
    import s3fs

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        create_bucket(endpoint, "genesys-xcom-test")
        create_bucket(endpoint, "genesys-xcom-test")  # idempotent (every stack start)
        fs = s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=endpoint)
        with fs.open("genesys-xcom-test/xcom/run/value", "wb") as handle:  # as XComObjectStorageBackend does
            handle.write(b'{"keys": []}')
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        head = client.head_object(Bucket="genesys-xcom-test", Key="xcom/run/value")
        assert head.get("ServerSideEncryption") == "AES256"
    finally:
        server.stop()
