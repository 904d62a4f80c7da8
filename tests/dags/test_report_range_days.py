"""Multi-day runs that publish day partitions (issue 20): a manual run of the conversation report over three
reporting days with ``publish_days`` extracts the range once (the async job: fewer requests than the three
days' sync pages, by the recorded cost estimate) and publishes three ``date=`` partitions byte-identical,
manifest included, to what the three day runs publish."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_conversation_report"
DAYS = ["2026-06-07", "2026-06-08", "2026-06-09"]
JOBS = "POST /api/v2/analytics/conversations/details/jobs"
DETAILS = "POST /api/v2/analytics/conversations/details/query"


def load() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


def partitions(sandbox: Any) -> dict[str, dict[str, bytes]]:
    out = {}
    for day in DAYS:
        prefix = f"{DAG_ID}/date={day}/"
        out[day] = {key[len(prefix):]: sandbox.read(key) for key in sandbox.list_keys(prefix)}
    return out


def drop_partitions(sandbox: Any) -> None:
    keys = [k for day in DAYS for k in sandbox.list_keys(f"{DAG_ID}/date={day}/")]
    if keys:
        sandbox.s3.delete_objects(Bucket=sandbox.bucket, Delete={"Objects": [{"Key": k} for k in keys]})


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_a_range_run_publishes_the_day_partitions_of_the_day_runs_byte_for_byte(sandbox: Any, airflow_db: Path,
                                                                                tz: str) -> None:
    """In Europe/Berlin too: each day partition's restatement fingerprint (its two UTC days, whole) is the
    day run's, although the range probes each UTC day once."""
    from genesys_cloud.sinks.audit import AuditSink
    from genesys_pipelines.windows import Window, parse_bound, utc_days

    drop_partitions(sandbox)
    for day in DAYS:  # the day-by-day runs (scheduled, 02:00 UTC the next day)
        logical = datetime.combine(date.fromisoformat(day) + timedelta(days=1), datetime.min.time(), UTC).replace(hour=2)
        conf = {} if tz == "UTC" else {"start": day, "end": (date.fromisoformat(day) + timedelta(days=1)).isoformat(),
                                       "timezone": tz}
        assert str(load().test(logical_date=logical, run_after=logical, run_conf=conf).state) == "success"
    daily = partitions(sandbox)
    assert all({"sessions.parquet", "report.csv", "_manifest.json"} <= set(files) for files in daily.values())
    drop_partitions(sandbox)

    before = sandbox.counters()
    logical = datetime(2026, 6, 11, 4, 0 if tz == "UTC" else 1, tzinfo=UTC)  # a run id (audit rows) per zone
    ranged = load().test(logical_date=logical, run_after=logical,
                         run_conf={"start": DAYS[0], "end": "2026-06-10", "publish_days": True,
                                   **({} if tz == "UTC" else {"timezone": tz})})
    assert str(ranged.state) == "success", {ti.task_id: str(ti.state) for ti in ranged.get_task_instances()}
    after = sandbox.counters()

    assert partitions(sandbox) == daily  # every object and every manifest, byte for byte
    # no range partition of its own (other modules' runs in this session may have published theirs)
    span = Window(parse_bound(DAYS[0], tz, "start"), parse_bound("2026-06-10", tz, "end"), tz)
    assert not sandbox.list_keys(f"{DAG_ID}/{span.partition()}/")
    # One extraction: one async job over the range; the sync query only for ONE 1-row probe per UTC day (its
    # totalHits feeds the cost estimate, its latest end the restatement fingerprint; it was 2 a day).
    assert after.get(JOBS, 0) - before.get(JOBS, 0) == 1
    assert after.get(DETAILS, 0) - before.get(DETAILS, 0) == len(utc_days((span.start, span.end)))
    [extract] = [ti for ti in ranged.get_task_instances() if ti.task_id == "extract"]
    assert extract.xcom_pull(task_ids="extract")["method"] == "job"
    # The choice and its estimate are recorded (plan XCom and each day's audit row).
    [plan] = [ti for ti in ranged.get_task_instances() if ti.task_id == "plan"]
    cost = plan.xcom_pull(task_ids="plan", key="range")
    assert cost["mode"] == "async" and cost["job_requests"] < cost["sync_requests"]
    assert cost["days"] == len(utc_days((span.start, span.end)))  # the estimate counts UTC days (the sync unit)
    rows = AuditSink().rows(DAG_ID, run_id=ranged.run_id, event="report_published")
    assert len(rows) == 3 and [d for d in DAYS if any(f"date={d}" in r["entity_id"] for r in rows)] == DAYS
    assert all(r["details"]["range"] == cost for r in rows)


def test_a_partial_day_range_is_refused_by_name() -> None:
    from genesys_pipelines.day_ranges import range_days
    from genesys_pipelines.errors import InvalidParam
    from genesys_pipelines.windows import Window

    with pytest.raises(InvalidParam, match="publish_days"):
        range_days(Window(datetime(2026, 6, 7, 12, tzinfo=UTC), datetime(2026, 6, 9, tzinfo=UTC)))
