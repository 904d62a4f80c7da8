"""End to end: genesys_reporting_export with dag.test() against the sandbox and the local S3."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_reporting_export"
POST_EXPORTS = "POST /api/v2/analytics/reporting/exports"
VIEWS = ("campaign_performance_summary_view", "queue_performance_summary_view")


@pytest.fixture(scope="module")
def dag(airflow_db: Path, devstack: Any) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


def day_before(day: str, n: int) -> str:
    return (date.fromisoformat(day) - timedelta(days=n)).isoformat()


def run(dag: Any, day: str, **conf: Any) -> Any:
    """The scheduled run (04:00 UTC) whose window is the reporting day ``day``."""
    logical = datetime.combine(date.fromisoformat(day) + timedelta(days=1), datetime.min.time(), UTC).replace(hour=4)
    # These tests read the day's partition: a narrower selection replaces it deliberately (else it would
    # publish under selection=<digest>/, see tests/plugins/sinks/test_sinks_delivery.py).
    conf.setdefault("replace_partition", True)
    return dag.test(logical_date=logical, run_after=logical, run_conf=conf)


def tis(dag_run: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for ti in dag_run.get_task_instances():
        out.setdefault(ti.task_id, []).append(ti)
    return out


def states(dag_run: Any) -> dict[str, list[str]]:
    return {task: sorted(str(t.state) for t in group) for task, group in tis(dag_run).items()}


def partition(sandbox: Any, day: str) -> dict[str, bytes]:
    prefix = f"{DAG_ID}/date={day}/"
    return {key[len(prefix):]: sandbox.read(key) for key in sandbox.list_keys(prefix)}


def export_posts(sandbox: Any) -> int:
    return int(sandbox.counters().get(POST_EXPORTS, 0))


def audit_rows(run_id: str) -> list[dict[str, Any]]:
    from genesys_cloud.sinks.audit import AuditSink

    return [r for r in AuditSink().rows(DAG_ID, run_id=run_id) if r["event"] == "reporting_export"]


def independent_rows(raw: bytes, key_header: str) -> list[dict[str, str]]:
    """The raw export read with the stdlib only (no pipeline code): rows with a non-blank key."""
    text = raw.decode("utf-8-sig")
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    return [r for r in csv.DictReader(io.StringIO(text), delimiter=delimiter) if (r.get(key_header) or "").strip()]


def submit_durations(dag_run: Any) -> list[float]:
    return [(t.end_date - t.start_date).total_seconds() for t in tis(dag_run)["submit_and_wait"]]


def test_default_exports_published_checked_and_rerun_identical(sandbox: Any, dag: Any) -> None:
    import pyarrow.parquet as pq

    day = sandbox.demo_date
    started = time.monotonic()
    dag_run = run(dag, day)
    wall = time.monotonic() - started
    assert str(dag_run.state) == "success", states(dag_run)
    assert export_posts(sandbox) == 2

    files = partition(sandbox, day)
    expected = {f"{v}.{ext}" for v in VIEWS for ext in ("parquet", "csv")} | {f"raw/{v}.csv" for v in VIEWS}
    assert set(files) == expected | {"_manifest.json"}
    manifest = json.loads(files["_manifest.json"])
    assert [e["view_type"] for e in manifest["extra"]["exports"]] == [v.upper() for v in VIEWS]

    # Each table against an independent reading of the raw file the export produced.
    for view, key_column, key_header in (
        ("queue_performance_summary_view", "queue_id", "Queue ID"),
        ("campaign_performance_summary_view", "campaign_id", "Campaign ID"),
    ):
        table = pq.read_table(io.BytesIO(files[f"{view}.parquet"]))
        expected_rows = independent_rows(files[f"raw/{view}.csv"], key_header)
        assert table.num_rows == len(expected_rows) > 0
        assert sorted(table.column(key_column).to_pylist()) == sorted(r[key_header].strip() for r in expected_rows)
        assert files[f"{view}.csv"].decode().splitlines()[0].startswith(f'"{key_column}"')

    rows = audit_rows(dag_run.run_id)
    assert len(rows) == 2 and all(r["status"] == "success" for r in rows)
    for row in rows:
        assert row["details"]["polls"] >= 1 and row["details"]["validation_ok"] is True
        assert row["record_count"] == pq.read_table(
            io.BytesIO(files[f"{row['details']['view_type'].lower()}.parquet"])).num_rows
    inbox = sandbox.webhooks()
    assert len(inbox) == 1
    body = inbox[0].get("body") or inbox[0].get("payload") or inbox[0]
    assert {e["view_type"] for e in body["exports"]} == {v.upper() for v in VIEWS}
    assert all(set(e["urls"]) == {"parquet", "csv"} for e in body["exports"])

    durations = submit_durations(dag_run)
    print(f"\nFIGURES reporting_export e2e_wall_s={wall:.2f} submit_wait_s={[round(d, 2) for d in durations]} "
          f"polls={[r['details']['polls'] for r in rows]}")

    # Re-run of the same window: the exports are found by name (no new POST) and the bytes are identical.
    again = run(dag, day)
    assert str(again.state) == "success", states(again)
    assert export_posts(sandbox) == 2
    assert partition(sandbox, day) == files


def test_failing_export_fails_the_run_and_publishes_nothing(sandbox: Any, dag: Any) -> None:
    day = day_before(sandbox.demo_date, 1)
    sandbox.set_faults("export_fail=1")
    dag_run = run(dag, day, exports=[{"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"mediaTypes": ["voice"]}}])
    assert str(dag_run.state) == "failed"
    assert "failed" in states(dag_run)["submit_and_wait"]
    assert partition(sandbox, day) == {}
    (row,) = audit_rows(dag_run.run_id)
    assert row["status"] == "failed" and row["entity_id"].startswith(f"{DAG_ID}.QUEUE_PERFORMANCE_SUMMARY_VIEW.")
    assert "FAILED" in row["details"]["error"]  # the API's exportErrorMessagesType is named


def test_slow_export_is_waited_for(sandbox: Any, dag: Any) -> None:
    day = day_before(sandbox.demo_date, 2)
    sandbox.set_faults("slow_jobs=3")
    started = time.monotonic()
    dag_run = run(dag, day, exports=[{"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW"}])
    wall = time.monotonic() - started
    assert str(dag_run.state) == "success", states(dag_run)
    (row,) = audit_rows(dag_run.run_id)
    assert row["details"]["polls"] >= 2
    print(f"\nFIGURES reporting_export slow_export wall_s={wall:.2f} polls={row['details']['polls']} "
          f"submit_wait_s={submit_durations(dag_run)}")


def test_retried_submit_reuses_the_first_export(sandbox: Any, dag: Any) -> None:
    """The POST is applied but its answer lost: the same try looks the name up again and reuses it."""
    day = day_before(sandbox.demo_date, 3)
    sandbox.set_faults("lost_write=1")
    dag_run = run(dag, day, exports=[{"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW"}])
    assert str(dag_run.state) == "success", states(dag_run)
    assert export_posts(sandbox) == 1
    (ti,) = tis(dag_run)["submit_and_wait"]
    assert ti.try_number == 1  # recovered inside the try (hook.create_idempotent), never POSTed twice
    assert partition(sandbox, day)


def test_bad_export_request_fails_before_any_post(sandbox: Any, dag: Any) -> None:
    dag_run = run(dag, sandbox.demo_date,
                  exports=[{"view_type": "QUEUE_PERFORMANCE_SUMMARY_VIEW", "filter": {"queueIdz": ["x"]}}])
    assert str(dag_run.state) == "failed"
    assert states(dag_run)["plan_exports"] == ["failed"]
    assert export_posts(sandbox) == 0
