"""A pacing run that folds several upstream days (a campaign-stats backfill: one asset-triggered run sees
one event per day), on the real asset-event path. Stale by age, it writes nothing, and neither would a run
of any day it left out: it ends green with those days recorded in its audit summary (on old main it failed
naming them: noise after every backfill). Not stale, it still fails naming the days it left out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_campaign_pacing_forecast"
ASSET = "genesys://campaign_execution_stats"
CAMPAIGN_PUT = "/api/v2/outbound/campaigns/{campaignId}"


def load_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


def consume_events(monkeypatch: pytest.MonkeyPatch, days: list[int]) -> None:
    """dag.test() makes a manual run: attach one first-publication event of the upstream asset per day
    (2026-06-``day``), as the scheduler folds them into one asset-triggered run."""
    import airflow.models.dagrun as dagrun_module
    from airflow.models.asset import AssetEvent, AssetModel
    from sqlalchemy import select

    from genesys_pipelines.windows import resolve_window

    original = dagrun_module.get_or_create_dagrun

    def with_events(**kwargs: Any) -> Any:
        dag_run, session = original(**kwargs), kwargs["session"]
        asset = session.scalar(select(AssetModel).where(AssetModel.name == ASSET))
        assert asset is not None, "the stats DAG's asset is registered with the DAGs"
        for day in days:
            window = resolve_window(logical_date=datetime(2026, 6, day + 1, 3, tzinfo=UTC))
            event = AssetEvent(asset_id=asset.id, extra={"window": {**window.to_dict(), "source": "asset_event"},
                                                         "manifest_key": "m", "summary": {}},
                               source_dag_id="genesys_campaign_execution_stats", source_task_id="deliver",
                               source_run_id=f"backfill__2026-06-{day:02d}", source_map_index=-1)
            session.add(event)
            session.flush()
            dag_run.consumed_asset_events.append(event)
        session.commit()
        return dag_run

    monkeypatch.setattr(dagrun_module, "get_or_create_dagrun", with_events)


def _puts(sandbox: Any) -> list[dict[str, Any]]:
    return [w for w in sandbox.writes() if w["method"] == "PUT" and w["template"] == CAMPAIGN_PUT]


def test_a_stale_run_after_a_backfill_ends_green_and_records_the_days_it_left_out(
        sandbox: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from genesys_cloud.sinks.audit import AuditSink

    consume_events(monkeypatch, [8, 9, 10])
    logical = datetime(2026, 6, 12, 6, tzinfo=UTC)  # 30 h after the newest day's end: stale
    puts, started = _puts(sandbox), datetime.now(UTC)
    dag_run = load_dag().test(logical_date=logical, run_after=logical,
                              run_conf={"campaign_ids": [sandbox.fixtures["normal_campaign"]], "apply": True,
                                        "replace_partition": True})
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "success", states  # old main: deliver failed naming 06-08 and 06-09
    assert _puts(sandbox) == puts
    rows = [r for r in AuditSink().rows(DAG_ID, run_id=dag_run.run_id) if r["recorded_at"] >= started]
    [summary] = [r for r in rows if r["event"] == "run_summary"]
    assert summary["status"] == "stale" and "2026-06-11T00:00:00+00:00" in summary["details"]["stale"]
    left = summary["details"]["left_out"]
    assert [w["window"] for w in left] == ["date=2026-06-08", "date=2026-06-09"]
    assert all(w["stale"].startswith("stale: the run starts") for w in left)
    assert not [r for r in rows if r["event"] == "pacing_write"]


def test_a_run_that_is_not_stale_still_fails_naming_the_days_it_left_out(
        sandbox: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """06-10 ended 3 h before the run (it paces); 06-09, folded in, is not processed: the run fails by name,
    as before (even though 06-09 alone would be stale by now)."""
    consume_events(monkeypatch, [9, 10])
    logical = datetime(2026, 6, 11, 3, tzinfo=UTC)
    dag_run = load_dag().test(logical_date=logical, run_after=logical,
                              run_conf={"campaign_ids": [sandbox.fixtures["normal_campaign"]],
                                        "replace_partition": True})
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "failed" and states["deliver"] == "failed", states
    assert states["analyse"] == "success", states  # it did process its own day
    out, err = capfd.readouterr()
    assert "1 upstream window(s) folded into this asset-triggered run were NOT processed: date=2026-06-09" in out + err
