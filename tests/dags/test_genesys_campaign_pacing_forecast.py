"""End to end: genesys_campaign_pacing_forecast with dag.test() against the sandbox and the local S3."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_campaign_pacing_forecast"
DAY = "2026-06-10"  # the window (DEMO_DATE); the forecast covers 2026-06-11 UTC
LOGICAL = datetime(2026, 6, 11, 3, tzinfo=UTC)
CAMPAIGN_PUT = "/api/v2/outbound/campaigns/{campaignId}"


def load_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID)


@pytest.fixture(scope="module")
def dag(airflow_db: Path, devstack: Any) -> Any:
    return load_dag()


def run(**conf: Any) -> Any:
    """A fresh DAG object per run (in-process dag.test() runs of one object leak conf between runs)."""
    # These tests read the day's partition: a narrower selection replaces it deliberately (else it would
    # publish under selection=<digest>/, see tests/plugins/sinks/test_sinks_delivery.py).
    conf.setdefault("replace_partition", True)
    return load_dag().test(logical_date=LOGICAL, run_after=LOGICAL, run_conf=conf)


def states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def partition(sandbox: Any) -> dict[str, bytes]:
    prefix = f"{DAG_ID}/date={DAY}/"
    return {key[len(prefix):]: sandbox.read(key) for key in sandbox.list_keys(prefix)}


def api(sandbox: Any) -> httpx.Client:
    token = httpx.post(f"{sandbox.sandbox_url}/oauth/token", data={"grant_type": "client_credentials"},
                       auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
    return httpx.Client(base_url=sandbox.sandbox_url, headers={"Authorization": f"Bearer {token}"})


def campaign_puts(sandbox: Any) -> list[dict[str, Any]]:
    return [w for w in sandbox.writes() if w["method"] == "PUT" and w["template"] == CAMPAIGN_PUT]


def audit(run_id: str) -> dict[str, dict[str, Any]]:
    from genesys_cloud.sinks.audit import AuditSink

    # The deliver rows (the write-ahead rows of the apply task are event "pacing_write").
    return {r["entity_id"]: r for r in AuditSink().rows(DAG_ID, run_id=run_id) if r["event"] != "pacing_write"}


def recommendations(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    return {c["campaign_id"]: c for c in json.loads(files["recommendations.json"])["campaigns"]}


def test_propose_forecasts_skips_and_falls_back_without_writing(sandbox: Any, dag: Any) -> None:
    fx = sandbox.fixtures
    chosen = [fx["normal_campaign"], fx["anomaly_campaign"], fx["idle_campaign"], fx["no_planning_group_campaign"]]
    dag_run = run(campaign_ids=chosen)
    assert str(dag_run.state) == "success", states(dag_run)
    assert campaign_puts(sandbox) == []  # propose: no write at all
    # the mapped tasks are named by campaign (map_index_template), not 0..N
    mapped = {ti.task_id: [] for ti in dag_run.get_task_instances() if ti.map_index >= 0}
    for ti in dag_run.get_task_instances():
        if ti.map_index >= 0:
            mapped[ti.task_id].append(ti.rendered_map_index)
    assert set(mapped) == {"fetch_inputs", "analyse"}, mapped
    for labels in mapped.values():
        assert len(set(labels)) == len(chosen) and all(label and not label.isdigit() for label in labels), mapped
    assert "Fixture Normal" in mapped["analyse"], mapped  # the sandbox campaign's name

    files = partition(sandbox)
    forecast_ids = [fx["normal_campaign"], fx["anomaly_campaign"], fx["no_planning_group_campaign"]]
    assert set(files) == {"forecast.csv", "recommendations.json", "_manifest.json",
                          *(f"chart_{cid}.png" for cid in forecast_ids)}
    assert all(files[f"chart_{cid}.png"][:4] == b"\x89PNG" for cid in forecast_ids)
    recs = recommendations(files)

    idle = recs[fx["idle_campaign"]]
    assert idle["status"] == "skipped" and "only 0 hours with attempts" in idle["reason"]

    rows = list(csv.DictReader(io.StringIO(files["forecast.csv"].decode())))
    by_campaign: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_campaign.setdefault(row["campaign_id"], []).append(row)
    assert sorted(by_campaign) == sorted(forecast_ids)
    assert all(len(v) == 24 for v in by_campaign.values())
    assert by_campaign[fx["normal_campaign"]][0]["hour_start_utc"] == "2026-06-11T00:00:00+00:00"
    for row in rows:
        assert 0.0 <= float(row["answer_rate_lower"]) <= float(row["answer_rate_forecast"]) <= float(row["answer_rate_upper"]) <= 1.0

    client = api(sandbox)
    # Capacity of the normal campaign = its planning group's intraday schedule, read independently here.
    normal = recs[fx["normal_campaign"]]
    assert normal["capacity_source"] == "wfm_intraday_schedule"
    bu = fx["business_unit"]
    intraday = client.post(f"/api/v2/workforcemanagement/businessunits/{bu}/intraday", json={
        "businessUnitDate": "2026-06-11", "categories": ["ScheduleData"],
        "planningGroupIds": [fx["normal_planning_group"]], "intervalLengthMinutes": 60}).json()["result"]
    # The BU is in New York (UTC-4 in June): its 2026-06-11 starts at 04:00 UTC, so UTC hour h ≥ 4 is index h − 4.
    assert intraday["startDate"].startswith("2026-06-11T04:00")
    on_queue = [i["onQueueTimeSeconds"] for i in intraday["intradayDataGroupings"][0]["scheduleDataPerInterval"]]
    csv_agents = [float(r["agents"]) for r in by_campaign[fx["normal_campaign"]]]
    assert csv_agents[4:] == pytest.approx([s / 3600 for s in on_queue[:20]])

    # The queue in no planning group falls back to the live idleAgents, and says so.
    npg = recs[fx["no_planning_group_campaign"]]
    assert npg["capacity_source"] == "live_idle_agents"
    idle_agents = client.get(f"/api/v2/outbound/campaigns/{fx['no_planning_group_campaign']}/stats").json()["idleAgents"]
    assert {float(r["agents"]) for r in by_campaign[fx["no_planning_group_campaign"]]} == {float(idle_agents)}
    assert npg["recommendation"]["status"] == "not_applicable"  # progressive: no pacing knob we set

    # Skill and the recommendation in real fields and units.
    assert normal["skill"]["hours_evaluated"] > 0 and normal["skill"]["mase"] > 0
    rec = normal["recommendation"]
    assert rec["field"] == "maxCallsPerAgentDecimal"
    assert 1.0 <= rec["after"]["maxCallsPerAgentDecimal"] <= 4.0
    assert rec["after"]["abandonRate"] <= 3.0 and rec["after"]["abandonRate"] >= 0.5  # a percentage
    assert rec["explanation"]

    rows_by_entity = audit(dag_run.run_id)
    assert rows_by_entity[fx["idle_campaign"]]["status"] == "skipped"
    assert "only 0 hours" in rows_by_entity[fx["idle_campaign"]]["details"]["reason"]
    assert rows_by_entity[fx["no_planning_group_campaign"]]["details"]["capacity_source"] == "live_idle_agents"
    assert rows_by_entity[fx["normal_campaign"]]["details"]["skill"]["mae"] == normal["skill"]["mae"]
    assert rows_by_entity[DAG_ID]["details"]["apply"] is False
    [delivery] = [d for d in sandbox.webhooks("bi") if d["body"].get("pipeline") == DAG_ID]
    assert delivery["headers"].get("x-signature")  # signed (the receiver verified it)
    body = delivery["body"]
    assert body["summary"]["statuses"] == {"forecast": 3, "skipped": 1}
    assert set(body["objects"]) == set(files) - {"_manifest.json"}
    assert all(url.startswith(sandbox.s3_endpoint) for url in body["objects"].values())

    # Same window, same campaign state: byte-identical objects.
    again = run(campaign_ids=chosen)
    assert str(again.state) == "success", states(again)
    assert partition(sandbox) == files


def _changed(sandbox: Any, ids: list[str]) -> list[str]:
    recs = recommendations(partition(sandbox))
    return sorted(cid for cid in ids if (recs[cid].get("recommendation") or {}).get("should_apply"))


def test_apply_writes_one_put_per_changed_campaign_and_verifies(sandbox: Any, dag: Any) -> None:
    fx = sandbox.fixtures
    ids = [fx["normal_campaign"], fx["anomaly_campaign"], fx["no_planning_group_campaign"]]
    client = api(sandbox)
    before = {cid: client.get(f"/api/v2/outbound/campaigns/{cid}").json()
              for cid in ids}
    dag_run = run(campaign_ids=ids, apply=True)
    assert str(dag_run.state) == "success", states(dag_run)
    changed = _changed(sandbox, ids)
    assert changed, "the sandbox fixtures should need at least one change"
    puts = campaign_puts(sandbox)
    assert sorted(w["path"].rsplit("/", 1)[-1] for w in puts) == changed  # exactly one PUT each
    assert all(w["status"] == 200 for w in puts)
    assert all(isinstance(w["body"].get("version"), int) for w in puts)  # never a PUT without version
    recs = recommendations(partition(sandbox))
    for cid in changed:
        after = client.get(f"/api/v2/outbound/campaigns/{cid}").json()
        wanted = recs[cid]["recommendation"]["after"]
        for field, value in wanted.items():
            assert after[field] == pytest.approx(value)
        assert after["version"] == before[cid]["version"] + 1
        assert after["abandonRate"] <= 3.0  # a percentage at or under the target
        step = abs(after["maxCallsPerAgentDecimal"] - before[cid]["maxCallsPerAgent"]) / before[cid]["maxCallsPerAgent"]
        assert step <= 0.2 + 1e-9
        assert recs[cid]["apply"]["status"] == "APPLIED"
        row = audit(dag_run.run_id)[cid]
        assert row["details"]["applied"] is True and row["details"]["before"] != row["details"]["after"]
    # Progressive: forecast only, never written.
    assert fx["no_planning_group_campaign"] not in changed


def test_version_race_409_is_resolved_by_rereading(sandbox: Any, dag: Any) -> None:
    fx = sandbox.fixtures
    sandbox.set_faults("version_bump=0.5")
    dag_run = run(campaign_ids=[fx["normal_campaign"]], apply=True)
    assert str(dag_run.state) == "success", states(dag_run)
    puts = campaign_puts(sandbox)
    statuses = [w["status"] for w in puts]
    assert 409 in statuses and statuses[-1] == 200 and statuses.count(200) == 1, statuses
    recs = recommendations(partition(sandbox))
    assert recs[fx["normal_campaign"]]["apply"]["status"] == "APPLIED"
    # How the write went (409s seen) is run metadata: in the audit row, not in the published file.
    assert "version_conflicts" not in recs[fx["normal_campaign"]]["apply"]
    outcome = audit(dag_run.run_id)[fx["normal_campaign"]]["details"]["apply"]
    assert outcome["status"] == "APPLIED" and outcome["version_conflicts"] == statuses.count(409)


from genesys_cloud.hooks.outbound import OutboundVerbs  # noqa: E402
from genesys_cloud.hooks.writes import WriteVerbs  # noqa: E402


class FlakyWriteHook(OutboundVerbs, WriteVerbs):
    """A hook double holding one campaign: its PUTs lose their answer (after or before applying). The
    hook's real outbound verbs and versioned write run over this in-memory transport."""

    def __init__(self, campaign: dict[str, Any], apply_before_failing: list[bool]) -> None:
        self.campaign = dict(campaign)
        self.outcomes = list(apply_before_failing)
        self.puts: list[dict[str, Any]] = []

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert not params  # the decimal flag exists only on writes (SDK), issue 18
        return dict(self.campaign)

    def put(self, path: str, body: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        from genesys_cloud.exceptions import GenesysConflictError, GenesysServerError

        assert params == {"useMaxCallsPerAgentDecimal": "true"}
        self.puts.append(body)
        if body["version"] != self.campaign["version"]:
            raise GenesysConflictError(409, message="Unexpected version was provided", endpoint=path)
        applies = self.outcomes.pop(0) if self.outcomes else True
        if applies:
            self.campaign = {**body, "version": body["version"] + 1}
        if applies and not self.outcomes and len(self.puts) > 1:
            return dict(self.campaign)
        raise GenesysServerError(504, message="answer lost", endpoint=path)


def _analysed(campaign: dict[str, Any]) -> dict[str, Any]:
    from genesys_pipelines.pacing_forecast import recommend as rec
    from genesys_pipelines.pacing_forecast.params import PacingParams

    hours = [f"2026-06-11T{h:02d}:00:00+00:00" for h in range(24)]
    forecast = {"hours": hours, "mean": [0.2] * 24, "lower": [0.15] * 24, "upper": [0.25] * 24}
    typical, agents = [0.0] * 8 + [20.0] * 13 + [0.0] * 3, [30.0] * 24
    plan = rec.recommend(campaign, forecast, agents, typical, PacingParams())
    return {"campaign_id": campaign["id"], "status": "forecast", "forecast": forecast, "typical_attempts": typical,
            "capacity": {"source": "wfm_intraday_schedule", "agents": agents}, "recommendation": plan}


CAMPAIGN = {"id": "c1", "version": 7, "dialingMode": "predictive", "abandonRate": 3.0, "maxCallsPerAgent": 2,
            "maxCallsPerAgentDecimal": 2.0}


def test_lost_answer_of_a_landed_write_is_not_applied_again() -> None:
    from genesys_pipelines.pacing_forecast.params import PacingParams
    from genesys_pipelines.pacing_forecast.steps import apply_one

    hook = FlakyWriteHook(CAMPAIGN, apply_before_failing=[True])
    outcome = apply_one(hook, _analysed(CAMPAIGN), PacingParams(apply=True))  # type: ignore[arg-type]
    assert outcome["status"] == "APPLIED" and outcome["writes"] == 1 and outcome["lost_answers"] == 1
    assert len(hook.puts) == 1 and hook.campaign["version"] == 8
    assert hook.campaign["maxCallsPerAgentDecimal"] == pytest.approx(2.4)  # one 20 % step, not two


def test_lost_answer_of_a_write_that_did_not_land_is_retried_once() -> None:
    from genesys_pipelines.pacing_forecast.params import PacingParams
    from genesys_pipelines.pacing_forecast.steps import apply_one

    hook = FlakyWriteHook(CAMPAIGN, apply_before_failing=[False, True])
    outcome = apply_one(hook, _analysed(CAMPAIGN), PacingParams(apply=True))  # type: ignore[arg-type]
    assert outcome["status"] == "APPLIED" and outcome["writes"] == 2 and outcome["lost_answers"] == 1
    assert hook.campaign["version"] == 8 and hook.campaign["maxCallsPerAgentDecimal"] == pytest.approx(2.4)


def test_a_retried_task_finds_the_plan_applied_and_does_not_write() -> None:
    from genesys_pipelines.pacing_forecast.params import PacingParams
    from genesys_pipelines.pacing_forecast.steps import apply_one

    analysed = _analysed(CAMPAIGN)
    done = {**CAMPAIGN, **analysed["recommendation"]["after"], "version": 8}
    hook = FlakyWriteHook(done, apply_before_failing=[])
    outcome = apply_one(hook, analysed, PacingParams(apply=True))  # type: ignore[arg-type]
    assert outcome["status"] == "ALREADY_APPLIED" and hook.puts == []


def test_api_reads_run_in_the_pool_and_the_fitting_outside_it(airflow_db: Path) -> None:
    from genesys_cloud.config import settings

    tasks = load_dag().task_dict
    assert tasks["fetch_inputs"].pool == settings().api_pool
    assert tasks["analyse"].pool != settings().api_pool  # STL/ETS, backtest and the chart hold no API slot
    assert {t.task_id for t in tasks["analyse"].upstream_list} >= {"fetch_inputs", "recorded_plans"}
