"""Multi-day runs of campaign statistics that publish day partitions (issue 20): a manual run over three
reporting days with ``publish_days`` reads each batch of campaigns with three aggregates queries for the
whole range (per-day buckets) instead of three per day, and publishes three ``date=`` partitions
byte-identical, manifest included, to what the three day runs publish; each day partition emits its own
asset event (the pacing forecast sees one window per event, as after a backfill of day runs)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_campaign_execution_stats"
ASSET = "genesys://campaign_execution_stats"
AGG = "POST /api/v2/analytics/conversations/aggregates/query"


def load() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


def partitions(sandbox: Any, days: list[str]) -> dict[str, dict[str, bytes]]:
    out = {}
    for day in days:
        prefix = f"{DAG_ID}/date={day}/"
        out[day] = {key[len(prefix):]: sandbox.read(key) for key in sandbox.list_keys(prefix)}
    return out


def drop(sandbox: Any, days: list[str]) -> None:
    keys = [k for day in days for k in sandbox.list_keys(f"{DAG_ID}/date={day}/")]
    if keys:
        sandbox.s3.delete_objects(Bucket=sandbox.bucket, Delete={"Objects": [{"Key": k} for k in keys]})


def events_after(last_id: int) -> list[tuple[int, dict[str, Any]]]:
    """The stats asset's events newer than event id ``last_id`` (the runs here share one run id)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        asset = session.scalar(select(AssetModel).where(AssetModel.name == ASSET))
        if asset is None:
            return []
        found = session.scalars(select(AssetEvent).where(AssetEvent.asset_id == asset.id, AssetEvent.id > last_id)).all()
        return [(e.id, dict(e.extra or {})) for e in found]


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_a_range_run_publishes_the_day_partitions_of_the_day_runs_byte_for_byte(
        sandbox: Any, airflow_db: Path, tz: str) -> None:
    last = date.fromisoformat(sandbox.demo_date) - timedelta(days=1)
    days = [(last - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    drop(sandbox, days)
    logical = datetime(2026, 6, 11, 5, tzinfo=UTC)
    before = sandbox.counters()
    for day in days:  # the day-by-day runs
        nxt = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        dag_run = load().test(logical_date=logical, run_after=logical,
                              run_conf={"start": day, "end": nxt, "timezone": tz})
        assert str(dag_run.state) == "success"
    daily_queries = sandbox.counters().get(AGG, 0) - before.get(AGG, 0)
    daily = partitions(sandbox, days)
    assert all({"campaign_stats.parquet", "campaign_stats.json", "_manifest.json"} <= set(f) for f in daily.values())
    assert len({files["campaign_stats.parquet"] for files in daily.values()}) == 3  # three real, different days
    drop(sandbox, days)

    before, seen = sandbox.counters(), max([i for i, _ in events_after(0)], default=0)
    end = (last + timedelta(days=1)).isoformat()
    ranged = load().test(logical_date=logical, run_after=logical,
                         run_conf={"start": days[0], "end": end, "timezone": tz, "publish_days": True})
    assert str(ranged.state) == "success", {ti.task_id: str(ti.state) for ti in ranged.get_task_instances()}
    range_queries = sandbox.counters().get(AGG, 0) - before.get(AGG, 0)

    assert partitions(sandbox, days) == daily  # every object and every manifest, byte for byte
    assert not [k for k in sandbox.list_keys(f"{DAG_ID}/") if "interval=" in k and days[0].replace("-", "") in k]
    # three aggregates queries per batch for the range, three per batch and DAY for the day runs
    assert range_queries > 0 and range_queries * 3 == daily_queries
    # one asset event per day partition, each with its day's window (what pacing folds and processes)
    events = [extra for _, extra in events_after(seen)]
    assert sorted(e["window"]["start"][:10] for e in events) == days
    assert all(e["restatement"]["version"] == 1 and f"date={e['window']['start'][:10]}" in e["manifest_key"]
               for e in events)


def test_a_range_is_cut_into_chunks_that_keep_the_aggregates_interval_limit() -> None:
    from genesys_pipelines.campaign_stats import queries, ranges
    from genesys_pipelines.day_ranges import run_days
    from genesys_pipelines.models.limits import AGGREGATES_QUERY_DAYS
    from genesys_pipelines.windows import Window

    window = Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "UTC")
    days = run_days(True, window)
    parts = ranges.chunks(days)
    assert sum(len(p) for p in parts) == 365 and len(parts) == 2
    longest = max(p[-1].start - queries.history_window(p[0]).start for p in parts)
    assert longest <= timedelta(days=AGGREGATES_QUERY_DAYS.default_days)
    assert run_days(False, window) == [] and run_days(True, days[0]) == []
