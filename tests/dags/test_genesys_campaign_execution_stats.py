"""End to end: genesys_campaign_execution_stats with dag.test() against the sandbox and the local S3."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_campaign_execution_stats"
PREFIX = f"{DAG_ID}/"
AGG = "POST /api/v2/analytics/conversations/aggregates/query"


def load_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


@pytest.fixture(scope="module")
def dag(airflow_db: Path, devstack: Any) -> Any:
    return load_dag()


def logical_for(day: str) -> datetime:
    """The scheduled run (03:00 UTC) whose window is ``day`` (the reporting day before it)."""
    return datetime.combine(date.fromisoformat(day) + timedelta(days=1), datetime.min.time(), UTC).replace(hour=3)


def run(dag: Any, day: str, **conf: Any) -> Any:
    """One run through dag.test(). A fresh DAG object each time: in-process dag.test() runs of one DAG
    object leak a previous run's conf into the next run's params."""
    del dag
    logical = logical_for(day)
    # These tests read the day's partition: a narrower selection replaces it deliberately (else it would
    # publish under selection=<digest>/, see tests/plugins/sinks/test_sinks_delivery.py).
    conf.setdefault("replace_partition", True)
    return load_dag().test(logical_date=logical, run_after=logical, run_conf=conf)


def states(dag_run: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for ti in dag_run.get_task_instances():
        out.setdefault(ti.task_id, str(ti.state))
    return out


def partition(sandbox: Any, day: str) -> dict[str, bytes]:
    prefix = f"{PREFIX}date={day}/"
    return {key[len(prefix):]: sandbox.read(key) for key in sandbox.list_keys(prefix)}


def rows_of(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(files["campaign_stats.parquet"]))
    return {row["campaign_id"]: row for row in table.to_pylist()}


def api_calls(counters: dict[str, int]) -> int:
    return sum(n for key, n in counters.items() if " /api/v2/" in key)


def token(sandbox: Any) -> str:
    response = httpx.post(
        f"{sandbox.sandbox_url}/oauth/token", data={"grant_type": "client_credentials"},
        auth=("sandbox-client", "sandbox-secret"),
    )
    response.raise_for_status()
    return response.json()["access_token"]


def independent_totals(sandbox: Any, campaign_id: str, day: str) -> dict[str, float]:
    """One campaign's day straight from the API with a hand-written body (no pipeline code involved)."""
    body = {
        "interval": f"{day}T00:00:00.000Z/{(date.fromisoformat(day) + timedelta(days=1)).isoformat()}T00:00:00.000Z",
        "groupBy": ["outboundCampaignId"],
        "filter": {"type": "and", "predicates": [
            {"type": "dimension", "dimension": "outboundCampaignId", "operator": "matches", "value": campaign_id},
            {"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "voice"}]},
        "metrics": ["nOutboundAttempted", "nOutboundConnected", "nOutboundAbandoned", "tHandle"],
    }
    response = httpx.post(
        f"{sandbox.sandbox_url}/api/v2/analytics/conversations/aggregates/query", json=body,
        headers={"Authorization": f"Bearer {token(sandbox)}"},
    )
    response.raise_for_status()
    out: dict[str, float] = {}
    for result in response.json().get("results", []):
        for bucket in result["data"]:
            for m in bucket["metrics"]:
                out[m["metric"]] = out.get(m["metric"], 0) + m["stats"]["count"]
                if m["metric"] == "tHandle":
                    out["tHandle.sum"] = out.get("tHandle.sum", 0) + m["stats"]["sum"]
    return out


def asset_event(run_id: str) -> dict[str, Any]:
    """The extra of the asset event this run emitted."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        extras = session.scalars(
            select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(
                AssetModel.name == "genesys://campaign_execution_stats", AssetEvent.source_run_id == run_id)
        ).all()
    assert len(extras) == 1, extras
    return dict(extras[0])


def audit_rows(run_id: str) -> list[dict[str, Any]]:
    from genesys_cloud.sinks.audit import AuditSink

    return AuditSink().rows(DAG_ID, run_id=run_id)


def test_one_day_all_campaigns(sandbox: Any, dag: Any) -> None:
    day = sandbox.demo_date
    started = time.monotonic()
    dag_run = run(dag, day)
    wall = time.monotonic() - started
    assert str(dag_run.state) == "success", states(dag_run)

    counters = sandbox.counters()  # before the test's own calls below
    files = partition(sandbox, day)
    assert set(files) == {"campaign_stats.parquet", "campaign_stats.json", "_manifest.json"}
    rows = rows_of(files)
    listed = httpx.get(f"{sandbox.sandbox_url}/api/v2/outbound/campaigns", params={"pageSize": 100},
                       headers={"Authorization": f"Bearer {token(sandbox)}"}).json()
    assert set(rows) == {c["id"] for c in listed["entities"]}

    fx = sandbox.fixtures
    idle = rows[fx["idle_campaign"]]
    assert idle["no_activity"] is True and idle["flags"] == ["NO_ACTIVITY"]
    assert (idle["attempted"], idle["connected"], idle["connect_rate"], idle["avg_handle_time_s"]) == (0, 0, 0.0, 0.0)

    normal = rows[fx["normal_campaign"]]
    expected = independent_totals(sandbox, fx["normal_campaign"], day)
    assert normal["attempted"] == expected["nOutboundAttempted"] > 0
    assert normal["connected"] == expected.get("nOutboundConnected", 0)
    assert normal["abandoned"] == expected.get("nOutboundAbandoned", 0)
    assert normal["connect_rate"] == pytest.approx(expected["nOutboundConnected"] / expected["nOutboundAttempted"], abs=1e-6)
    assert normal["avg_handle_time_s"] == pytest.approx(expected["tHandle.sum"] / expected["tHandle"] / 1000, abs=1e-3)
    assert 0 < normal["conversions"] <= normal["connected"]
    assert normal["history_days"] > 7 and normal["connect_rate_zscore"] is not None

    document = json.loads(files["campaign_stats.json"])
    assert document["summary"]["campaigns"] == len(rows)
    flagged = sum(1 for r in rows.values() if r["flags"])
    assert document["summary"]["accuracy_rate"] == pytest.approx((len(rows) - flagged) / len(rows), abs=1e-6)

    deliveries = sandbox.webhooks("bi")
    assert len(deliveries) == 1
    body = deliveries[0]["body"]
    assert body["pipeline"] == DAG_ID and len(body["rows"]) == len(rows) and "live_snapshot" not in body
    assert {r["campaign_id"]: r["flags"] for r in body["rows"]} == {k: list(v["flags"]) for k, v in rows.items()}

    audit = audit_rows(dag_run.run_id)
    per_campaign = [a for a in audit if a["event"] == "campaign_stats"]
    assert {a["entity_id"] for a in per_campaign} == set(rows)
    assert {a["entity_id"]: a["details"]["flags"] for a in per_campaign}[fx["idle_campaign"]] == ["NO_ACTIVITY"]
    [summary] = [a for a in audit if a["event"] == "run_summary"]
    assert summary["record_count"] == len(rows)
    assert summary["details"]["accuracy_rate"] == document["summary"]["accuracy_rate"]

    event = asset_event(dag_run.run_id)
    assert event["window"]["partition"] == f"date={day}" and event["window"]["start"] == f"{day}T00:00:00+00:00"
    assert event["manifest_key"] == f"{PREFIX}date={day}/_manifest.json"

    calls = api_calls(counters)
    tis = [ti for ti in dag_run.get_task_instances() if ti.start_date and ti.end_date]
    task_s = sum((ti.end_date - ti.start_date).total_seconds() for ti in tis)
    query_s = sum((ti.end_date - ti.start_date).total_seconds() for ti in tis if ti.task_id == "query")
    print(f"\nFIGURES campaigns={len(rows)} api_calls={calls} aggregates_queries={counters.get(AGG)} "
          f"api_calls_per_campaign_day={calls / len(rows):.3f} dag_test_wall_s={wall:.1f} "
          f"sum_task_s={task_s:.1f} query_tasks_s={query_s:.2f} counters={counters}")
    # 3 aggregates queries per batch of <= 25 campaigns, whatever the number of campaigns.
    assert counters.get(AGG) == 3 * -(-len(rows) // 25)


def test_anomaly_day_flagged_and_fail_on_flags(sandbox: Any, dag: Any) -> None:
    from genesys_sandbox.org import anomaly_day

    fx = sandbox.fixtures
    day = anomaly_day(datetime.fromisoformat(sandbox.clock.replace("Z", "+00:00")).date()).isoformat()
    chosen = [fx["anomaly_campaign"], fx["normal_campaign"], fx["idle_campaign"]]
    dag_run = run(dag, day, campaign_ids=chosen, fail_on_flags=True, include_live_snapshot=True)
    task_states = states(dag_run)
    assert str(dag_run.state) == "failed"
    assert task_states["deliver"] == "success" and task_states["check_flags"] == "failed", task_states

    rows = rows_of(partition(sandbox, day))
    assert set(rows) == set(chosen)
    anomaly = rows[fx["anomaly_campaign"]]
    assert "OUTLIER_CONNECT_RATE" in anomaly["flags"] and abs(anomaly["connect_rate_zscore"]) > 3
    assert not [f for f in rows[fx["normal_campaign"]]["flags"] if f.startswith("OUTLIER")]
    assert rows[fx["idle_campaign"]]["flags"] == ["NO_ACTIVITY"]

    # The live snapshot goes to the webhook only, marked as such.
    [delivery] = sandbox.webhooks("bi")
    snapshot = delivery["body"]["live_snapshot"]
    assert snapshot["kind"] == "snapshot_at_run_time" and set(snapshot["campaigns"]) == set(chosen)
    assert sandbox.counters().get("GET /api/v2/outbound/campaigns/{campaignId}/stats") == len(chosen)

    # The day after, with a looser threshold, nothing is an outlier for the normal campaign.
    relaxed = run(dag, (date.fromisoformat(day) + timedelta(days=1)).isoformat(),
                  campaign_ids=[fx["normal_campaign"]], zscore_threshold=50)
    assert str(relaxed.state) == "success"


def test_backfill_three_days_rerun_byte_identical(sandbox: Any, dag: Any) -> None:
    started = datetime.now(UTC)
    fx = sandbox.fixtures
    conf = {"campaign_ids": [fx["normal_campaign"], fx["anomaly_campaign"], fx["idle_campaign"]]}
    last = date.fromisoformat(sandbox.demo_date)
    days = [(last - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    first: dict[str, dict[str, bytes]] = {}
    for day in days:
        dag_run = run(dag, day, **conf)
        assert str(dag_run.state) == "success", states(dag_run)
        first[day] = partition(sandbox, day)
        rows = rows_of(first[day])
        assert set(rows) == set(conf["campaign_ids"])
        assert {r["window_start"] for r in rows.values()} == {f"{day}T00:00:00+00:00"}
        manifest = json.loads(first[day]["_manifest.json"])
        assert {o["name"] for o in manifest["objects"]} == {"campaign_stats.parquet", "campaign_stats.json"}
    # The days differ from each other (real windows, not one cached answer) ...
    assert len({files["campaign_stats.parquet"] for files in first.values()}) == 3
    # ... and a re-run of each writes exactly the same bytes.
    for day in days:
        assert str(run(dag, day, **conf).state) == "success"
        assert partition(sandbox, day) == first[day]
    # Audit rows upsert on the natural key: a re-run of a window does not add rows for it.
    from genesys_cloud.sinks.audit import AuditSink

    # (this test's rows: the range-run module's runs of the same day map their tasks differently)
    rows_for_day = [r for r in AuditSink().rows(DAG_ID, f"{days[0]}T00:00:00+00:00", event="campaign_stats")
                    if r["recorded_at"] >= started]
    assert len(rows_for_day) == 3, rows_for_day


def test_empty_selection_in_a_local_zone(sandbox: Any, dag: Any) -> None:
    """Filters that match nothing publish an empty (but complete) partition, cut in the local zone."""
    dag_run = run(dag, sandbox.demo_date, timezone="America/New_York",
                  division_ids=["c0ffee00-0000-4000-8000-00000000dead"])
    assert str(dag_run.state) == "success", states(dag_run)
    # The run at 03:00 UTC is still the evening before in New York: its reporting day is one earlier.
    day = (date.fromisoformat(sandbox.demo_date) - timedelta(days=1)).isoformat()
    files = partition(sandbox, day)
    assert rows_of(files) == {}
    document = json.loads(files["campaign_stats.json"])
    assert document["window"]["start"] == f"{day}T04:00:00+00:00"  # local midnight, EDT
    assert document["summary"]["campaigns"] == 0 and document["summary"]["accuracy_rate"] == 1.0
    assert sandbox.counters().get(AGG) is None  # nothing selected, nothing queried


@pytest.mark.parametrize(
    ("conf", "param"),
    [
        ({"start": "2026-06-10", "end": "2026-06-10"}, "end"),
        ({"start": "2026-06-10", "end": "2026-06-30"}, "end"),  # after run_after
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"campaign_ids": ["c0ffee00-0000-4000-8000-00000000ffff"]}, "campaign_ids"),  # well-formed, unknown
    ],
)
def test_bad_params_fail_naming_the_param(sandbox: Any, dag: Any, conf: dict, param: str, capfd: Any) -> None:
    dag_run = run(dag, sandbox.demo_date, **conf)
    assert str(dag_run.state) == "failed"
    task_states = states(dag_run)
    assert task_states.get("deliver") != "success"
    captured = capfd.readouterr()
    assert f"invalid param {param}:" in captured.out + captured.err, task_states
    counters = sandbox.counters()
    assert counters.get(AGG) is None  # no analytics query was sent
    if param != "campaign_ids":
        assert task_states["validate_params"] == "failed"
        assert api_calls(counters) == 0


def test_malformed_ids_fail_the_first_task_by_name(sandbox: Any, dag: Any, capfd: Any) -> None:
    # The form shows no regex (its error cannot be worded for a person): validate_params names the param.
    dag_run = run(dag, sandbox.demo_date, campaign_ids=["not-a-uuid"])
    assert states(dag_run)["validate_params"] == "failed"
    captured = capfd.readouterr()
    assert "invalid param campaign_ids: 'not-a-uuid' is not a UUID" in captured.out + captured.err
    assert api_calls(sandbox.counters()) == 0
