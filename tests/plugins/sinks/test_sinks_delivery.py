"""The one delivery step (publish → presign → webhook → audit) against the sandbox's receiver and local S3."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from genesys_cloud.sinks.audit import AuditSink
from genesys_cloud.sinks.delivery import Delivery, deliver, publisher_for, standard_key
from genesys_cloud.sinks.webhook import idempotency_key
from genesys_pipelines.windows import Window

WINDOW = Window(datetime(2026, 6, 9, tzinfo=UTC), datetime(2026, 6, 10, tzinfo=UTC), "UTC")


def context(run_id: str = "manual__delivery", try_number: int = 1) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="delivery_test", run_id=run_id, task_id="deliver", map_index=-1, try_number=try_number)
    return {"ti": ti, "run_id": run_id}


def what(payload: bool = True, staged: list[str] | None = None) -> Delivery:
    def audit(published: Any) -> list[dict[str, Any]]:
        return [{"event": "delivered", "entity_type": "partition", "entity_id": published.partition,
                 "status": "success", "record_count": 2,
                 "details": {"webhook": published.webhook, "keys": sorted(published.keys)}}]

    return Delivery(event="rows", objects={"a.json": (b'{"a": 1}\n', "application/json", 2)},
                    staged=list(staged or []), manifest_extra={"rows": 2},
                    payload=(lambda p: {"objects": p.urls, "partition": p.partition}) if payload else None,
                    audit=audit, presign=lambda name: name.endswith(".json"))


@pytest.mark.usefixtures("airflow_db")
def test_delivery_publishes_links_signs_and_audits(sandbox: Any) -> None:
    published = deliver(context(), what(), window=WINDOW)
    assert published.partition == "delivery_test/date=2026-06-09/"
    assert sandbox.read("delivery_test/date=2026-06-09/a.json") == b'{"a": 1}\n'
    [delivery] = sandbox.webhooks("bi")
    assert delivery["idempotencyKey"] == standard_key(context(), WINDOW.start, WINDOW.end, "rows")
    assert delivery["idempotencyKey"] == idempotency_key("delivery_test", WINDOW.start, WINDOW.end, "deliver", -1, "rows")
    assert httpx.get(delivery["body"]["objects"]["a.json"]).content == b'{"a": 1}\n'
    # XCom gets keys and facts, never a presigned URL (they grant access for days).
    xcom = published.to_xcom()
    assert xcom["keys"] == {"a.json": "delivery_test/date=2026-06-09/a.json"} and "Signature" not in str(xcom)
    [row] = AuditSink().rows("delivery_test", run_id="manual__delivery", event="delivered")
    assert row["task_id"] == "deliver" and row["record_count"] == 2 and row["details"]["webhook"]["status_code"] == 200


@pytest.mark.usefixtures("airflow_db")
def test_a_retry_after_a_publish_reuses_the_partition_and_the_key(sandbox: Any) -> None:
    deliver(context(), what(), window=WINDOW)
    # Try 2 of the task: staging was cleared by the publish; the partition is reused, not failed on.
    again = deliver(context(try_number=2), Delivery(**{**what().__dict__, "objects": {}, "staged": ["a.json"]}),
                    window=WINDOW)
    assert again.keys == {"a.json": "delivery_test/date=2026-06-09/a.json"}
    keys = {d["idempotencyKey"] for d in sandbox.webhooks("bi")}
    assert len(keys) == 1  # the receiver deduplicates the re-delivery


@pytest.mark.usefixtures("airflow_db")
def test_no_partition_no_webhook_only_audit(sandbox: Any) -> None:
    run_after = "2026-06-11T06:00:00+00:00"
    published = deliver(context("manual__nopart"), Delivery(event="e", partition=False, audit=lambda p: [
        {"event": "only_audit", "entity_type": "run", "status": "SUCCESS", "details": {}}]),
        bounds=(run_after, run_after))
    assert published.manifest is None and published.webhook is None and sandbox.webhooks("bi") == []
    assert AuditSink().rows("delivery_test", run_id="manual__nopart")[0]["window_start"] == "2026-06-11T06:00:00+00:00"


def test_the_publisher_of_a_run_is_keyed_by_its_window_and_run() -> None:
    store = publisher_for(context("scheduled__x"), WINDOW)
    assert store.partition == "delivery_test/date=2026-06-09/" and "scheduled__x" in store.staging_prefix
    assert store.work_prefix.startswith("delivery_test/_work/")


def test_xcom_facts_never_carry_a_presigned_link() -> None:
    """Issue 16: presigned URLs reached XCom and the task log. The facts returned to XCom are links-free
    even when a pipeline's manifest extras carry one."""
    from genesys_cloud.sinks.delivery import Published

    url = ("http://s3/b/k.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAZ7GENESYSTEST016%2F20260611"
           "&X-Amz-Signature=0123456789abcdef")
    published = Published(manifest={"manifest_key": "p/_manifest.json", "partition": "p/",
                                    "extra": {"link": url, "rows": 3}},
                          keys={"a.csv": "p/a.csv"}, urls={"a.csv": url})
    facts = str(published.to_xcom())
    assert "0123456789abcdef" not in facts and "AKIAZ7GENESYSTEST016" not in facts and "rows" in facts
    assert url not in repr(published)  # the links themselves are kept out of reprs (logs)


def test_links_are_withheld_wherever_they_nest_and_counted_by_the_scan() -> None:
    from genesys_cloud.sinks.links import WITHHELD, leaks_in, withhold_links

    v4 = "https://b.s3.amazonaws.com/k?X-Amz-Credential=x&X-Amz-Signature=" + "ab" * 32
    v2 = "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=abc%3D&Expires=1"
    value = {"a": [v4, ("ok", v2)], "n": 3, "plain": "https://example.com/report.csv"}
    assert withhold_links(value) == {"a": [WITHHELD, ("ok", WITHHELD)], "n": 3,
                                     "plain": "https://example.com/report.csv"}
    assert leaks_in(f"log {v4} and {v2}") == {"presigned_signatures": 1, "aws_access_key_ids": 1}
    assert leaks_in("Done. Returned value was: {'keys': {'a.csv': 'p/a.csv'}}") == {
        "presigned_signatures": 0, "aws_access_key_ids": 0}


def _narrow(run_id: str = "manual__narrow", **conf: Any) -> dict[str, Any]:
    dag = SimpleNamespace(params={"campaign_ids": [], "queue_ids": (), "timezone": "UTC"})
    return {**context(run_id), "dag": dag, "dag_run": SimpleNamespace(conf=conf),
            "params": {"campaign_ids": ["c1"], "queue_ids": (), "timezone": "Europe/Paris"}}


def test_a_narrower_run_gets_its_own_partition_and_webhook_key() -> None:
    """Issue 16: one campaign's manual run no longer replaces (and deletes) the day's partition, and its
    webhook key differs, so a deduplicating receiver hears of it."""
    from genesys_cloud.sinks.delivery import run_selection, selection_digest

    assert run_selection(_narrow()) == {"campaign_ids": ["c1"]}  # timezone is not a selection
    digest = selection_digest(_narrow())
    assert digest and len(digest) == 12
    store = publisher_for(_narrow(), WINDOW)
    assert store.partition == f"delivery_test/date=2026-06-09/selection={digest}/"
    default_key = standard_key(context(), WINDOW.start, WINDOW.end, "rows")
    assert standard_key(_narrow(), WINDOW.start, WINDOW.end, "rows") != default_key
    # defaults given explicitly are still the default run
    same = {**_narrow(), "params": {"campaign_ids": [], "queue_ids": []}}
    assert selection_digest(same) is None and publisher_for(same, WINDOW).partition == "delivery_test/date=2026-06-09/"
    assert standard_key(same, WINDOW.start, WINDOW.end, "rows") == default_key


def test_replace_partition_lets_a_narrower_run_replace_the_day() -> None:
    store = publisher_for(_narrow(replace_partition=True), WINDOW)
    assert store.partition == "delivery_test/date=2026-06-09/"
    assert "/selection=" in publisher_for(_narrow(replace_partition="false"), WINDOW).partition
