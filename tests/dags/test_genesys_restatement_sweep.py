"""End to end: late data lands on one published day; the sweep re-runs exactly that day, once.

dag.test() cannot execute the runs a TriggerDagRunOperator creates (no scheduler), so the test checks the
run the sweep created (its id and conf) and then executes that conf the way the scheduler would.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REPORT = "genesys_conversation_report"
SWEEP = "genesys_restatement_sweep"
DAYS = ["2026-06-08", "2026-06-09", "2026-06-10"]
LATE_DAY = "2026-06-09"


def load(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def test_the_sweep_dag_is_wired_to_trigger_through_airflow(airflow_db: Path) -> None:
    dag = load(SWEEP)
    assert set(dag.task_ids) == {"validate_params", "find", "probe", "changed", "restate"}
    restate = dag.get_task("restate")
    assert restate.partial_kwargs["reset_dag_run"] is True and restate.partial_kwargs["wait_for_completion"] is False
    assert dag.get_task("probe").pool == dag.get_task("find").pool == "genesys_api"
    assert dag.max_active_runs == 1 and dag.default_args["retries"] >= 2
    assert "Why a separate DAG" in dag.doc_md  # the Task SDK reads the .md into doc_md


def report_run(day: str, **conf: Any) -> Any:
    logical = datetime.combine(date.fromisoformat(day) + timedelta(days=1), datetime.min.time(), UTC).replace(hour=2)
    return load(REPORT).test(logical_date=logical, run_after=logical, run_conf=conf)


def sweep_run(minute: int) -> Any:
    logical = datetime(2026, 6, 11, 5, minute, tzinfo=UTC)
    return load(SWEEP).test(logical_date=logical, run_after=logical, run_conf={"days": 3, "pipelines": [REPORT]})


def partition(sandbox: Any, day: str) -> dict[str, bytes]:
    prefix = f"{REPORT}/date={day}/"
    return {key[len(prefix):]: sandbox.read(key) for key in sandbox.list_keys(prefix)}


def xcom(dag_run: Any, task_id: str) -> Any:
    [ti] = [ti for ti in dag_run.get_task_instances() if ti.task_id == task_id and ti.map_index in (-1, None)]
    return ti.xcom_pull(task_ids=task_id)


def failed(dag_run: Any) -> list[str]:
    return [f"{ti.task_id}[{ti.map_index}]={ti.state}" for ti in dag_run.get_task_instances()
            if str(ti.state) not in ("success", "skipped")]


def test_a_sweep_with_no_day_to_probe_is_audited_too(sandbox: Any, airflow_db: Path) -> None:
    """No partition in the swept days (a fresh deployment): nothing probed, nothing triggered, and the
    sweep's audit row still says so (the native-stack wave found a sweep run without any audit row)."""
    from genesys_cloud.sinks.audit import AuditSink

    logical = datetime(2026, 1, 20, 5, 30, tzinfo=UTC)
    run = load(SWEEP).test(logical_date=logical, run_after=logical, run_conf={"days": 2, "pipelines": [REPORT]})
    assert not failed(run), failed(run)
    [row] = AuditSink().rows(SWEEP, event="restatement_sweep", run_id=run.run_id)
    assert row["status"] == "unchanged" and row["record_count"] == 0 and row["details"]["reruns"] == []


def test_late_data_on_one_day_restates_that_day_only(sandbox: Any, airflow_db: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    from genesys_cloud.sinks.audit import AuditSink
    from genesys_pipelines.restatement.versions import manifest_digest

    monkeypatch.setenv("GENESYS_SETTLE_HOURS", "240")  # the demo days are days old: keep them open
    stale = [k for day in DAYS for k in sandbox.list_keys(f"{REPORT}/date={day}/")]
    if stale:
        sandbox.s3.delete_objects(Bucket=sandbox.bucket, Delete={"Objects": [{"Key": k} for k in stale]})
    for day in DAYS:
        assert str(report_run(day).state) == "success"
    before = {day: partition(sandbox, day) for day in DAYS}
    for day in DAYS:
        block = json.loads(before[day]["_manifest.json"])["extra"]["restatement"]
        assert block["version"] == 1 and block["source"]["final"] is False
        assert set(block["source"]["days"]) == {day} and block["source"]["data_availability_date"]
    webhooks = len(sandbox.webhooks("bi"))

    # A sweep with nothing late probes each day once and triggers nothing.
    counters = sandbox.counters()
    quiet = sweep_run(0)
    assert not failed(quiet) and xcom(quiet, "changed") == []
    probes = sandbox.counters().get("POST /api/v2/analytics/conversations/details/query", 0) - counters.get(
        "POST /api/v2/analytics/conversations/details/query", 0)
    assert probes == len(DAYS)  # one 1-row probe per day

    added = sandbox.admin.post("/_sandbox/late_data", json={"day": LATE_DAY, "conversations": 25})
    added.raise_for_status()
    swept = sweep_run(30)
    assert not failed(swept), failed(swept)
    [rerun] = xcom(swept, "changed")
    assert rerun["trigger_dag_id"] == REPORT and rerun["conf"]["start"] == LATE_DAY
    assert rerun["trigger_run_id"].startswith(f"restate__{REPORT}__{LATE_DAY}__")
    assert "total_hits" in rerun["note"]
    [sweep_row] = AuditSink().rows("genesys_restatement_sweep", event="restatement_sweep", run_id=swept.run_id)
    assert sweep_row["status"] == "restating" and sweep_row["details"]["changed"] == [f"{REPORT}:{LATE_DAY}"]
    assert sweep_row["details"]["reruns"] == [rerun["trigger_run_id"]] and sweep_row["record_count"] == len(DAYS)
    with create_session() as session:  # the sweep created the run through Airflow itself
        created = session.query(DagRun).filter(DagRun.dag_id == REPORT, DagRun.run_id == rerun["trigger_run_id"]).all()
    assert len(created) == 1 and created[0].conf == rerun["conf"]

    # What the scheduler would run: the report with the sweep's conf.
    assert str(report_run("2026-06-10", **rerun["conf"]).state) == "success"
    after = {day: partition(sandbox, day) for day in DAYS}
    for day in DAYS:
        if day != LATE_DAY:
            assert after[day] == before[day], day  # untouched: every object and the manifest byte-identical
    manifest = json.loads(after[LATE_DAY]["_manifest.json"])
    block = manifest["extra"]["restatement"]
    assert block["version"] == 2 and block["restated_from"] == manifest_digest(json.loads(before[LATE_DAY]["_manifest.json"]))
    assert after[LATE_DAY]["sessions.parquet"] != before[LATE_DAY]["sessions.parquet"]
    deliveries = sandbox.webhooks("bi")[webhooks:]
    assert [d["body"]["event"] for d in deliveries] == ["restated"]
    assert deliveries[0]["body"]["window"]["partition"] == f"date={LATE_DAY}"
    rows = [r for r in AuditSink().rows(REPORT, event="restated") if LATE_DAY in r["entity_id"]]
    assert len(rows) == 1 and "total_hits" in rows[0]["details"]["reason"]

    # The next sweep finds the day consistent again: nothing to re-run.
    assert xcom(sweep_run(45), "changed") == []


def test_a_restated_campaign_stats_day_re_emits_its_asset_event_marked(sandbox: Any, airflow_db: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    stats, day = "genesys_campaign_execution_stats", "2026-06-09"
    monkeypatch.setenv("GENESYS_SETTLE_HOURS", "240")
    stale = sandbox.list_keys(f"{stats}/date={day}/")
    if stale:
        sandbox.s3.delete_objects(Bucket=sandbox.bucket, Delete={"Objects": [{"Key": k} for k in stale]})
    logical = datetime(2026, 6, 10, 3, tzinfo=UTC)
    assert str(load(stats).test(logical_date=logical, run_after=logical).state) == "success"
    first = json.loads(sandbox.read(f"{stats}/date={day}/_manifest.json"))["extra"]["restatement"]
    assert first["version"] == 1 and first["source"]["kind"] == "aggregates"

    sandbox.admin.post("/_sandbox/late_data", json={"day": day, "conversations": 400}).raise_for_status()
    swept = load(SWEEP).test(logical_date=datetime(2026, 6, 11, 5, 40, tzinfo=UTC),
                             run_after=datetime(2026, 6, 11, 5, 40, tzinfo=UTC),
                             run_conf={"start": day, "end": "2026-06-10", "pipelines": [stats]})
    assert not failed(swept), failed(swept)
    [rerun] = xcom(swept, "changed")
    assert rerun["trigger_dag_id"] == stats and "attempted" in rerun["note"]

    again = load(stats).test(logical_date=datetime(2026, 6, 11, 5, 41, tzinfo=UTC),
                             run_after=datetime(2026, 6, 11, 5, 41, tzinfo=UTC), run_conf=rerun["conf"])
    assert str(again.state) == "success"
    block = json.loads(sandbox.read(f"{stats}/date={day}/_manifest.json"))["extra"]["restatement"]
    assert block["version"] == 2 and block["restated_from"]
    with create_session() as session:
        extras = session.scalars(select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(
            AssetModel.name == "genesys://campaign_execution_stats", AssetEvent.source_run_id == again.run_id)).all()
    assert [e["restatement"]["version"] for e in extras] == [2]
    assert extras[0]["restatement"]["restated_from"] == block["restated_from"]


def test_a_day_with_a_narrower_runs_partition_is_probed_once_and_each_partition_restated_once(
        sandbox: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The day's partition and a three-campaign run's ``selection=`` sub-partition under it: the sweep
    probes the day once (one mapped probe, one aggregates request), re-runs each changed partition once
    with its own params, and its audit row lists the day once, with both partitions."""
    from genesys_cloud.sinks.audit import AuditSink

    stats, day, next_day = "genesys_campaign_execution_stats", "2026-06-04", "2026-06-05"
    monkeypatch.setenv("GENESYS_SETTLE_HOURS", "240")
    stale = sandbox.list_keys(f"{stats}/date={day}/")
    if stale:
        sandbox.s3.delete_objects(Bucket=sandbox.bucket, Delete={"Objects": [{"Key": k} for k in stale]})
    fx = sandbox.fixtures
    chosen = [fx["normal_campaign"], fx["anomaly_campaign"], fx["idle_campaign"]]
    at = datetime(2026, 6, 5, 3, tzinfo=UTC)
    assert str(load(stats).test(logical_date=at, run_after=at).state) == "success"
    narrow = load(stats).test(logical_date=at + timedelta(minutes=1), run_after=at + timedelta(minutes=1),
                              run_conf={"start": day, "end": next_day, "campaign_ids": chosen})
    assert str(narrow.state) == "success"
    manifests = sorted(k for k in sandbox.list_keys(f"{stats}/date={day}/") if k.endswith("/_manifest.json"))
    assert len(manifests) == 2 and "/selection=" in manifests[1], manifests

    sandbox.admin.post("/_sandbox/late_data", json={"day": day, "conversations": 400}).raise_for_status()
    aggregates = "POST /api/v2/analytics/conversations/aggregates/query"
    before = sandbox.counters().get(aggregates, 0)
    at = datetime(2026, 6, 11, 5, 50, tzinfo=UTC)
    swept = load(SWEEP).test(logical_date=at, run_after=at,
                             run_conf={"start": day, "end": next_day, "pipelines": [stats]})
    assert not failed(swept), failed(swept)
    assert len([ti for ti in swept.get_task_instances() if ti.task_id == "probe"]) == 1  # one probe task
    assert sandbox.counters().get(aggregates, 0) - before == 1  # one request for the day
    reruns = xcom(swept, "changed")
    assert [r["conf"]["campaign_ids"] for r in reruns] == [[], chosen]  # each partition, its own params ([]: all)
    assert len({r["trigger_run_id"] for r in reruns}) == 2
    [row] = AuditSink().rows(SWEEP, event="restatement_sweep", run_id=swept.run_id)
    assert row["details"]["probed"] == row["details"]["changed"] == [f"{stats}:{day}"] and row["record_count"] == 2
    assert [len(parts) for parts in row["details"]["partitions"].values()] == [2]
    sandbox.s3.delete_objects(Bucket=sandbox.bucket, Delete={"Objects": [
        {"Key": k} for k in sandbox.list_keys(f"{stats}/date={day}/")]})  # other sweeps of the module: a clean day


def test_a_berlin_day_is_unchanged_until_late_data_lands_then_restated_once(sandbox: Any, airflow_db: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A reporting day in Europe/Berlin touches two UTC days: the run fingerprints both whole UTC days and
    the sweep re-probes exactly those, so a sweep without late data changes nothing; late data on the day
    restates it once, and the next sweep is quiet again."""
    day, nxt, tz = "2026-06-05", "2026-06-06", "Europe/Berlin"
    monkeypatch.setenv("GENESYS_SETTLE_HOURS", "240")
    stale = sandbox.list_keys(f"{REPORT}/date={day}/")
    if stale:
        sandbox.s3.delete_objects(Bucket=sandbox.bucket, Delete={"Objects": [{"Key": k} for k in stale]})
    assert str(report_run(day, start=day, end=nxt, timezone=tz).state) == "success"
    before = partition(sandbox, day)
    block = json.loads(before["_manifest.json"])["extra"]["restatement"]
    assert sorted(block["source"]["days"]) == ["2026-06-04", day] and block["run_conf"]["timezone"] == tz

    def sweep(minute: int) -> Any:
        at = datetime(2026, 6, 11, 5, minute, tzinfo=UTC)
        run = load(SWEEP).test(logical_date=at, run_after=at, run_conf={
            "start": day, "end": nxt, "timezone": tz, "pipelines": [REPORT]})
        assert not failed(run), failed(run)
        return run

    details = "POST /api/v2/analytics/conversations/details/query"
    counted = sandbox.counters().get(details, 0)
    assert xcom(sweep(10), "changed") == []  # nothing late: nothing changed, nothing re-run
    assert sandbox.counters().get(details, 0) - counted == 2  # one probe per UTC day the day touches

    sandbox.admin.post("/_sandbox/late_data", json={"day": day, "conversations": 30}).raise_for_status()
    [rerun] = xcom(sweep(20), "changed")
    assert rerun["conf"]["start"] == day and rerun["conf"]["timezone"] == tz
    assert rerun["trigger_run_id"].startswith(f"restate__{REPORT}__{day}__")
    assert str(report_run(day, **rerun["conf"]).state) == "success"
    restated = json.loads(partition(sandbox, day)["_manifest.json"])["extra"]["restatement"]
    assert restated["version"] == 2 and f"{day}: total_hits" in restated["reason"]
    assert "2026-06-04" not in restated["reason"]  # the other UTC day did not change
    assert xcom(sweep(30), "changed") == []  # consistent again
