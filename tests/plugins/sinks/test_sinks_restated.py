"""Restated partitions through the one delivery step (local S3 + the sandbox's deduplicating receiver)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from genesys_cloud.sinks.audit import AuditSink
from genesys_cloud.sinks.delivery import Delivery, deliver, standard_key
from genesys_pipelines.restatement.versions import manifest_digest
from genesys_pipelines.windows import Window

WINDOW = Window(datetime(2026, 6, 9, tzinfo=UTC), datetime(2026, 6, 10, tzinfo=UTC), "UTC")
MANIFEST = "restate_test/date=2026-06-09/_manifest.json"


def context(run_id: str, try_number: int = 1) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="restate_test", run_id=run_id, task_id="deliver", map_index=-1, try_number=try_number)
    return {"ti": ti, "run_id": run_id}


def source(total: int) -> dict[str, Any]:
    return {"kind": "details", "days": {"2026-06-09": {"total_hits": total, "latest_end": "2026-06-09T23:00:00.000Z"}},
            "probe": {}, "data_availability_date": "2026-06-10T05:00:00+00:00", "final": False, "settle_hours": 48.0}


def what(content: bytes, total: int, staged: bool = True) -> Delivery:
    return Delivery(event="rows", objects={"a.json": (content, "application/json", 1)} if staged else {},
                    staged=[] if staged else ["a.json"], manifest_extra={"rows": 1},
                    payload=lambda p: {"event": "rows", "partition": p.partition},
                    audit=lambda p: [], restatement={"source": source(total), "run_conf": {"start": "2026-06-09"}})


@pytest.mark.usefixtures("airflow_db")
def test_unchanged_reruns_are_byte_identical_and_a_change_is_one_restated_event(sandbox: Any) -> None:
    first = deliver(context("scheduled__1"), what(b'{"a": 1}\n', 10), window=WINDOW)
    block = first.manifest["extra"]["restatement"]
    assert (block["version"], block["restated_from"], block["run_conf"]) == (1, None, {"start": "2026-06-09"})
    original = sandbox.read(MANIFEST)

    # A re-run (another run id) of unchanged data: the manifest's bytes stay, the receiver dedupes.
    deliver(context("manual__2"), what(b'{"a": 1}\n', 10), window=WINDOW)
    assert sandbox.read(MANIFEST) == original
    assert [d["body"]["event"] for d in sandbox.webhooks("bi")] == ["rows"]

    # Late data: the content changed. Version 2, restated_from the old digest, one `restated` event.
    restated = deliver(context("restate__3"), what(b'{"a": 2}\n', 12), window=WINDOW)
    block = restated.manifest["extra"]["restatement"]
    assert block["version"] == 2 and block["restated_from"] == manifest_digest(json.loads(original))
    assert block["reason"] == "source changed since version 1: 2026-06-09: total_hits 10 -> 12"
    deliveries = sandbox.webhooks("bi")
    assert [d["body"]["event"] for d in deliveries] == ["rows", "restated"]
    assert deliveries[1]["body"]["restatement"]["content_digest"] == block["content_digest"]
    assert deliveries[1]["idempotencyKey"] != standard_key(context("x"), WINDOW.start, WINDOW.end, "rows")
    [row] = AuditSink().rows("restate_test", event="restated")
    assert row["entity_id"] == "restate_test/date=2026-06-09/#v2" and "total_hits 10 -> 12" in row["details"]["reason"]

    # A retry of the restating task (staging already published) re-sends under the same key: still one.
    deliver(context("restate__3", try_number=2), what(b"", 12, staged=False), window=WINDOW)
    assert [d["body"]["event"] for d in sandbox.webhooks("bi")] == ["rows", "restated"]
    assert json.loads(sandbox.read(MANIFEST))["extra"]["restatement"]["version"] == 2


@pytest.mark.usefixtures("airflow_db")
def test_a_delivery_without_restatement_facts_has_no_block(sandbox: Any) -> None:
    plain = Delivery(event="rows", objects={"a.json": (b"{}\n", "application/json", 1)}, audit=lambda p: [])
    published = deliver(context("scheduled__plain"), plain, window=WINDOW)
    assert "restatement" not in published.manifest["extra"]
