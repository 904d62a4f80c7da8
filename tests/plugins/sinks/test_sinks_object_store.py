"""PartitionPublisher against a real local S3 (moto's threaded server on a free loopback port)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from genesys_cloud.sinks import object_store
from genesys_cloud.sinks.object_store import (
    ObjectStoreError,
    PartitionPublisher,
    PresignError,
    partition_is_complete,
    partition_prefix,
)

BUCKET = "genesys-test-outputs"
DAY = (datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("GENESYS_BUCKET", BUCKET)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    if keys:
        client.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys]})


def _keys(client, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def _stage_day(run_id: str, rows: list[dict]) -> PartitionPublisher:
    pub = PartitionPublisher("campaign_stats", *DAY, run_id=run_id)
    data = "\n".join(json.dumps(r, sort_keys=True) for r in rows).encode()
    pub.stage_bytes("part-0000.ndjson", data, "application/x-ndjson", rows=len(rows))
    pub.stage_bytes("summary.csv", b"campaign,attempted\nc1,3\n", "text/csv", rows=1)
    return pub


# -- partition keys (pure) ------------------------------------------------------------------------
def test_utc_day_is_a_date_partition() -> None:
    assert partition_prefix("p", *DAY) == "p/date=2024-05-01/"


def test_local_dst_day_is_one_calendar_day() -> None:
    tz = ZoneInfo("Europe/Berlin")  # 2024-03-31 has 23 hours there
    start, end = datetime(2024, 3, 31, tzinfo=tz), datetime(2024, 4, 1, tzinfo=tz)
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 23 * 3600
    assert partition_prefix("p", start, end) == "p/date=2024-03-31/"


def test_other_windows_are_compact_utc_intervals() -> None:
    tz = ZoneInfo("America/New_York")
    start, end = datetime(2024, 5, 1, 6, tzinfo=tz), datetime(2024, 5, 8, 6, tzinfo=tz)
    prefix = partition_prefix("p", start, end)
    assert prefix == "p/interval=20240501T100000Z_20240508T100000Z/"
    assert not set(prefix) & set(":+ ")
    # A UTC day seen from another zone is not that zone's calendar day.
    assert partition_prefix("p", DAY[0].astimezone(tz), DAY[1].astimezone(tz)).startswith("p/interval=")


def test_naive_or_empty_windows_are_rejected() -> None:
    with pytest.raises(ObjectStoreError, match="timezone-aware"):
        partition_prefix("p", datetime(2024, 5, 1), datetime(2024, 5, 2))
    with pytest.raises(ObjectStoreError, match="empty window"):
        partition_prefix("p", DAY[1], DAY[0])


def test_staging_key_sanitises_run_id_and_rejects_bad_names(s3) -> None:
    pub = PartitionPublisher("p", *DAY, run_id="manual__2024-05-01T00:00:00+00:00")
    key = pub.staging_key("a.csv")
    assert key.startswith("p/_staging/manual__2024-05-01T00_00_00_00_00-")
    assert key.endswith("/date=2024-05-01/a.csv")
    for bad in ("../x", "/abs", "_manifest.json", ""):
        with pytest.raises(ObjectStoreError):
            pub.staging_key(bad)


# -- publishing -----------------------------------------------------------------------------------
def test_publish_writes_objects_then_manifest_encrypted(s3) -> None:
    rows = [{"id": i} for i in range(3)]
    pub = _stage_day("run-1", rows)
    result = pub.publish({"source": "aggregates"})

    assert _keys(s3, "campaign_stats/date=2024-05-01/") == [
        "campaign_stats/date=2024-05-01/_manifest.json",
        "campaign_stats/date=2024-05-01/part-0000.ndjson",
        "campaign_stats/date=2024-05-01/summary.csv",
    ]
    assert _keys(s3, "campaign_stats/_staging/") == []
    manifest = pub.read_manifest()
    assert manifest == {k: v for k, v in result.items() if k not in ("bucket", "manifest_key")}
    assert manifest["total_rows"] == 4
    assert manifest["extra"] == {"source": "aggregates"}
    body = s3.get_object(Bucket=BUCKET, Key="campaign_stats/date=2024-05-01/part-0000.ndjson")["Body"].read()
    entry = next(o for o in manifest["objects"] if o["name"] == "part-0000.ndjson")
    assert entry["sha256"] == hashlib.sha256(body).hexdigest() and entry["size"] == len(body)
    for key in _keys(s3, "campaign_stats/date=2024-05-01/"):
        assert s3.head_object(Bucket=BUCKET, Key=key)["ServerSideEncryption"] == "AES256"
    assert partition_is_complete("campaign_stats", *DAY)


def test_republish_is_byte_identical_and_drops_stale_objects(s3) -> None:
    rows = [{"id": i} for i in range(5)]
    first = _stage_day("run-a", rows)
    first.stage_bytes("obsolete.csv", b"x\n", "text/csv")
    first.publish({"source": "aggregates"})
    manifest_key = "campaign_stats/date=2024-05-01/_manifest.json"
    before = s3.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read()

    # A re-run (new run id) producing the same data without obsolete.csv.
    second = _stage_day("scheduled__2024-05-02T00:00:00+00:00", rows)
    second.publish({"source": "aggregates"})
    after = s3.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read()

    old_objects = [o for o in json.loads(before)["objects"] if o["name"] != "obsolete.csv"]
    assert json.loads(after)["objects"] == old_objects
    assert "obsolete.csv" not in {o["name"] for o in json.loads(after)["objects"]}
    assert "campaign_stats/date=2024-05-01/obsolete.csv" not in _keys(s3, "campaign_stats/")

    # Same data again: the manifest bytes do not change at all.
    _stage_day("run-c", rows).publish({"source": "aggregates"})
    assert s3.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read() == after


def test_failure_mid_publish_leaves_partition_incomplete_until_rerun(s3, monkeypatch) -> None:
    _stage_day("run-1", [{"id": 1}]).publish()
    assert partition_is_complete("campaign_stats", *DAY)

    pub = _stage_day("run-2", [{"id": 1}, {"id": 2}])
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    real_copy = S3Hook.copy_object
    calls = {"n": 0}

    def failing_copy(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected: worker lost mid-copy")
        return real_copy(self, *args, **kwargs)

    monkeypatch.setattr(S3Hook, "copy_object", failing_copy)
    with pytest.raises(RuntimeError, match="injected"):
        pub.publish()
    monkeypatch.setattr(S3Hook, "copy_object", real_copy)

    assert pub.read_manifest() is None
    assert not partition_is_complete("campaign_stats", *DAY)
    assert _keys(s3, pub.staging_prefix)  # staged objects survive for the retry

    retried = PartitionPublisher("campaign_stats", *DAY, run_id="run-2")  # a new process, same run
    manifest = retried.publish()
    assert manifest["total_rows"] == 3
    assert partition_is_complete("campaign_stats", *DAY)


def test_publish_names_drops_what_an_earlier_try_staged(s3) -> None:
    # Try 1 staged a chunk that try 2 (same run, so same staging prefix) no longer produces.
    try1 = _stage_day("run-1", [{"id": 1}, {"id": 2}])
    try1.stage_bytes("part-0001.ndjson", b'{"id": 3}', "application/x-ndjson", rows=1)
    try2 = _stage_day("run-1", [{"id": 1}, {"id": 2}])  # rewrites part-0000 and summary only
    manifest = try2.publish(names=["part-0000.ndjson", "summary.csv"])
    assert [o["name"] for o in manifest["objects"]] == ["part-0000.ndjson", "summary.csv"]
    assert manifest["total_rows"] == 3  # 2 rows + the summary's 1, not the stale chunk's
    assert _keys(s3, "campaign_stats/date=2024-05-01/") == [
        "campaign_stats/date=2024-05-01/_manifest.json",
        "campaign_stats/date=2024-05-01/part-0000.ndjson",
        "campaign_stats/date=2024-05-01/summary.csv",
    ]
    assert _keys(s3, try2.staging_prefix) == []  # the leftover is gone from staging too


def test_publish_names_must_all_be_staged(s3) -> None:
    pub = _stage_day("run-1", [{"id": 1}])
    with pytest.raises(ObjectStoreError, match="not staged.*part-0009.ndjson"):
        pub.publish(names=["part-0000.ndjson", "part-0009.ndjson"])
    assert pub.read_manifest() is None and len(_keys(s3, pub.staging_prefix)) == 2  # nothing touched


def test_publish_without_names_publishes_everything_staged(s3) -> None:
    pub = _stage_day("run-1", [{"id": 1}])
    pub.stage_bytes("extra.csv", b"x\n", "text/csv")
    assert {o["name"] for o in pub.publish()["objects"]} == {"extra.csv", "part-0000.ndjson", "summary.csv"}


def test_publish_without_staged_objects_refuses_to_wipe(s3) -> None:
    pub = _stage_day("run-1", [{"id": 1}])
    pub.publish()
    with pytest.raises(ObjectStoreError, match="nothing staged"):
        pub.publish()
    assert partition_is_complete("campaign_stats", *DAY)


def test_volatile_manifest_keys_are_refused(s3) -> None:
    pub = _stage_day("run-1", [{"id": 1}])
    with pytest.raises(ObjectStoreError, match="run_id"):
        pub.publish({"run_id": "run-1"})


def test_missing_object_makes_partition_incomplete(s3) -> None:
    _stage_day("run-1", [{"id": 1}]).publish()
    s3.delete_object(Bucket=BUCKET, Key="campaign_stats/date=2024-05-01/summary.csv")
    assert not partition_is_complete("campaign_stats", *DAY)


def test_stage_file_records_hash_and_rows(s3, tmp_path) -> None:
    path = tmp_path / "out.parquet"
    path.write_bytes(b"PAR1" + bytes(range(200)) * 50)
    pub = PartitionPublisher(
        "forecast", datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 8, tzinfo=UTC), "r1"
    )
    pub.stage_file("out.parquet", path, rows=42)
    manifest = pub.publish()
    (entry,) = manifest["objects"]
    assert entry["key"] == "forecast/interval=20240501T000000Z_20240508T000000Z/out.parquet"
    assert entry["rows"] == 42 and entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


# -- presigned URLs -------------------------------------------------------------------------------
def test_presign_gives_a_working_get_url(s3) -> None:
    pub = _stage_day("run-1", [{"id": 7}])
    pub.publish()
    url = pub.presign(pub.object_key("summary.csv"), expiry_hours=2)
    query = dict(httpx.URL(url).params)
    if "X-Amz-Expires" in query:  # SigV4
        assert query["X-Amz-Expires"] == "7200"
    else:  # SigV2 carries the absolute expiry time
        assert 7000 < int(query["Expires"]) - time.time() <= 7200
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == b"campaign,attempted\nc1,3\n"


def test_presign_raises_when_s3hook_returns_none(s3, monkeypatch) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    monkeypatch.setattr(S3Hook, "generate_presigned_url", lambda self, **kwargs: None)
    pub = PartitionPublisher("p", *DAY, run_id="r")
    with pytest.raises(PresignError, match="could not presign"):
        pub.presign("p/date=2024-05-01/x.csv")
    with pytest.raises(ObjectStoreError, match="expiry_hours"):
        pub.presign("p/date=2024-05-01/x.csv", expiry_hours=24 * 8)


def test_default_bucket_comes_from_settings(monkeypatch) -> None:
    monkeypatch.setenv("GENESYS_BUCKET", "other-bucket")
    assert PartitionPublisher("p", *DAY, run_id="r").bucket == "other-bucket"
    assert object_store.MANIFEST_NAME == "_manifest.json"


# -- issue 16: narrower runs, concurrent publishes, completeness by digest ----------------------------
def test_a_selection_partition_lives_under_the_day_and_the_day_never_deletes_it(s3) -> None:
    _stage_day("full-1", [{"id": 1}, {"id": 2}]).publish()
    narrow = PartitionPublisher("campaign_stats", *DAY, run_id="narrow", selection="0123456789ab")
    assert narrow.partition == "campaign_stats/date=2024-05-01/selection=0123456789ab/"
    narrow.stage_bytes("summary.csv", b"campaign,attempted\nc9,1\n", "text/csv", rows=1)
    narrow.publish()
    # the day's full output is intact beside the narrower run's own partition
    assert partition_is_complete("campaign_stats", *DAY)
    assert partition_is_complete("campaign_stats", *DAY, selection="0123456789ab")
    _stage_day("full-2", [{"id": 1}]).publish()  # re-publishing the day keeps the selection partition
    assert _keys(s3, narrow.partition) == [f"{narrow.partition}_manifest.json", f"{narrow.partition}summary.csv"]
    with pytest.raises(ObjectStoreError, match="selection"):
        PartitionPublisher("campaign_stats", *DAY, run_id="x", selection="../other")


def test_a_second_publisher_of_one_partition_waits_for_the_lock(s3) -> None:
    """Two runs publishing one partition at once: the conditional write lets exactly one in."""
    first, second = _stage_day("run-a", [{"id": 1}]), _stage_day("run-b", [{"id": 2}])
    s3.put_object(Bucket=BUCKET, Key=first.lock_key, Body=b"run-a")  # run-a is mid-publish
    with pytest.raises(ObjectStoreError, match="being published by run 'run-a'"):
        second.publish()
    assert _keys(s3, second.staging_prefix)  # nothing published, its staging kept for the retry
    first.publish()  # the holder itself (a retry of run-a) proceeds and releases the lock
    assert first.lock_key not in _keys(s3, first.partition)
    second.publish()  # once released, the other run publishes
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=second.manifest_key)["Body"].read())["total_rows"] == 2


def test_a_stale_lock_of_a_dead_publisher_is_taken_over(s3, monkeypatch) -> None:
    pub = _stage_day("run-c", [{"id": 1}])
    s3.put_object(Bucket=BUCKET, Key=pub.lock_key, Body=b"dead-run")
    monkeypatch.setattr(object_store, "LOCK_STALE_SECONDS", -1)
    pub.publish()
    assert partition_is_complete("campaign_stats", *DAY)


def test_completeness_checks_the_digest_not_just_the_size(s3) -> None:
    pub = _stage_day("run-d", [{"id": 1}])
    pub.publish()
    assert partition_is_complete("campaign_stats", *DAY)
    # an interleaved writer replaced an object with other bytes of the same size
    s3.put_object(Bucket=BUCKET, Key=pub.object_key("summary.csv"), Body=b"campaign,attempted\nc2,3\n")
    assert not partition_is_complete("campaign_stats", *DAY)


@pytest.mark.parametrize(("tz", "day"), [("America/Santiago", "2026-09-06"), ("Asia/Beirut", "2026-03-29"),
                                           ("America/Havana", "2026-03-08"), ("Africa/Cairo", "2026-04-24")])
def test_days_whose_midnight_does_not_exist_are_date_partitions(tz: str, day: str) -> None:
    from datetime import date, timedelta

    from genesys_pipelines.windows import reporting_day_before

    d = date.fromisoformat(day)
    run = datetime.combine(d + timedelta(days=1), datetime.min.time(), ZoneInfo(tz)).replace(hour=6)
    window = reporting_day_before(run, tz, "logical_date")
    assert partition_prefix("p", window.local_start(), window.local_end()) == f"p/date={day}/"


def test_staged_csv_outputs_carry_no_formula(s3, tmp_path) -> None:
    """Issue 16: a campaign named `=HYPERLINK(...)` reaches the published CSV as text, not a formula."""
    pub = PartitionPublisher("campaign_stats", *DAY, run_id="csv")
    pub.stage_bytes("summary.csv", b"campaign,attempted\n=HYPERLINK(\"http://x\"),3\n", "text/csv", rows=1)
    path = tmp_path / "sessions.csv"
    path.write_text("queue,n\n@queue,1\n")
    pub.stage_file("sessions.csv", path, rows=1)
    pub.publish()
    assert pub.read_object("summary.csv") == b"campaign,attempted\n\"'=HYPERLINK(\"\"http://x\"\")\",3\n"
    assert pub.read_object("sessions.csv") == b"queue,n\n'@queue,1\n"
    assert partition_is_complete("campaign_stats", *DAY)  # sha256 of the neutralised bytes


def test_the_outputs_page_lists_narrower_runs_selection_partitions_and_presigns_their_files(s3) -> None:
    """A run narrower than the default selection publishes under ``date=…/selection=<digest>/``; the outputs
    page used to list only the day folders, so such a run's files were unreachable from the UI."""
    from genesys_cloud.ui import outputs

    full = _stage_day("run-full", [{"id": 1}])
    full.publish()
    narrow = PartitionPublisher("campaign_stats", *DAY, run_id="run-narrow", selection="abc123")
    narrow.stage_bytes("summary.csv", b"campaign,attempted\nc1,3\n", "text/csv", rows=1)
    narrow.publish()
    names = [p.name for p in outputs.partitions("campaign_stats")]
    assert names == ["date=2024-05-01", "date=2024-05-01/selection=abc123"]
    [part] = [p for p in outputs.partitions("campaign_stats") if "selection" in p.name]
    key = next(o["key"] for o in part.objects if o["name"] == "summary.csv")
    assert key == "campaign_stats/date=2024-05-01/selection=abc123/summary.csv"
    assert httpx.get(outputs.presigned_download("campaign_stats", key)).content == b"campaign,attempted\nc1,3\n"
    # a day that only narrower runs published shows their sub-partition, not an "incomplete" day folder
    for key in _keys(s3, "campaign_stats/date=2024-05-01/"):
        if "/selection=" not in key:
            s3.delete_object(Bucket=BUCKET, Key=key)
    assert [p.name for p in outputs.partitions("campaign_stats")] == ["date=2024-05-01/selection=abc123"]
