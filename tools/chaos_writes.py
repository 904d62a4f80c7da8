"""The writes of ``make chaos`` with approvals answered over REST inside the run (issue 17).

The chaos equivalence part runs the pipelines with ``dag.test()``, which cannot answer a human approval,
so there approvals are off. This step runs the two writing pipelines on the native distributed stack
(tools/native_stack.py): a provisioning apply (manual reconcile) and a pacing apply (``apply: true``) for
the demo day, each waiting in ``awaiting_input`` until it is answered with a person's ``Approve`` over
``PATCH …/hitlDetails`` (as the UI sends it); plus one provisioning run answered ``Reject`` and one whose
approval is forged (an ``Approve`` XCom written over REST, the waiting task marked success by hand). apply reads
the recorded answer itself from the api-server. Then it counts the writes that landed (the sandbox's
write journal, ``GET /_sandbox/writes``) against the write-ahead audit rows in the stack's PostgreSQL.

    python tools/chaos_writes.py      # prints one STACK_WRITES line
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

PROVISIONING = "genesys_campaign_schedule_provisioning"
PACING = "genesys_campaign_pacing_forecast"
RUN_TIMEOUT = 420.0
TERMINAL = {"success", "failed"}
FORGE = "forged XCom + marked success"


def _forge(api: Any, dag_id: str, run_id: str) -> None:
    """A forged approval: the approval task's XCom says Approve (written over REST), and the task waiting
    for a person is marked success by hand. apply must find no recorded answer and write nothing."""
    base = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/approve"
    forged = {"chosen_options": ["Approve"], "params_input": {}, "responded_at": "2026-06-11T07:00:00+00:00",
              "responded_by_user": {"id": "admin", "name": "admin"}}
    api.post(f"{base}/xcomEntries", json={"key": "return_value", "value": forged, "map_index": -1}).raise_for_status()
    api.patch(base, json={"new_state": "success"}).raise_for_status()


def _conf(campaigns: list[str]) -> dict[str, dict[str, Any]]:
    from datetime import date, timedelta

    from genesys_sandbox.devstack import DEMO_DATE

    end = (date.fromisoformat(DEMO_DATE) + timedelta(days=1)).isoformat()
    return {PROVISIONING: {"mode": "reconcile", "dry_run": False},
            PACING: {"apply": True, "start": DEMO_DATE, "end": end, "campaign_ids": campaigns,
                     "replace_partition": True}}


def _audit_rows(database: str, run_ids: list[str]) -> list[dict[str, Any]]:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT run_id, entity_type, entity_id, status, details FROM genesys_audit "
                        "WHERE run_id = ANY(%s)", (run_ids,))
            return [{"run_id": r[0], "kind": "schedule" if r[1] == "campaign_schedule" else "campaign",
                     "entity_id": r[2], "status": r[3], "details": json.loads(r[4] or "{}")} for r in cur.fetchall()]
    finally:
        conn.close()


def _says_landed(row: dict[str, Any]) -> bool:
    details = row["details"]
    return bool(details.get("write_may_have_landed") or (
        details.get("writes") and row["status"] in ("SUCCESS", "APPLIED", "ALREADY_APPLIED")))


def run_stack_writes() -> dict[str, Any]:
    """Start the stack, run the three write runs with REST answers, count landed vs audited writes."""
    import httpx
    from native_stack import services_available, start_native_stack

    from genesys_sandbox.org import FIXTURES
    from tests import approvals

    available, why = services_available()
    if not available:
        raise RuntimeError(f"the native stack needs PostgreSQL and Redis on loopback: {why}")
    workdir = Path(tempfile.mkdtemp(prefix="genesys-chaos-writes-"))
    # The demo day is in the sandbox's past: lift the pacing staleness age as make demo does.
    stack = start_native_stack(workdir, worker_concurrency=2, extra_env={"GENESYS_PACING_MAX_AGE_H": str(24 * 3650)})
    started = time.monotonic()
    try:
        stack.wait_for_dags([PROVISIONING, PACING], timeout=300)
        api = httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.token()}"}, timeout=30)
        sandbox = httpx.Client(base_url=stack.devstack.sandbox_url, timeout=30)
        for dag_id in (PROVISIONING, PACING):
            api.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        conf = _conf([FIXTURES["normal_campaign"], FIXTURES["no_planning_group_campaign"]])
        # FORGE: nobody answers; an XCom "Approve" is written over REST and the waiting approval task is
        # marked success by hand (what a user with XCom and task-state rights could do): no write may land.
        plan = [(PROVISIONING, "Reject"), (PROVISIONING, FORGE), (PROVISIONING, "Approve"), (PACING, "Approve")]
        runs: list[dict[str, Any]] = []
        for dag_id, choice in plan:  # one at a time: the provisioning DAG allows one active run
            writes_before = len(sandbox.get("/_sandbox/writes").json())
            response = api.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf[dag_id]})
            response.raise_for_status()
            run = {"dag_id": dag_id, "run_id": response.json()["dag_run_id"], "choice": choice, "answered": False}
            deadline = time.monotonic() + RUN_TIMEOUT
            while time.monotonic() < deadline:
                if not run["answered"]:
                    request = api.get(approvals.hitl_path(dag_id, run["run_id"]))
                    if request.status_code == 200 and choice == FORGE:
                        _forge(api, dag_id, run["run_id"])
                        run["answered"] = True
                    elif request.status_code == 200:
                        approvals.answer(api, dag_id, run["run_id"], choice)
                        run["answered"] = True
                state = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run['run_id']}").json()["state"]
                if state in TERMINAL:
                    run["state"] = state
                    break
                time.sleep(1.5)
            else:
                run["state"] = "timeout"
            run["writes"] = sum(1 for w in sandbox.get("/_sandbox/writes").json()[writes_before:]
                                if w["method"] in ("PUT", "DELETE"))
            runs.append(run)
        writes = [w for w in sandbox.get("/_sandbox/writes").json()
                  if w["method"] in ("PUT", "DELETE") and (200 <= int(w["status"]) < 300 or w.get("fault"))]
        rows = _audit_rows(stack.database, [r["run_id"] for r in runs])
        # (schedule|campaign, campaign id): both writers may write the same campaign
        landed_ids = {("schedule" if "/schedules/" in w["path"] else "campaign", w["path"].rstrip("/").split("/")[-1])
                      for w in writes}
        audited_ids = {(r["kind"], r["entity_id"]) for r in rows if _says_landed(r)}
        refused = {r["run_id"] for r in runs if r["choice"] in ("Reject", FORGE)}
        refused_rows = [r for r in rows if r["run_id"] in refused and _says_landed(r)]
        return {
            "stack_runs": len(runs),
            "stack_approvals_answered": sum(1 for r in runs if r["answered"]),
            "stack_runs_succeeded": sum(1 for r in runs if r.get("state") == "success"),
            "stack_landed": len(landed_ids),
            "stack_audited": len(landed_ids & audited_ids),
            "stack_writes_after_reject": sum(r["writes"] for r in runs if r["choice"] == "Reject"),
            "stack_writes_after_forgery": sum(r["writes"] for r in runs if r["choice"] == FORGE),
            "stack_refused_audited_as_landed": len(refused_rows),
            "stack_s": round(time.monotonic() - started),
            "runs": runs,
        }
    finally:
        stack.stop()


def main() -> int:
    figures = run_stack_writes()
    runs = figures.pop("runs")
    for run in runs:
        print(f"    {run['dag_id']} {run['run_id']}: answered {run['choice'] if run['answered'] else 'never'} → {run.get('state')}")
    print("STACK_WRITES " + " ".join(f"{k}={v}" for k, v in figures.items()))
    ok = (figures["stack_landed"] and figures["stack_landed"] == figures["stack_audited"]
          and figures["stack_approvals_answered"] == figures["stack_runs"] and not figures["stack_writes_after_reject"]
          and not figures["stack_writes_after_forgery"] and not figures["stack_refused_audited_as_landed"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
