"""Infrastructure faults on the delivery step (issue 16): S3 unavailable or refusing, the webhook receiver
down or slow, the audit database down. Each fails the delivery task with a clear message, publishes
nothing partial, and a retry once the fault is gone delivers exactly once (one partition, one webhook
accepted, one audit row).

Driven through ``deliver()`` (the one step every pipeline ends with) against the sandbox's receiver and
the local S3, with Airflow connections switched by env vars as a deployment would: seconds per case, no
Airflow scheduler needed. Webhook backoff sleeps are skipped (never gate on timing).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from genesys_cloud.exceptions import ObjectStoreError, WebhookError
from genesys_cloud.sinks import webhook as webhook_module
from genesys_cloud.sinks.audit import AuditSink
from genesys_cloud.sinks.delivery import Delivery, deliver
from genesys_pipelines.windows import Window

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("airflow_db")]

WINDOW = Window(datetime(2026, 5, 20, tzinfo=UTC), datetime(2026, 5, 21, tzinfo=UTC), "UTC")
PARTITION = "infra_faults/date=2026-05-20/"


def context(run_id: str, try_number: int = 1) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="infra_faults", run_id=run_id, task_id="deliver", map_index=-1, try_number=try_number)
    return {"ti": ti, "run_id": run_id}


def what() -> Delivery:
    return Delivery(event="rows", objects={"a.json": (b'{"a": 1}\n', "application/json", 1),
                                           "b.csv": (b"n\n1\n", "text/csv", 1)},
                    manifest_extra={"rows": 2}, payload=lambda p: {"partition": p.partition, "objects": p.urls},
                    audit=lambda p: [{"event": "delivered", "entity_type": "partition", "entity_id": p.partition,
                                      "status": "success", "record_count": 2, "details": {}}])


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_conn(monkeypatch: pytest.MonkeyPatch, name: str, **changes: Any) -> None:
    variable = f"AIRFLOW_CONN_{name.upper()}"
    current = json.loads(os.environ[variable])
    extra = {**(current.get("extra") or {}), **changes.pop("extra", {})}
    monkeypatch.setenv(variable, json.dumps({**current, **changes, "extra": extra}))


@pytest.fixture(autouse=True)
def no_backoff_sleeps(monkeypatch: pytest.MonkeyPatch, sandbox: Any) -> None:
    AuditSink().ensure_schema()
    keys = sandbox.list_keys("infra_faults/")  # each case starts from an empty partition
    if keys:
        sandbox.s3.delete_objects(Bucket=sandbox.bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    monkeypatch.setattr(webhook_module, "time", SimpleNamespace(time=time.time, sleep=lambda seconds: None))


def published(sandbox: Any) -> list[str]:
    return [k for k in sandbox.list_keys(PARTITION)]


def assert_delivered_once(sandbox: Any, run_id: str) -> None:
    assert published(sandbox) == [f"{PARTITION}_manifest.json", f"{PARTITION}a.json", f"{PARTITION}b.csv"]
    assert len({d["idempotencyKey"] for d in sandbox.webhooks("bi")}) == 1
    assert len(AuditSink().rows("infra_faults", run_id=run_id, event="delivered")) == 1
    assert not sandbox.list_keys("infra_faults/_staging/")


@pytest.mark.parametrize("fault", ["unreachable", "refusing"])
def test_object_store_fault_fails_clearly_publishes_nothing_and_retry_recovers(sandbox, monkeypatch, fault) -> None:
    if fault == "unreachable":
        with_conn(monkeypatch, "aws_default", extra={"endpoint_url": f"http://127.0.0.1:{closed_port()}"})
    else:  # the bucket answers NoSuchBucket (the deployment points at a bucket it may not use)
        monkeypatch.setenv("GENESYS_BUCKET", "no-such-bucket-for-genesys")
    with pytest.raises(ObjectStoreError, match="object store unavailable or refusing.*nothing was published"):
        deliver(context(f"manual__s3_{fault}"), what(), window=WINDOW)
    assert published(sandbox) == [] and sandbox.webhooks("bi") == []
    assert AuditSink().rows("infra_faults", run_id=f"manual__s3_{fault}") == []
    monkeypatch.undo()
    monkeypatch.setattr(webhook_module, "time", SimpleNamespace(time=time.time, sleep=lambda seconds: None))
    deliver(context(f"manual__s3_{fault}", try_number=2), what(), window=WINDOW)
    assert_delivered_once(sandbox, f"manual__s3_{fault}")


@pytest.fixture()
def slow_receiver() -> Iterator[str]:
    release = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            release.wait(5)  # longer than the sink's timeout in the test

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("fault", ["down", "slow"])
def test_webhook_receiver_fault_fails_the_delivery_and_retry_delivers_once(sandbox, monkeypatch, fault,
                                                                          slow_receiver) -> None:
    real_sink = webhook_module.WebhookSink
    monkeypatch.setattr(webhook_module, "WebhookSink",
                        lambda *a, **k: real_sink(*a, **{"timeout_seconds": 0.5, "max_attempts": 2, **k}))
    target = f"http://127.0.0.1:{closed_port()}" if fault == "down" else slow_receiver
    with_conn(monkeypatch, "genesys_webhook_default", host=f"{target}/_sandbox/webhooks/bi", schema=None, port=None)
    run_id = f"manual__webhook_{fault}"
    with pytest.raises(WebhookError, match=r"failed after 2 attempts: (ConnectError|ReadTimeout)"):
        deliver(context(run_id), what(), window=WINDOW)
    # the partition is complete (the manifest is last) but the run is not done: no audit row yet
    assert f"{PARTITION}_manifest.json" in published(sandbox) and sandbox.webhooks("bi") == []
    assert AuditSink().rows("infra_faults", run_id=run_id) == []
    monkeypatch.undo()
    monkeypatch.setattr(webhook_module, "time", SimpleNamespace(time=time.time, sleep=lambda seconds: None))
    deliver(context(run_id, try_number=2), Delivery(**{**what().__dict__, "objects": {},
                                                       "staged": ["a.json", "b.csv"]}), window=WINDOW)
    assert_delivered_once(sandbox, run_id)


def test_audit_database_down_fails_the_delivery_and_retry_records_once(sandbox, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_GENESYS_AUDIT", json.dumps(
        {"conn_type": "sqlite", "host": str(tmp_path / "missing-dir" / "audit.db")}))
    run_id = "manual__audit_down"
    with pytest.raises(Exception, match="(?i)unable to open database|audit") as failure:
        deliver(context(run_id), what(), window=WINDOW)
    assert "audit" in str(failure.value).lower() or "database" in str(failure.value).lower()
    monkeypatch.undo()
    monkeypatch.setattr(webhook_module, "time", SimpleNamespace(time=time.time, sleep=lambda seconds: None))
    deliver(context(run_id, try_number=2), Delivery(**{**what().__dict__, "objects": {},
                                                       "staged": ["a.json", "b.csv"]}), window=WINDOW)
    assert_delivered_once(sandbox, run_id)  # the receiver deduplicated the re-delivery
