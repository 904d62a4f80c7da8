"""The pacing forecast run started by a restated campaign-stats day (issue 20), on the real asset-event path:
the run's DagRun consumes an asset event whose extra carries ``restatement.version: 2`` (what the stats DAG
emits when the sweep re-ran a changed day). Three hours after the window's end (not old), apply on: it
reads nothing, asks nothing, writes nothing (no PUT, no partition, no webhook) and audits why. On old main
the same run PUT the recommendations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_campaign_pacing_forecast"
ASSET = "genesys://campaign_execution_stats"
LOGICAL = datetime(2026, 6, 11, 3, tzinfo=UTC)  # the window 2026-06-10 ended 3 h before
CAMPAIGN_PUT = "/api/v2/outbound/campaigns/{campaignId}"


def load_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


def consume_event(monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any]) -> None:
    """dag.test() makes a manual run: attach one event of the upstream asset to it, as the scheduler does
    for an asset-triggered run (the task's context then has it in ``triggering_asset_events``)."""
    import airflow.models.dagrun as dagrun_module
    from airflow.models.asset import AssetEvent, AssetModel
    from sqlalchemy import select

    original = dagrun_module.get_or_create_dagrun

    def with_event(**kwargs: Any) -> Any:
        dag_run, session = original(**kwargs), kwargs["session"]
        asset = session.scalar(select(AssetModel).where(AssetModel.name == ASSET))
        assert asset is not None, "the stats DAG's asset is registered with the DAGs"
        event = AssetEvent(asset_id=asset.id, extra=extra, source_dag_id="genesys_campaign_execution_stats",
                           source_task_id="deliver", source_run_id="restate__stats__2026-06-10__abab",
                           source_map_index=-1)
        session.add(event)
        session.flush()
        dag_run.consumed_asset_events.append(event)
        session.commit()
        return dag_run

    monkeypatch.setattr(dagrun_module, "get_or_create_dagrun", with_event)


def test_a_restated_stats_day_paces_nothing_even_the_same_day(sandbox: Any, airflow_db: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from genesys_cloud.sinks.audit import AuditSink
    from genesys_pipelines.windows import resolve_window

    fx = sandbox.fixtures
    ids = [fx["normal_campaign"], fx["anomaly_campaign"], fx["no_planning_group_campaign"]]
    window = resolve_window(logical_date=LOGICAL)
    assert window.partition() == "date=2026-06-10"
    extra = {"window": {**window.to_dict(), "source": "asset_event"}, "manifest_key": "m", "summary": {},
             "restatement": {"version": 2, "restated_from": "ab" * 32}}
    consume_event(monkeypatch, extra)
    before = {k: sandbox.read(k) for k in sandbox.list_keys(f"{DAG_ID}/")}
    hooks_before = len(sandbox.webhooks("bi"))

    started = datetime.now(UTC)
    dag_run = load_dag().test(logical_date=LOGICAL, run_after=LOGICAL,
                              run_conf={"campaign_ids": ids, "apply": True, "replace_partition": True})
    assert str(dag_run.state) == "success", {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}

    assert [w for w in sandbox.writes() if w["method"] == "PUT" and w["template"] == CAMPAIGN_PUT] == []
    assert {k: sandbox.read(k) for k in sandbox.list_keys(f"{DAG_ID}/")} == before  # no partition written
    assert len(sandbox.webhooks("bi")) == hooks_before
    # this run's rows only: other modules' pacing runs in this session may share its run id (same clock)
    rows = [r for r in AuditSink().rows(DAG_ID, run_id=dag_run.run_id) if r["recorded_at"] >= started]
    [summary] = [r for r in rows if r["event"] == "run_summary"]
    assert summary["status"] == "stale" and "restated" in summary["details"]["stale"]
    assert not [r for r in rows if r["event"] == "pacing_write"]  # nothing even planned for writing


def test_a_restatement_published_while_the_run_waits_stops_the_write(sandbox: Any, airflow_db: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The run read and forecast a day; before apply (an approval wait can last hours) the sweep restated
    that day. apply checks the upstream asset's events at the moment of the write: nothing is written, each
    campaign's outcome is STALE with the reason, in the audit. On old main apply PUT the stale values."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from genesys_cloud.sinks.audit import AuditSink
    from genesys_pipelines.pacing_forecast import steps
    from genesys_pipelines.windows import resolve_window

    window = resolve_window(logical_date=LOGICAL)
    extra = {"window": {**window.to_dict(), "source": "asset_event"}, "manifest_key": "m", "summary": {},
             "restatement": {"version": 2, "restated_from": "cd" * 32}}
    original = steps.analyse

    def analyse_then_restate(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        with create_session() as session:  # the sweep's stats run re-publishes the day meanwhile
            asset = session.scalar(select(AssetModel).where(AssetModel.name == ASSET))
            session.add(AssetEvent(asset_id=asset.id, extra=extra, source_dag_id="genesys_campaign_execution_stats",
                                   source_task_id="deliver", source_run_id="restate__late", source_map_index=-1))
        return result

    monkeypatch.setattr(steps, "analyse", analyse_then_restate)
    fx = sandbox.fixtures
    ids = [fx["normal_campaign"], fx["anomaly_campaign"], fx["no_planning_group_campaign"]]
    puts = [w for w in sandbox.writes() if w["method"] == "PUT" and w["template"] == CAMPAIGN_PUT]
    started = datetime.now(UTC)
    dag_run = load_dag().test(logical_date=LOGICAL, run_after=LOGICAL,
                              run_conf={"campaign_ids": ids, "apply": True, "replace_partition": True})
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "success", states
    assert [w for w in sandbox.writes() if w["method"] == "PUT" and w["template"] == CAMPAIGN_PUT] == puts
    rows = [r for r in AuditSink().rows(DAG_ID, run_id=dag_run.run_id) if r["recorded_at"] >= started]
    stale = [r for r in rows if r["event"] != "run_summary" and r["status"] == "stale"]
    assert stale and all("restated (version 2) after this run started" in str(r["details"]) for r in stale), rows
    assert not [r for r in rows if r["event"] == "pacing_write"]
