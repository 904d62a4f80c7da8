"""What a provisioning run delivers: the signed webhook with each campaign's outcome, and the audit rows.

A provisioning run has no reporting window (and no partition): audit rows and the webhook key use the
run's ``run_after`` as both bounds, so a task retry upserts the same rows and re-sends the same key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

EVENT = "schedule_provisioning"


def campaign_results(entries: Sequence[Mapping[str, Any]], outcomes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One line per campaign: plan, decision and what the write did."""
    by_id = {o["campaign_id"]: o for o in outcomes}
    campaigns = []
    for entry in entries:
        outcome = by_id[entry["campaign_id"]]
        campaigns.append({
            "campaign_id": entry["campaign_id"],
            "campaign_name": entry["campaign_name"],
            "rank": entry["rank"],
            "score": entry["score"],
            "status": outcome["status"],
            "action": outcome["action"],
            # From the reads at the write (before/after), else the plan's read (dry runs, refusals).
            "added": outcome.get("added", entry["plan"]["added"]),
            "removed": outcome.get("removed", entry["plan"]["removed"]),
            "conflicts": entry["conflicts"] + outcome.get("conflicts", []),
            "warnings": entry["warnings"],
            "reasons": entry["reasons"],
            "version_before": outcome["version_before"],
            "version_after": outcome["version_after"],
            "writes": outcome["writes"],
            "version_conflicts": outcome["version_conflicts"],
            "lost_answers": outcome["lost_answers"],
            "error": outcome["error"],
            # NOT_APPROVED only: why, machine-readable (genesys_pipelines.approval.CAUSES)
            **({"cause": outcome["cause"]} if outcome.get("cause") else {}),
        })
    return campaigns


def not_applied(entries: Sequence[Mapping[str, Any]], reason: str) -> list[dict[str, Any]]:
    """Outcomes when apply did not run (approval rejected or timed out, or apply crashed): nothing written
    by this task; refused entries stay CONFLICT, dry runs DRY_RUN."""
    out = []
    for entry in entries:
        plan = entry["plan"]
        status = "CONFLICT" if entry.get("refused") else "NOOP" if plan["action"] == "noop" else "NOT_APPLIED"
        out.append({"campaign_id": entry["campaign_id"], "status": status, "action": plan["action"], "writes": 0,
                    "version_conflicts": 0, "lost_answers": 0, "before": plan["before"], "after": plan["before"],
                    "version_before": plan["version"], "version_after": plan["version"], "latency_ms": 0.0,
                    "error": None if status != "NOT_APPLIED" else reason})
    return out


def counts(campaigns: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in campaigns:
        out[c["status"]] = out.get(c["status"], 0) + 1
    return dict(sorted(out.items()))


def summary(entries: Sequence[Mapping[str, Any]], outcomes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the deliver step returns (and fails the run on): counts, failed and refused campaign ids."""
    campaigns = campaign_results(entries, outcomes)
    return {"counts": counts(campaigns),
            "failed": [c["campaign_id"] for c in campaigns if c["status"] == "FAILED"],
            "refused": [c["campaign_id"] for c in campaigns if c["status"] == "CONFLICT"]}


def delivery(run: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], outcomes: Sequence[Mapping[str, Any]],
             identity: Mapping[str, Any]) -> dict[str, Any]:
    """The provider ``Delivery`` fields: no partition; the webhook (never for dry runs); one audit row per
    campaign plus a run row. ``identity`` is the running task's (dag_id, run_id)."""
    campaigns = campaign_results(entries, outcomes)
    by_id = {o["campaign_id"]: o for o in outcomes}
    payload = {
        "event": EVENT,
        "dag_id": identity["dag_id"],
        "run_id": identity["run_id"],
        "mode": run["mode"],
        "dry_run": run["dry_run"],
        "policy": run["policy"],
        "source": run["source"],
        "run_after": run["run_after"],
        "counts": counts(campaigns),
        "campaigns": campaigns,
    }

    def audit(published: Any) -> list[dict[str, Any]]:
        webhook = (published.webhook or {}).get("status_code")
        rows = []
        for c, entry in zip(campaigns, entries, strict=True):
            outcome = by_id[entry["campaign_id"]]
            rows.append({
                "event": EVENT, "entity_type": "campaign_schedule", "entity_id": c["campaign_id"],
                "status": c["status"], "latency_ms": outcome["latency_ms"], "record_count": c["writes"],
                "details": {
                    "mode": run["mode"],
                    "dry_run": run["dry_run"],
                    "policy": run["policy"],
                    "plan": {k: v for k, v in entry["plan"].items() if k not in ("before", "after")},
                    "before": outcome["before"],
                    "after": outcome["after"],  # as read back (unchanged for dry runs and refusals)
                    "planned": entry["plan"]["after"],
                    **{k: c[k] for k in ("rank", "score", "conflicts", "warnings", "reasons", "error")},
                    **{k: c[k] for k in ("cause",) if k in c},
                    **{k: c[k] for k in ("version_conflicts", "lost_answers", "version_before", "version_after")},
                },
            })
        rows.append({
            "event": f"{EVENT}_run", "entity_type": "run",
            "status": "FAILED" if payload["counts"].get("FAILED") else "SUCCESS", "record_count": len(campaigns),
            "details": {"counts": payload["counts"], "mode": run["mode"], "dry_run": run["dry_run"],
                        "webhook": webhook},
        })
        return rows

    return {
        "event": f"{EVENT}:{identity['run_id']}",
        "partition": False,
        "payload": (lambda published: payload) if run["deliver_webhook"] and not run["dry_run"] else None,
        "audit": audit,
    }
