"""The local S3 of `make airflow` (moto mirrored to SQLite) keeps objects, metadata and etags across restarts."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import boto3
import httpx
from boto3.s3.transfer import TransferConfig

from genesys_sandbox.devstack import _spawn, create_bucket, free_port, stop_processes, wait_http

BUCKET = "genesys-pipelines"


def _start(data_dir: Path) -> tuple[object, str]:
    port = free_port()
    proc = _spawn([sys.executable, "-m", "genesys_sandbox.devstack", "s3", "--port", str(port),
                   "--data-dir", str(data_dir)], data_dir / "s3.log")
    endpoint = f"http://127.0.0.1:{port}"
    wait_http(f"{endpoint}/", proc=proc)
    return proc, endpoint


def _client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_objects_survive_a_restart_with_their_metadata(tmp_path: Path) -> None:
    proc, endpoint = _start(tmp_path)
    try:
        create_bucket(endpoint, BUCKET)
        s3 = _client(endpoint)
        s3.put_object(Bucket=BUCKET, Key="p/date=2026-06-07/report.csv", Body=b"a,b\n1,2\n", ContentType="text/csv",
                      ServerSideEncryption="AES256", Metadata={"sha256": "abc", "rows": "1"})
        s3.put_object(Bucket=BUCKET, Key="p/_staging/gone.bin", Body=b"x")
        s3.copy_object(Bucket=BUCKET, Key="p/date=2026-06-07/copy.csv", ServerSideEncryption="AES256",
                       CopySource={"Bucket": BUCKET, "Key": "p/date=2026-06-07/report.csv"})
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "p/_staging/gone.bin"}]})
        big = bytes(range(256)) * 30_000  # a multipart upload: its etag is not an md5
        s3.upload_fileobj(io.BytesIO(big), BUCKET, "p/big.bin",
                          Config=TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20))
        listed = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
        head = s3.head_object(Bucket=BUCKET, Key="p/date=2026-06-07/report.csv")
        presigned = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "p/big.bin"}, ExpiresIn=60)
        assert httpx.get(presigned, timeout=30).content == big
    finally:
        started = time.monotonic()
        stop_processes([proc])
        assert time.monotonic() - started < 5
    assert "Signature" not in (tmp_path / "s3.log").read_text()  # presigned URLs never reach the access log

    proc, endpoint = _start(tmp_path)
    try:
        s3 = _client(endpoint)
        assert {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]} == listed
        again = s3.head_object(Bucket=BUCKET, Key="p/date=2026-06-07/report.csv")
        for field in ("ContentType", "Metadata", "ServerSideEncryption", "ContentLength", "ETag"):
            assert again[field] == head[field], field
        assert s3.get_object(Bucket=BUCKET, Key="p/big.bin")["Body"].read() == big
        fresh = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "p/date=2026-06-07/copy.csv"},
                                          ExpiresIn=60)
        assert httpx.get(fresh, timeout=30).content == b"a,b\n1,2\n"
    finally:
        stop_processes([proc])
