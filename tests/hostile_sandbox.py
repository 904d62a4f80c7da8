"""Hostile answers through the real sandbox (issue 17, proof): the two writers' production steps over the
provider's real hook and HTTP, with the sandbox's ``hostile=KIND@TARGET#N`` fault making one read answer
valid-but-wrong JSON, at the planning read (N=1) or at the re-read before the PUT (N=2).

The sandbox's write journal (``GET /_sandbox/writes``) is the truth of what landed; the oracle of
``tests/hostile_writes.py`` judges every landed body against the state it replaced (read before the case),
and every landed campaign must have a write-ahead audit row (a real ``WriteAheadJournal`` on SQLite) that
says a write landed or may have. ``tests/plugins/test_hostile_sandbox_writes.py`` asserts every case;
``tools/chaos.py`` adds the figures to its ``WRITES`` line.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_writes as hw  # noqa: E402

from genesys_cloud.sinks.audit import AuditSink, WriteAheadJournal  # noqa: E402
from genesys_pipelines.pacing_forecast import recommend as rec  # noqa: E402
from genesys_pipelines.pacing_forecast import steps as pacing  # noqa: E402
from genesys_pipelines.schedule_provisioning import steps as provisioning  # noqa: E402
from genesys_sandbox.org import FIXTURES  # noqa: E402

CAMPAIGN = FIXTURES["normal_campaign"]  # predictive, and has a schedule in the coming days
REQUESTED = {"start": "2026-07-01T09:00:00Z", "end": "2026-07-01T12:00:00Z"}
SCHEDULE_KINDS = ("null", "empty_list", "empty_object", "intervals_missing", "zero_interval", "wrong_zone",
                  "version_missing")
CAMPAIGN_KINDS = ("null", "empty_list", "empty_object", "abandon_negative", "version_missing")
# The recommendation's guard rails: a target the fixture's current abandon rate (3 %) sits under, so the
# clean run raises the calls per agent by at most the step (a write that lands).
PARAMS = hw.PARAMS


@dataclass
class SandboxCase:
    name: str
    writer: str  # "provisioning" | "pacing"
    spec: str  # the sandbox fault spec ("" = clean)
    expect_write: bool = False


def cases() -> list[SandboxCase]:
    out = [SandboxCase("provisioning: clean", "provisioning", "", True),
           SandboxCase("pacing: clean", "pacing", "", True)]
    for nth, where in ((1, "at plan"), (2, "before the PUT")):
        out += [SandboxCase(f"provisioning: schedule {where}: {k}", "provisioning", f"hostile={k}@schedule#{nth}")
                for k in SCHEDULE_KINDS]
        out += [SandboxCase(f"pacing: campaign {where}: {k}", "pacing", f"hostile={k}@campaign#{nth}")
                for k in CAMPAIGN_KINDS]
    out += [SandboxCase(f"provisioning: campaign at plan: {k}", "provisioning", f"hostile={k}@campaign#1")
            for k in ("null", "empty_object")]
    return out


@dataclass
class SandboxResult:
    name: str
    landed: int
    audited: int
    unintended: list[str]
    outcome: str
    injected: int


def _context() -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="hostile_sandbox", run_id="manual__1", task_id="apply", map_index=-1, try_number=1)
    return {"ti": ti}


def _journal(audit_db: Path, event: str, entity_type: str) -> WriteAheadJournal:
    sink = AuditSink(engine=sa.create_engine(f"sqlite:///{audit_db}"))
    return WriteAheadJournal(_context(), hw.RUN_AFTER, hw.RUN_AFTER, event, entity_type, sink=sink)


def _says_landed(rows: list[dict[str, Any]], entity_id: str) -> bool:
    for row in rows:
        details = row["details"] if isinstance(row["details"], dict) else json.loads(row["details"] or "{}")
        if row["entity_id"] == entity_id and (details.get("write_may_have_landed") or (
                details.get("writes") and row["status"] in ("SUCCESS", "APPLIED", "ALREADY_APPLIED"))):
            return True
    return False


def _provisioning(hook: Any, journal: WriteAheadJournal) -> str:
    run = {"mode": "manual", "run_type": "manual", "dry_run": False, "policy": "refuse", "source": "test",
           "horizon_days": 60, "run_after": hw.RUN_AFTER.isoformat(), "max_write_attempts": 3,
           "fail_on_conflict": False, "deliver_webhook": False, "campaign_ids": [CAMPAIGN],
           "requests": [{"campaign_id": CAMPAIGN, "intervals": [REQUESTED]}]}
    try:
        entries = provisioning.plan_for_run(run, provisioning.read_facts(hook, [CAMPAIGN]))
    except Exception as exc:  # noqa: BLE001 - a read step refusing before any write is a valid end
        return f"read/plan failed: {type(exc).__name__}"
    return ",".join(o["status"] for o in provisioning.apply_run(hook, run, entries, journal))


def _pacing(hook: Any, journal: WriteAheadJournal) -> str:
    try:  # the analysis' read (N=1), checked like fetch_inputs, then the recommendation
        campaign = rec.check_campaign_read(pacing.read_campaign(hook, CAMPAIGN))
        capacity = pacing.cap.capacity_from_idle_agents(hw.FORECAST["hours"], {"idleAgents": 10}, "test")
        typical = [50.0] * 24
        plan = rec.recommend(campaign, hw.FORECAST, capacity["agents"], typical, PARAMS, 0.3)
    except Exception as exc:  # noqa: BLE001 - the analysis refusing a hostile read: no write
        return f"analysis failed: {type(exc).__name__}"
    result = {"campaign_id": CAMPAIGN, "status": "forecast", "recommendation": plan, "forecast": hw.FORECAST,
              "capacity": capacity, "typical_attempts": typical, "history_rate": 0.3}
    outcomes = pacing.apply_all(hook, [result], PARAMS, {}, journal)  # the re-read before the PUT is N=2
    return ",".join(o["status"] for o in outcomes.values()) or "no write planned"


def run_case(case: SandboxCase, admin: httpx.Client, hook_factory: Callable[[], Any], workdir: Path) -> SandboxResult:
    """Reset the sandbox, note the true state, set the fault, run the writer, judge the write journal."""
    admin.post("/_sandbox/reset", json={}).raise_for_status()
    admin.post("/_sandbox/faults", json={"spec": ""}).raise_for_status()
    hook = hook_factory()
    truth = {"schedule": copy.deepcopy(hook.get(f"/api/v2/outbound/schedules/campaigns/{CAMPAIGN}")),
             "campaign": copy.deepcopy(hook.get(f"/api/v2/outbound/campaigns/{CAMPAIGN}"))}
    before = len(admin.get("/_sandbox/writes").json())
    admin.post("/_sandbox/faults", json={"spec": case.spec}).raise_for_status()
    audit_db = workdir / f"audit-{abs(hash(case.name))}.db"
    audit_db.unlink(missing_ok=True)
    if case.writer == "provisioning":
        journal = _journal(audit_db, "schedule_write", "campaign_schedule")
        outcome = _provisioning(hook, journal)
    else:
        journal = _journal(audit_db, "pacing_write", "outbound_campaign")
        outcome = _pacing(hook, journal)
    injected = int((admin.get("/_sandbox/faults").json().get("injected") or {}).get("hostile", 0))
    admin.post("/_sandbox/faults", json={"spec": ""}).raise_for_status()
    landed = [w for w in admin.get("/_sandbox/writes").json()[before:]
              if w["method"] in ("PUT", "DELETE") and 200 <= int(w["status"]) < 300 or w.get("fault")]
    try:
        rows = journal.sink.rows()
    except sa.exc.OperationalError:  # no row was ever written: the table does not exist
        rows = []
    bad = []
    for write in landed:
        kind = "delete" if write["method"] == "DELETE" else (
            "schedule" if "/schedules/" in write["path"] else "campaign")
        why = hw.unintended(kind, write["body"] or {}, truth["schedule" if kind != "campaign" else "campaign"], PARAMS)
        if why:
            bad.append(f"{write['method']} {write['path']}: {why}")
    landed_ids = {w["path"].rstrip("/").split("/")[-1] for w in landed}
    return SandboxResult(case.name, len(landed_ids), sum(1 for cid in landed_ids if _says_landed(rows, cid)), bad,
                         outcome, injected)


def run_all(sandbox_url: str, hook_factory: Callable[[], Any]) -> dict[str, Any]:
    """Every case against a running sandbox; the figures for the WRITES line and the failing cases."""
    results: list[SandboxResult] = []
    with httpx.Client(base_url=sandbox_url, timeout=30) as admin, tempfile.TemporaryDirectory() as tmp:
        for case in cases():
            results.append(run_case(case, admin, hook_factory, Path(tmp)))
    hostile = [r for r, c in zip(results, cases(), strict=True) if c.spec]
    return {
        "sandbox_cases": len(results),
        "sandbox_unintended": sum(len(r.unintended) for r in results),
        "sandbox_landed": sum(r.landed for r in results),
        "sandbox_audited": sum(r.audited for r in results),
        "failures": [r for r in results if r.unintended or r.landed != r.audited]
        + [r for r in hostile if r.injected != 1],
    }
