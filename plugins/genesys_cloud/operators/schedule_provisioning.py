"""Genesys calls of the campaign schedule provisioning pipeline (genesys-api.md §3d, §2.3).

Small functions over a :class:`~genesys_cloud.hooks.genesys_cloud.GenesysCloudHook` (passed in, so the
DAG's tasks stay one-liners). Overlap detection, ranking and planning are pure, in
``genesys_pipelines.schedule_provisioning``. Only the requested campaigns' schedules are ever written:
sibling campaigns are read, never written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import ValidationError

from genesys_cloud.exceptions import (
    GenesysApiError,
    GenesysConflictError,
    GenesysNotFoundError,
    GenesysPayloadError,
    GenesysRateLimitError,
    GenesysServerError,
    GenesysTransportError,
    GenesysValidationError,
)
from genesys_pipelines.models.outbound import Campaign, CampaignSchedule
from genesys_pipelines.schedule_provisioning.apply import own_conflicts, replan, verified
from genesys_pipelines.schedule_provisioning.engine import plan_run
from genesys_pipelines.schedule_provisioning.params import ParamsError, resolve_requests
from genesys_pipelines.schedule_provisioning.planning import Plan, schedules_equal
from genesys_pipelines.schedule_provisioning.requests import ScheduleRequest, horizon_end, parse_requests

if TYPE_CHECKING:
    from genesys_cloud.hooks.genesys_cloud import GenesysCloudHook

log = logging.getLogger(__name__)

CAMPAIGNS_PATH = "/api/v2/outbound/campaigns"
SCHEDULES_PATH = "/api/v2/outbound/schedules/campaigns"
CONTACT_LIST_PATH = "/api/v2/outbound/contactlists/{}"


def schedule_path(campaign_id: str) -> str:
    return f"{SCHEDULES_PATH}/{quote(campaign_id, safe='')}"


def checked(model: type[Campaign | CampaignSchedule], body: Any, what: str, *, needs_id: bool = True) -> Any:
    """``body`` checked against the shared API model before anything is planned from it: a broken answer
    (wrong type, unknown enum, missing id) fails naming the field, never reaches a PUT."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise GenesysPayloadError(f"malformed {what}: {field}: {first['msg']}") from None
    if needs_id and not body.get("id"):
        raise GenesysPayloadError(f"malformed {what}: missing required field id")
    return body


def read_schedule(hook: GenesysCloudHook, campaign_id: str) -> dict[str, Any] | None:
    """The campaign's schedule, or None when it has none (the API answers 404)."""
    try:
        body = hook.get(schedule_path(campaign_id))
    except GenesysNotFoundError:
        return None
    return checked(CampaignSchedule, body, f"schedule of campaign {campaign_id}", needs_id=False)


def _facts(campaign: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": campaign.get("id"),
        "name": campaign.get("name"),
        "priority": campaign.get("priority"),
        "status": campaign.get("campaignStatus"),
        "contactListId": (campaign.get("contactList") or {}).get("id"),
        "queueId": (campaign.get("queue") or {}).get("id"),
    }


def _contact_list_size(hook: GenesysCloudHook, list_id: str) -> int | None:
    try:
        body = hook.get(CONTACT_LIST_PATH.format(quote(list_id, safe="")), {"includeSize": "true"})
    except GenesysNotFoundError:
        return None
    size = body.get("size") if isinstance(body, dict) else None
    return int(size) if isinstance(size, int | float) else None


def _siblings(hook: GenesysCloudHook, fact: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Campaigns sharing the contact list or the queue (the listing's server-side filters)."""
    filters = []
    if fact["contactListId"]:
        filters.append({"contactListId": fact["contactListId"]})
    if fact["queueId"]:
        filters.append({"distributionQueueId": fact["queueId"]})
    for params in filters:
        yield from hook.paginate(CAMPAIGNS_PATH, params, page_size=100)


def read_facts(hook: GenesysCloudHook, campaign_ids: list[str]) -> dict[str, dict[str, Any]]:
    """What the plan needs, per requested campaign and per sibling (see ``engine`` for the shape).

    A requested campaign that does not exist fails the run naming it (a typo must not pass as a
    create). Requested campaigns' schedules come from their own GET (it carries the freshest
    ``version``); siblings' from the one unpaged array of every schedule.
    """
    facts: dict[str, dict[str, Any]] = {}
    for cid in campaign_ids:
        try:
            campaign = hook.get(f"{CAMPAIGNS_PATH}/{quote(cid, safe='')}")
        except GenesysNotFoundError as exc:
            raise GenesysValidationError(f"campaign_id: no such outbound campaign {cid}") from exc
        checked(Campaign, campaign, f"campaign {cid}")
        facts[cid] = {**_facts(campaign), "schedule": read_schedule(hook, cid)}

    all_schedules = hook.get(SCHEDULES_PATH)
    if not isinstance(all_schedules, list):
        raise GenesysPayloadError(f"malformed {SCHEDULES_PATH}: expected an array of schedules")
    by_campaign = {
        (s.get("campaign") or {}).get("id") or s.get("id"): s
        for s in (checked(CampaignSchedule, s, "schedule in the listing") for s in all_schedules)
    }
    for cid in campaign_ids:
        for sibling in _siblings(hook, facts[cid]):
            sid = checked(Campaign, sibling, "sibling campaign in the listing")["id"]
            if sid and sid not in facts:
                facts[sid] = {**_facts(sibling), "schedule": by_campaign.get(sid)}

    sizes: dict[str, int | None] = {}
    for fact in facts.values():
        list_id = fact["contactListId"]
        if list_id and list_id not in sizes:
            sizes[list_id] = _contact_list_size(hook, list_id)
        fact["contactListSize"] = sizes.get(list_id) if list_id else None
    return facts


def _write(hook: GenesysCloudHook, plan: Plan) -> None:
    path = schedule_path(plan.campaign_id)
    if plan.action == "delete":
        try:
            hook.delete(path)
        except GenesysNotFoundError:
            pass  # already gone (e.g. an earlier try's answer was lost): that is the desired state
    else:
        hook.put(path, plan.after)


def apply_one(
    hook: GenesysCloudHook,
    request: ScheduleRequest,
    entry: dict[str, Any],
    max_attempts: int,
) -> dict[str, Any]:
    """Apply one planned entry safely; returns the outcome (status, before/after, counters).

    ``max_attempts`` bounds the writes (first try + retries after a 409 or a lost answer).
    """
    started = time.monotonic()
    cid = request.campaign_id
    name = entry.get("campaign_name")
    plan = Plan(**entry["plan"])
    outcome: dict[str, Any] = {
        "campaign_id": cid,
        "status": "FAILED",
        "action": plan.action,
        "writes": 0,
        "version_conflicts": 0,
        "lost_answers": 0,
        "error": None,
    }
    # What planning read: the audit's before/after if even the first read below is refused.
    before = current = entry["plan"]["before"]
    wrote = False
    try:
        # Read fresh state first: a retried task (or another writer) may have changed it since the plan.
        current = before = read_schedule(hook, cid)
        if plan.action != "noop" and verified(plan, current):
            # Already in the planned state: an earlier try of this task applied it and then died.
            outcome["status"] = "SUCCESS"
        else:
            if not schedules_equal(current, plan.before) or (current or {}).get("version") != plan.version:
                plan = replan(request, current, name)
            outcome["error"] = f"not applied after {max_attempts} attempts"
            for _attempt in range(max_attempts):
                if plan.action == "noop":
                    # Equal desired and current state: no write. If a write of ours landed (its answer was
                    # lost), the state equals the plan now: a success, not a no-op.
                    outcome.update(status="SUCCESS" if wrote else "NOOP", error=None)
                    break
                try:
                    outcome["writes"] += 1
                    _write(hook, plan)
                    wrote = True
                except GenesysConflictError as exc:
                    outcome["version_conflicts"] += 1
                    log.warning("409 on %s (%s): re-reading and re-planning", cid, exc)
                except GenesysRateLimitError as exc:
                    # A 429 was not processed; the token's limiter already waits Retry-After. Re-read, retry.
                    outcome["rate_limited"] = outcome.get("rate_limited", 0) + 1
                    log.warning("429 on the write of %s (%s): retrying after Retry-After", cid, exc)
                except (GenesysServerError, GenesysTransportError) as exc:
                    outcome["lost_answers"] += 1
                    wrote = True  # it may have been applied: compare before sending it again
                    log.warning("No answer for the write of %s (%s): re-reading before any retry", cid, exc)
                current = read_schedule(hook, cid)
                if wrote and verified(plan, current):
                    outcome.update(status="SUCCESS", error=None)
                    break
                clash = own_conflicts(request, current)
                if clash:
                    outcome.update(
                        status="CONFLICT", conflicts=clash, error="another writer added overlapping windows"
                    )
                    break
                plan = replan(request, current, name)
                if plan.action != "noop":
                    outcome["action"] = plan.action
    except (GenesysApiError, GenesysPayloadError, GenesysTransportError) as exc:
        # A definitive refusal (400 invalid body, 403 missing permission, 404, a read that kept failing,
        # a malformed answer): this campaign FAILED, naming the cause. The run goes on with the other campaigns so
        # deliver audits every write already made, then fails the run.
        outcome.update(status="FAILED", error=f"{type(exc).__name__}: {exc}", write_may_have_landed=wrote)
        log.error("Schedule of campaign %s not applied: %s", cid, exc)
    # ``current`` is the last read-back: the state after our writes (the verification's evidence).
    outcome.update(
        before=before,
        after=current,
        version_before=(before or {}).get("version"),
        version_after=(current or {}).get("version"),
        latency_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return outcome


# ---------------------------------------------------------------------------------------------- run
# The DAG's tasks call these four: resolve_run (validate), plan_for_run, apply_run, deliver_run.
# ``run`` is the validate step's JSON (XCom): mode, dry_run, policy, run_after and the raw requests,
# which every later step re-parses with the same run_after (deterministic, and no pickled models).


def _run_type(context: Mapping[str, Any]) -> str | None:
    run_type = getattr(context.get("dag_run"), "run_type", None)
    return getattr(run_type, "value", run_type)


def _run_after(context: Mapping[str, Any]) -> datetime:
    dag_run = context.get("dag_run")
    value = getattr(dag_run, "run_after", None) or getattr(dag_run, "logical_date", None)
    if value is None:
        raise ParamsError("run_after: the run has neither run_after nor a logical date")
    return value.astimezone(UTC)


def resolve_run(context: Mapping[str, Any]) -> dict[str, Any]:
    """Validate params (raises ParamsError naming the param) and decide mode and dry_run."""
    run_after = _run_after(context)
    params, mode, dry_run, source, raw, parsed = resolve_requests(
        dict(context.get("params") or {}), _run_type(context), run_after
    )
    return {
        "mode": mode,
        "dry_run": dry_run,
        "policy": params.conflict_policy,
        "source": source,
        "run_after": run_after.isoformat(),
        "horizon_days": params.horizon_days,
        "max_write_attempts": params.max_write_attempts,
        "fail_on_conflict": params.fail_on_conflict,
        "deliver_webhook": params.deliver_webhook,
        "requests": raw,
        "campaign_ids": [r.campaign_id for r in parsed],
    }


def requests_of(run: Mapping[str, Any]) -> list[ScheduleRequest]:
    return parse_requests(
        run["requests"],
        datetime.fromisoformat(run["run_after"]),
        "params" if run["mode"] == "manual" else "desired_schedules",
        skip_ended=run["mode"] == "reconcile",
        indexed=run["mode"] != "manual",
    )


def plan_for_run(run: Mapping[str, Any], facts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    requests = requests_of(run)
    run_after = datetime.fromisoformat(run["run_after"])
    end = horizon_end(requests, run_after, run["horizon_days"])
    return plan_run(requests, facts, run["policy"], run_after, end)


def apply_run(
    hook: GenesysCloudHook, run: Mapping[str, Any], entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Apply the accepted entries in rank order; refused ones and dry runs write nothing."""
    by_id = {r.campaign_id: r for r in requests_of(run)}
    outcomes = []
    for entry in entries:
        plan = entry["plan"]
        base = {
            "campaign_id": entry["campaign_id"],
            "action": plan["action"],
            "writes": 0,
            "version_conflicts": 0,
            "lost_answers": 0,
            "before": plan["before"],
            "after": plan["before"],
            "version_before": plan["version"],
            "version_after": plan["version"],
            "latency_ms": 0.0,
            "error": None,
        }
        if entry["refused"]:
            outcomes.append({**base, "status": "CONFLICT", "error": "; ".join(entry["reasons"])})
        elif run["dry_run"]:
            outcomes.append({**base, "status": "NOOP" if plan["action"] == "noop" else "DRY_RUN"})
        else:
            outcomes.append(apply_one(hook, by_id[entry["campaign_id"]], entry, run["max_write_attempts"]))
    return outcomes


def deliver_run(
    context: Mapping[str, Any],
    run: Mapping[str, Any],
    entries: list[dict[str, Any]],
    outcomes: list[dict[str, Any]],
    event: str = "schedule_provisioning",
) -> dict[str, Any]:
    """Signed webhook (not for dry runs) and one audit row per campaign plus a run summary row.

    A provisioning run has no reporting window: audit rows and the webhook key use the run's
    ``run_after`` as both window bounds, so a task retry upserts the same rows and re-sends the same key.
    """
    from genesys_cloud.context import run_identity
    from genesys_cloud.sinks.audit import AuditRow, AuditSink
    from genesys_cloud.sinks.webhook import WebhookSink, idempotency_key

    identity = run_identity(context)
    run_after = run["run_after"]
    by_id = {o["campaign_id"]: o for o in outcomes}
    campaigns = []
    for entry in entries:
        outcome = by_id[entry["campaign_id"]]
        campaigns.append(
            {
                "campaign_id": entry["campaign_id"],
                "campaign_name": entry["campaign_name"],
                "rank": entry["rank"],
                "score": entry["score"],
                "status": outcome["status"],
                "action": outcome["action"],
                "added": entry["plan"]["added"],
                "removed": entry["plan"]["removed"],
                "conflicts": entry["conflicts"] + outcome.get("conflicts", []),
                "warnings": entry["warnings"],
                "reasons": entry["reasons"],
                "version_before": outcome["version_before"],
                "version_after": outcome["version_after"],
                "writes": outcome["writes"],
                "version_conflicts": outcome["version_conflicts"],
                "lost_answers": outcome["lost_answers"],
                "error": outcome["error"],
            }
        )
    counts: dict[str, int] = {}
    for c in campaigns:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    payload = {
        "event": event,
        "dag_id": identity["dag_id"],
        "run_id": identity["run_id"],
        "mode": run["mode"],
        "dry_run": run["dry_run"],
        "policy": run["policy"],
        "source": run["source"],
        "run_after": run_after,
        "counts": dict(sorted(counts.items())),
        "campaigns": campaigns,
    }
    webhook = None
    if run["deliver_webhook"] and not run["dry_run"]:
        key = idempotency_key(
            identity["dag_id"] or "",
            run_after,
            run_after,
            identity["task_id"] or "",
            -1,
            f"{event}:{identity['run_id']}",
        )
        webhook = WebhookSink().deliver(payload, key)["status_code"]

    rows = [
        AuditRow.from_context(
            context,
            run_after,
            run_after,
            event,
            entity_type="campaign_schedule",
            entity_id=c["campaign_id"],
            status=c["status"],
            latency_ms=outcome["latency_ms"],
            record_count=c["writes"],
            details={
                "mode": run["mode"],
                "dry_run": run["dry_run"],
                "policy": run["policy"],
                "plan": {k: v for k, v in entry["plan"].items() if k not in ("before", "after")},
                "before": outcome["before"],
                "after": outcome["after"],  # as read back (unchanged for dry runs and refusals)
                "planned": entry["plan"]["after"],
                **{k: c[k] for k in ("rank", "score", "conflicts", "warnings", "reasons", "error")},
                **{k: c[k] for k in ("version_conflicts", "lost_answers", "version_before", "version_after")},
            },
        )
        for c, entry, outcome in (
            (c, e, by_id[e["campaign_id"]]) for c, e in zip(campaigns, entries, strict=True)
        )
    ]
    rows.append(
        AuditRow.from_context(
            context,
            run_after,
            run_after,
            f"{event}_run",
            entity_type="run",
            status="FAILED" if counts.get("FAILED") else "SUCCESS",
            record_count=len(campaigns),
            details={
                "counts": payload["counts"],
                "mode": run["mode"],
                "dry_run": run["dry_run"],
                "webhook": webhook,
            },
        )
    )
    sink = AuditSink()
    sink.ensure_schema()  # idempotent: creates or migrates the audit table on first use
    sink.record(rows)
    return {
        "counts": payload["counts"],
        "failed": [c["campaign_id"] for c in campaigns if c["status"] == "FAILED"],
        "refused": [c["campaign_id"] for c in campaigns if c["status"] == "CONFLICT"],
        "webhook_status": webhook,
    }
