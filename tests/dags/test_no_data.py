"""End to end: a window without data is a green run that says so (NO_DATA in manifest, audit and webhook),
and a run with ``fail_on_no_data`` fails after delivering.

The sandbox's clock is 2026-06-11T06:00Z: the day after it (2026-06-12) has no conversations, so every
reporting pipeline finds nothing there (as a scheduled run does on a sandbox whose clock is behind).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EMPTY_DAY = "2026-06-12"  # after the sandbox clock: no data

# dag id, run hour, the audit event carrying the run's flags
CASES = [
    ("genesys_conversation_report", 2, "report_published"),
    ("genesys_campaign_execution_stats", 3, "run_summary"),
    ("genesys_reporting_export", 4, "reporting_export"),
]


def load_dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def run(dag_id: str, hour: int, **conf: Any) -> Any:
    logical = datetime.combine(date.fromisoformat(EMPTY_DAY) + timedelta(days=1), datetime.min.time(), UTC)
    logical = logical.replace(hour=hour)
    return load_dag(dag_id).test(logical_date=logical, run_after=logical, run_conf=conf)


def task_states(dag_run: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for ti in dag_run.get_task_instances():
        out.setdefault(ti.task_id, str(ti.state))
    return out


@pytest.mark.parametrize(("dag_id", "hour", "event"), CASES, ids=[c[0] for c in CASES])
def test_a_window_without_data_is_flagged_no_data(sandbox: Any, airflow_db: Path, dag_id: str, hour: int,
                                                  event: str) -> None:
    from genesys_cloud.sinks.audit import AuditSink

    dag_run = run(dag_id, hour)
    assert str(dag_run.state) == "success", task_states(dag_run)

    manifest = json.loads(sandbox.read(f"{dag_id}/date={EMPTY_DAY}/_manifest.json"))
    extra = manifest["extra"]
    flags = extra["summary"]["flags"] if "summary" in extra else extra["flags"]
    assert flags == ["NO_DATA"]

    rows = [r for r in AuditSink().rows(dag_id, run_id=dag_run.run_id) if r["event"] == event]
    assert rows and all(r["status"] == "no_data" for r in rows), rows
    assert all("NO_DATA" in (r["details"].get("flags") or []) for r in rows), rows

    # mapped tasks are named by what they work on (map_index_template), not 0..N
    for ti in dag_run.get_task_instances():
        if ti.task_id in ("query", "normalise", "validate"):
            assert ti.rendered_map_index and "+" in ti.rendered_map_index, (ti.task_id, ti.rendered_map_index)
        if ti.task_id in ("submit_and_wait", "transform", "validate_output"):
            assert ti.rendered_map_index.endswith("_VIEW"), (ti.task_id, ti.rendered_map_index)

    [hook] = sandbox.webhooks()
    body = hook.get("body") or hook.get("payload") or hook
    body_flags = body["summary"]["flags"] if "summary" in body else body["flags"]
    assert body_flags == ["NO_DATA"]


@pytest.mark.parametrize(("dag_id", "hour", "event"), CASES, ids=[c[0] for c in CASES])
def test_fail_on_no_data_fails_after_delivering(sandbox: Any, airflow_db: Path, dag_id: str, hour: int,
                                               event: str) -> None:
    dag_run = run(dag_id, hour, fail_on_no_data=True)
    assert str(dag_run.state) == "failed", task_states(dag_run)
    failed = [t for t, s in task_states(dag_run).items() if s == "failed"]
    assert len(failed) == 1 and failed[0] in ("publish", "check_flags", "deliver"), task_states(dag_run)
    # the empty partition was still published (and audited) before the run failed
    assert sandbox.list_keys(f"{dag_id}/date={EMPTY_DAY}/_manifest.json")
