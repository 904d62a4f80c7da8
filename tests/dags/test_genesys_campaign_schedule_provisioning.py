"""genesys_campaign_schedule_provisioning end to end: dag.test() against the sandbox.

Expectations are computed independently from the sandbox's own org model (same seed and clock) and
checked against the sandbox's write log, its stored schedules (read through the API), the webhook
inbox and the audit rows.
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "genesys_campaign_schedule_provisioning"
SCHEDULE_TEMPLATE = "/api/v2/outbound/schedules/campaigns/{campaignId}"
CLOCK = datetime(2026, 6, 11, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def dag(airflow_db: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{DAG_ID}.py"))
    assert bag.import_errors == {}
    dag = bag.dags[DAG_ID]
    # dag.test() merges run_conf into the DAG object's params in place, so a later run would inherit an
    # earlier run's values: every run below passes the full set, starting from the declared defaults.
    DEFAULTS.update(copy.deepcopy(dag.params.dump()))
    return dag


@pytest.fixture
def org(sandbox: Any) -> Any:
    """The sandbox org as built for its seed and clock (an independent view of the fixtures)."""
    from genesys_sandbox.org import build_org

    return build_org(sandbox.seed, datetime.fromisoformat(sandbox.clock.replace("Z", "+00:00")))


def _token(sandbox: Any) -> str:
    response = httpx.post(
        f"{sandbox.sandbox_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client", "sandbox-secret"),
    )
    response.raise_for_status()
    return response.json()["access_token"]


def stored_schedule(sandbox: Any, campaign_id: str) -> dict[str, Any] | None:
    response = httpx.get(
        f"{sandbox.sandbox_url}/api/v2/outbound/schedules/campaigns/{campaign_id}",
        headers={"Authorization": f"Bearer {_token(sandbox)}"},
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


def schedule_writes(sandbox: Any) -> list[dict[str, Any]]:
    return [w for w in sandbox.writes() if w["template"] == SCHEDULE_TEMPLATE]


_RUNS = itertools.count(start=101)  # run ids apart from other modules' runs at the sandbox clock
DEFAULTS: dict[str, Any] = {}


def run(dag: Any, conf: dict[str, Any]) -> Any:
    """One dag.test() run; each gets its own run_after (a few seconds apart, so run ids differ)."""
    return dag.test(run_after=CLOCK + timedelta(seconds=next(_RUNS)), run_conf={**DEFAULTS, **conf})


def audit(dag_run: Any, event: str = "schedule_provisioning") -> dict[str, dict[str, Any]]:
    from genesys_cloud.sinks.audit import AuditSink

    rows = AuditSink().rows(dag_id=DAG_ID, run_id=dag_run.run_id, event=event)
    return {r["entity_id"]: r for r in rows}


def task_states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dag_run.get_task_instances()}


def manual(campaign_id: str, **kw: Any) -> dict[str, Any]:
    return {"mode": "manual", "campaign_id": campaign_id, "dry_run": False, **kw}


def iv(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


def test_create_then_noop_rerun(dag: Any, sandbox: Any) -> None:
    idle = sandbox.fixtures["idle_campaign"]
    assert stored_schedule(sandbox, idle) is None
    conf = manual(
        idle, intervals=[iv("2026-06-22T13:00:00Z", "2026-06-22T16:00:00Z")], time_zone="America/New_York"
    )

    first = run(dag, conf)
    assert first.state == "success", task_states(first)
    puts = [w for w in schedule_writes(sandbox) if w["method"] == "PUT"]
    assert [(w["path"].rsplit("/", 1)[1], w["status"]) for w in puts] == [(idle, 200)]
    assert "version" not in puts[0]["body"]  # a create carries no version
    stored = stored_schedule(sandbox, idle)
    # 13:00-16:00 UTC is 09:00-12:00 New York wall clock, which is what a schedule in that zone stores
    # (issue 17: old main stored 13:00Z, which the dialer reads as 13:00 New York time).
    assert stored["intervals"] == [iv("2026-06-22T09:00:00.000Z", "2026-06-22T12:00:00.000Z")]
    assert stored["timeZone"] == "America/New_York" and stored["version"] == 1
    assert puts[0]["body"]["intervals"] == [iv("2026-06-22T09:00:00.000", "2026-06-22T12:00:00.000")]
    row = audit(first)[idle]
    assert row["status"] == "SUCCESS" and row["details"]["plan"]["action"] == "create"
    assert row["details"]["before"] is None and row["details"]["after"]["version"] == 1
    hooks = [d["body"] for d in sandbox.webhooks("bi") if d["body"].get("event") == "schedule_provisioning"]
    assert [c["status"] for h in hooks for c in h["campaigns"]] == ["SUCCESS"]

    second = run(dag, conf)
    assert second.state == "success", task_states(second)
    assert len([w for w in schedule_writes(sandbox) if w["method"] == "PUT"]) == 1  # zero new PUTs
    assert audit(second)[idle]["status"] == "NOOP"
    assert stored_schedule(sandbox, idle)["version"] == 1


def test_update_merges_windows_and_keeps_existing(dag: Any, sandbox: Any, org: Any) -> None:
    normal = sandbox.fixtures["normal_campaign"]
    before = org.schedules[normal]
    new = iv("2026-06-20T17:00:00.000Z", "2026-06-20T19:00:00.000Z")
    result = run(dag, manual(normal, intervals=[new]))
    assert result.state == "success", task_states(result)
    (put,) = [w for w in schedule_writes(sandbox) if w["method"] == "PUT"]
    assert put["body"]["version"] == before["version"]
    stored = stored_schedule(sandbox, normal)
    assert stored["intervals"] == sorted(before["intervals"] + [new], key=lambda i: i["start"])
    assert stored["version"] == before["version"] + 1
    row = audit(result)[normal]
    assert row["status"] == "SUCCESS" and row["details"]["plan"]["added"] == [new]
    assert row["details"]["before"]["intervals"] == before["intervals"]


def test_prune_with_nothing_deletes_only_that_schedule(dag: Any, sandbox: Any) -> None:
    normal = sandbox.fixtures["normal_campaign"]
    result = run(dag, manual(normal, prune=True))
    assert result.state == "success", task_states(result)
    assert [(w["method"], w["path"].rsplit("/", 1)[1], w["status"]) for w in sandbox.writes()] == [
        ("DELETE", normal, 204)
    ]
    assert stored_schedule(sandbox, normal) is None
    row = audit(result)[normal]
    assert row["status"] == "SUCCESS" and row["details"]["plan"]["action"] == "delete"
    assert row["details"]["after"] is None and row["details"]["before"]["id"] == normal


def _related_with_schedule(org: Any, campaign_id: str, window: tuple[datetime, datetime]) -> set[str]:
    """Campaigns sharing the contact list or queue whose schedule overlaps ``window`` (brute force)."""
    me = org.campaigns[campaign_id]
    out = set()
    for cid, c in org.campaigns.items():
        if cid == campaign_id or cid not in org.schedules:
            continue
        shares = c["contactList"]["id"] == me["contactList"]["id"] or (
            c.get("queue") and me.get("queue") and c["queue"]["id"] == me["queue"]["id"]
        )
        for i in org.schedules[cid]["intervals"]:
            s = datetime.fromisoformat(i["start"].replace("Z", "+00:00"))
            e = datetime.fromisoformat(i["end"].replace("Z", "+00:00"))
            if shares and s < window[1] and window[0] < e:
                out.add(cid)
    return out


def test_overlap_with_higher_ranked_siblings_is_refused_then_warned(dag: Any, sandbox: Any, org: Any) -> None:
    from genesys_pipelines.schedule_provisioning.ranking import priority_score

    idle = sandbox.fixtures["idle_campaign"]
    window = (datetime(2026, 6, 13, 14, tzinfo=UTC), datetime(2026, 6, 13, 15, tzinfo=UTC))
    rivals = _related_with_schedule(org, idle, window)
    assert rivals, "fixture data changed: idle_campaign should have scheduled siblings on 13 June"

    def score(cid: str) -> float:
        c = org.campaigns[cid]
        return priority_score(c["priority"], org.contact_list_sizes[c["contactList"]["id"]])

    assert all(score(r) >= score(idle) for r in rivals)
    conf = manual(idle, intervals=[iv("2026-06-13T14:00:00Z", "2026-06-13T15:00:00Z")])

    refused = run(dag, conf)
    assert refused.state == "failed"  # fail_on_conflict, after delivering and auditing
    assert task_states(refused)["deliver"] == "failed" and task_states(refused)["apply"] == "success"
    assert schedule_writes(sandbox) == []
    row = audit(refused)[idle]
    assert row["status"] == "CONFLICT"
    conflicts = row["details"]["conflicts"]
    assert {c["other"]["campaign_id"] for c in conflicts} == rivals
    assert all(c["requested"]["campaign_id"] == idle and c["kind"] == "sibling" for c in conflicts)
    assert all(c["overlap"] == iv("2026-06-13T14:00:00.000Z", "2026-06-13T15:00:00.000Z") for c in conflicts)

    warned = run(dag, {**conf, "conflict_policy": "warn"})
    assert warned.state == "success", task_states(warned)
    assert audit(warned)[idle]["status"] == "SUCCESS"
    assert len(audit(warned)[idle]["details"]["warnings"]) == len(rivals)
    # Siblings are never written to.
    assert {w["path"].rsplit("/", 1)[1] for w in schedule_writes(sandbox)} == {idle}
    for rival in rivals:
        assert stored_schedule(sandbox, rival)["version"] == org.schedules[rival]["version"]


def test_version_conflict_is_reread_replanned_and_resolved(dag: Any, sandbox: Any, org: Any) -> None:
    normal = sandbox.fixtures["normal_campaign"]
    sandbox.set_faults("version_bump=0.5")
    new = iv("2026-06-21T18:00:00.000Z", "2026-06-21T19:00:00.000Z")
    result = run(dag, manual(normal, intervals=[new], max_write_attempts=6))
    assert result.state == "success", task_states(result)
    puts = [w for w in schedule_writes(sandbox) if w["method"] == "PUT"]
    assert [w["status"] for w in puts][-1] == 200 and 409 in [w["status"] for w in puts]
    assert [w["status"] for w in puts].count(200) == 1
    row = audit(result)[normal]
    assert row["status"] == "SUCCESS"
    assert row["details"]["version_conflicts"] == sum(1 for w in puts if w["status"] == 409)
    # Each 409 was re-read and re-planned: the successful PUT carried the then-current version.
    stored = stored_schedule(sandbox, normal)
    assert puts[-1]["body"]["version"] == stored["version"] - 1
    assert (
        new in stored["intervals"] and len(stored["intervals"]) == len(org.schedules[normal]["intervals"]) + 1
    )


def test_lost_write_is_applied_exactly_once(dag: Any, sandbox: Any, org: Any) -> None:
    normal = sandbox.fixtures["normal_campaign"]
    sandbox.set_faults("lost_write=1.0")
    new = iv("2026-06-22T18:00:00.000Z", "2026-06-22T19:00:00.000Z")
    result = run(dag, manual(normal, intervals=[new]))
    assert result.state == "success", task_states(result)
    puts = [w for w in schedule_writes(sandbox) if w["method"] == "PUT"]
    assert len(puts) == 1 and puts[0].get("fault") == "lost_write"
    stored = stored_schedule(sandbox, normal)
    assert stored["intervals"].count(new) == 1
    assert stored["version"] == org.schedules[normal]["version"] + 1
    row = audit(result)[normal]
    assert row["status"] == "SUCCESS" and row["details"]["lost_answers"] == 1


def test_dry_run_writes_nothing_and_returns_the_plan(dag: Any, sandbox: Any) -> None:
    normal = sandbox.fixtures["normal_campaign"]
    conf = {"campaign_id": normal, "intervals": [iv("2026-06-20T17:00:00Z", "2026-06-20T19:00:00Z")]}
    result = run(dag, conf)  # dag.test runs are manual: mode manual, dry_run true by default
    assert result.state == "success", task_states(result)
    assert schedule_writes(sandbox) == []
    assert [d for d in sandbox.webhooks("bi") if d["body"].get("event") == "schedule_provisioning"] == []
    row = audit(result)[normal]
    assert row["status"] == "DRY_RUN" and row["details"]["dry_run"] is True
    assert row["details"]["plan"]["action"] == "update"
    assert row["details"]["plan"]["added"] == [iv("2026-06-20T17:00:00.000Z", "2026-06-20T19:00:00.000Z")]


def test_a_manual_run_with_the_form_defaults_plans_the_desired_file_and_writes_nothing(
        dag: Any, sandbox: Any) -> None:
    """Issue 14: the trigger form submitted as it opens (no campaign) succeeds as a dry-run plan."""
    from genesys_pipelines.schedule_provisioning.desired import DEFAULT_DESIRED_PATH, load_desired

    result = run(dag, {})  # dag.test runs are manual; every param at its declared default
    assert result.state == "success", task_states(result)
    assert schedule_writes(sandbox) == []
    rows = audit(result)
    assert set(rows) == {e["campaign_id"] for e in load_desired(DEFAULT_DESIRED_PATH)}
    assert {r["status"] for r in rows.values()} == {"DRY_RUN"}
    assert all(r["details"]["dry_run"] is True for r in rows.values())


def test_reconcile_applies_the_file_then_is_a_noop(dag: Any, sandbox: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    normal, idle = sandbox.fixtures["normal_campaign"], sandbox.fixtures["idle_campaign"]
    monkeypatch.setenv("GENESYS_DESIRED_SCHEDULES_DIR", str(tmp_path))  # files resolve only under it
    desired = tmp_path / "desired.yaml"
    desired.write_text(
        f"""
campaigns:
  - campaign_id: {normal}
    delivery_window: {{start_time: "18:00", end_time: "21:00", time_zone: Europe/Dublin,
                      start_date: "2026-06-01", end_date: "2026-06-19", days_of_week: [Monday, Friday]}}
  - campaign_id: {idle}
    prune: true
    delivery_window: {{start_time: "22:00", end_time: "02:00", time_zone: America/New_York,
                      start_date: "2026-06-22", end_date: "2026-06-23"}}
"""
    )
    conf = {"mode": "reconcile", "desired_schedules_path": str(desired), "dry_run": False}
    first = run(dag, conf)
    assert first.state == "success", task_states(first)
    puts = [w for w in schedule_writes(sandbox) if w["method"] == "PUT"]
    assert sorted(w["path"].rsplit("/", 1)[1] for w in puts) == sorted([normal, idle])  # nobody else
    # Windows ended before run_after (1 and 5 June) are skipped; Mondays/Fridays 8-19 June remain,
    # 18:00 Dublin = 17:00Z in summer.
    normal_puts = [w for w in puts if w["path"].endswith(normal)]
    # Written as wall clock in the schedule's zone (UTC here): no suffix.
    added = [i for i in normal_puts[0]["body"]["intervals"] if i["start"].endswith("T17:00:00.000")]
    assert [i["start"][:10] for i in added] == ["2026-06-12", "2026-06-15", "2026-06-19"]
    # Cross-midnight New York nights: 22:00 EDT = 02:00Z next day, 4 h long.
    assert stored_schedule(sandbox, idle)["intervals"] == [
        iv("2026-06-23T02:00:00.000Z", "2026-06-23T06:00:00.000Z"),
        iv("2026-06-24T02:00:00.000Z", "2026-06-24T06:00:00.000Z"),
    ]
    assert {k: r["status"] for k, r in audit(first).items()} == {normal: "SUCCESS", idle: "SUCCESS"}

    again = run(dag, conf)
    assert again.state == "success", task_states(again)
    assert len([w for w in schedule_writes(sandbox) if w["method"] == "PUT"]) == 2  # no new PUT
    assert {k: r["status"] for k, r in audit(again).items()} == {normal: "NOOP", idle: "NOOP"}


def test_shipped_desired_file_reconciles_cleanly(dag: Any, sandbox: Any, org: Any) -> None:
    """The demo: the file shipped in include/ applies to the sandbox fixtures without a conflict."""
    from genesys_pipelines.schedule_provisioning.desired import DEFAULT_DESIRED_PATH, load_desired

    listed = {e["campaign_id"] for e in load_desired(DEFAULT_DESIRED_PATH)}
    result = run(dag, {"mode": "reconcile", "dry_run": False})
    assert result.state == "success", task_states(result)
    rows = audit(result)
    assert set(rows) == listed and {r["status"] for r in rows.values()} == {"SUCCESS"}
    assert {w["path"].rsplit("/", 1)[1] for w in schedule_writes(sandbox)} == listed
    normal = sandbox.fixtures["normal_campaign"]
    # Merge: the normal fixture keeps its existing windows.
    # (compared as instants: a timeZone change re-expresses the existing windows in the new zone's wall
    # clock, so their strings change while their instants do not, issue 17)
    from genesys_pipelines.schedule_provisioning.planning import current_intervals

    kept = set(current_intervals(stored_schedule(sandbox, normal)))
    assert set(current_intervals(org.schedules[normal])) <= kept


@pytest.mark.parametrize(
    ("conf", "failed_task"),
    [
        (
            {
                "mode": "manual",
                "campaign_id": "c0ffee00-0000-4000-8000-000000000003",
                "intervals": [{"start": "2026-06-20T10:00:00", "end": "2026-06-20T11:00:00Z"}],
            },
            "validate_params",
        ),
        (
            {
                "mode": "manual",
                "campaign_id": "c0ffee00-0000-4000-8000-000000000003",
                "intervals": [{"start": "2026-06-01T10:00:00Z", "end": "2026-06-01T11:00:00Z"}],
            },
            "validate_params",
        ),
        ({"mode": "manual"}, "validate_params"),
        ({"mode": "reconcile", "desired_schedules_path": "/nonexistent/desired.yaml"}, "validate_params"),
        (
            {
                "mode": "manual",
                "campaign_id": "c0ffee00-0000-4000-8000-00000000dead",
                "dry_run": False,
                "intervals": [{"start": "2026-06-20T10:00:00Z", "end": "2026-06-20T11:00:00Z"}],
            },
            "read",
        ),
    ],
    ids=["naive-datetime", "in-the-past", "no-campaign", "missing-file", "unknown-campaign"],
)
def test_bad_params_fail_before_any_write(dag: Any, sandbox: Any, conf: dict, failed_task: str) -> None:
    result = run(dag, conf)
    assert result.state == "failed"
    states = task_states(result)
    assert states[failed_task] == "failed", states
    assert states["apply"] != "success"
    # the teardown has no plan to deliver: it says so and skips (it used to crash with a TypeError)
    assert states["deliver"] == "skipped", states
    assert sandbox.writes() == []
    if failed_task == "validate_params":
        api_calls = [k for k in sandbox.counters() if " /api/v2/" in k]
        assert api_calls == []
