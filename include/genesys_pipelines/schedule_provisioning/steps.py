"""The schedule provisioning pipeline's steps, over an injected Genesys API client (the provider's hook).

Pure of Airflow: ``api`` has the hook's outbound verbs (``get_campaign``, ``get_campaign_schedule``,
``list_campaign_schedules``, ``list_campaigns``, ``contact_list_size``, ``put_campaign_schedule``,
``delete_campaign_schedule``) and ``put_versioned``, which owns the rules of a safe write. Only the
requested campaigns' schedules are ever written: sibling campaigns are read, never written.

``run`` is the validate step's JSON (XCom): mode, dry_run, policy, run_after and the raw requests, which
every later step re-parses with the same run_after (deterministic, and no pickled models).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from genesys_pipelines.errors import InvalidParam
from genesys_pipelines.schedule_provisioning.apply import own_conflicts, replan, verified
from genesys_pipelines.schedule_provisioning.engine import plan_run
from genesys_pipelines.schedule_provisioning.params import resolve_requests
from genesys_pipelines.schedule_provisioning.planning import (
    MalformedSchedule,
    Plan,
    check_read,
    current_intervals,
    dropped_windows,
    schedules_equal,
)
from genesys_pipelines.schedule_provisioning.requests import ScheduleRequest, horizon_end, parse_requests
from genesys_pipelines.writes import VersionedWrite, journaled_write, request_digest

#: The write loop's outcome → the audit's status vocabulary.
STATUS = {"applied": "SUCCESS", "already_applied": "SUCCESS", "noop": "NOOP", "refused": "CONFLICT",
          "failed": "FAILED"}


def resolve_run(raw_params: Mapping[str, Any], run_type: str | None, run_after: datetime) -> dict[str, Any]:
    """Validate params (raises InvalidParam naming the param) and decide mode and dry_run."""
    params, mode, dry_run, source, raw, parsed = resolve_requests(dict(raw_params), run_type, run_after)
    return {
        "mode": mode,
        "run_type": run_type,
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


def checked_run(run: Mapping[str, Any], raw_params: Mapping[str, Any], run_type: str | None,
                run_after: datetime) -> dict[str, Any]:
    """The run as validated again from the run's own params (raises InvalidParam on bad params, ValueError
    when the ``run`` handed over through XCom differs, so apply fails at once): the writer decides run type, dry run and approval
    from what the run was given, never from a value anyone with REST XCom write could have changed."""
    import json

    fresh = resolve_run(raw_params, run_type, run_after)
    if json.dumps(fresh, sort_keys=True, default=str) != json.dumps(dict(run), sort_keys=True, default=str):
        changed = sorted(k for k in set(fresh) | set(run) if fresh.get(k) != run.get(k))
        from genesys_pipelines.errors import InvalidParam

        raise InvalidParam("run", f"the validated run handed to apply differs from the run's params "
                                  f"({', '.join(changed)}): nothing written")
    return fresh


def requests_of(run: Mapping[str, Any]) -> list[ScheduleRequest]:
    return parse_requests(
        run["requests"],
        datetime.fromisoformat(run["run_after"]),
        "params" if run["mode"] == "manual" else "desired_schedules",
        skip_ended=run["mode"] == "reconcile",
        indexed=run["mode"] != "manual",
    )


# -- read ------------------------------------------------------------------------------------------------
def _facts(campaign: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": campaign.get("id"),
        "name": campaign.get("name"),
        "priority": campaign.get("priority"),
        "status": campaign.get("campaignStatus"),
        "contactListId": (campaign.get("contactList") or {}).get("id"),
        "queueId": (campaign.get("queue") or {}).get("id"),
    }


def _schedule(model: Any, label: str = "schedule") -> dict[str, Any] | None:
    """A schedule read, checked (:func:`~.planning.check_read`): a read lacking ``intervals`` or
    ``version``, or with a broken interval, raises ``MalformedSchedule`` and nothing is planned from it."""
    return check_read(model.to_api() if model is not None else None, label)


def _siblings(api: Any, fact: Mapping[str, Any]) -> Iterable[Any]:
    """Campaigns sharing the contact list or the queue (the listing's server-side filters)."""
    if fact["contactListId"]:
        yield from api.list_campaigns(contact_list_id=fact["contactListId"])
    if fact["queueId"]:
        yield from api.list_campaigns(queue_id=fact["queueId"])


def read_facts(api: Any, campaign_ids: list[str]) -> dict[str, dict[str, Any]]:
    """What the plan needs, per requested campaign and per sibling (see ``engine`` for the shape).

    A requested campaign that does not exist fails the run naming it (a typo must not pass as a
    create). Requested campaigns' schedules come from their own GET (it carries the freshest
    ``version``); siblings' from the one unpaged array of every schedule.
    """
    facts: dict[str, dict[str, Any]] = {}
    for cid in campaign_ids:
        campaign = api.find_campaign(cid)
        if campaign is None:
            raise InvalidParam("campaign_id", f"no such outbound campaign {cid}")
        facts[cid] = {**_facts(campaign.to_api()),
                      "schedule": _schedule(api.get_campaign_schedule(cid), f"schedule of campaign {cid}")}

    by_campaign = {}
    for schedule in api.list_campaign_schedules():
        body = schedule.to_api()
        key = (body.get("campaign") or {}).get("id") or body.get("id")
        # Siblings' schedules are only compared against (never written): no version needed, but their
        # windows must be readable, or an overlap would go unseen.
        by_campaign[key] = check_read(body, f"schedule of sibling campaign {key}", versioned=False)
    for cid in campaign_ids:
        for sibling in _siblings(api, facts[cid]):
            sid = sibling.id
            if sid and sid not in facts:
                facts[sid] = {**_facts(sibling.to_api()), "schedule": by_campaign.get(sid)}

    sizes: dict[str, int | None] = {}
    for fact in facts.values():
        list_id = fact["contactListId"]
        if list_id and list_id not in sizes:
            sizes[list_id] = api.contact_list_size(list_id)
        fact["contactListSize"] = sizes.get(list_id) if list_id else None
    return facts


# -- plan ------------------------------------------------------------------------------------------------
def plan_for_run(run: Mapping[str, Any], facts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    requests = requests_of(run)
    run_after = datetime.fromisoformat(run["run_after"])
    end = horizon_end(requests, run_after, run["horizon_days"])
    return plan_run(requests, facts, run["policy"], run_after, end)


# -- apply -----------------------------------------------------------------------------------------------
class ScheduleWrite(VersionedWrite[dict[str, Any] | None, Plan]):
    """One campaign's schedule: merge (or replace) the requested windows, written with ``version``."""

    def __init__(self, api: Any, request: ScheduleRequest, campaign_name: str | None,
                 bound: dict[str, Any] | None = None) -> None:
        self.api, self.request, self.campaign_name = api, request, campaign_name
        self.label = f"schedule of campaign {request.campaign_id}"
        self.bound = bound  # the approved body (without version): a re-plan may not write anything else

    def read(self) -> dict[str, Any] | None:
        return _schedule(self.api.get_campaign_schedule(self.request.campaign_id), self.label)

    def guard(self, plan: Plan, state: dict[str, Any] | None) -> tuple[str, Any] | None:
        """At the PUT, on what was read just now: merge mode never drops or shortens a current window
        (``before ⊆ after`` on instants)."""
        if self.bound is not None and plan.action != "noop":
            body = {k: v for k, v in (plan.after or {}).items() if k != "version"}
            if body != self.bound:
                return (f"a re-plan after a concurrent change would write beyond the approved plan for campaign "
                        f"{self.request.campaign_id}: not written, needs a new approval", {"approved": self.bound})
        if self.request.prune or plan.action != "update":
            return None
        lost = dropped_windows(state, plan.after)
        if lost:
            return (f"merge would drop or shorten current windows of campaign {self.request.campaign_id}: "
                    f"before {[i.to_api() for i in current_intervals(state)]} not within after "
                    f"{[i.to_api() for i in current_intervals(plan.after)]}", {"lost": lost})
        return None

    def is_applied(self, plan: Plan, state: dict[str, Any] | None) -> bool:
        return verified(plan, state)

    def is_stale(self, plan: Plan, state: dict[str, Any] | None) -> bool:
        same_version = state is not None and plan.before is not None and state.get("version") == plan.version
        if same_version and not schedules_equal(state, plan.before):
            # One version, two contents: the API contradicts itself (a hostile or broken answer). A
            # re-plan from it could move or drop windows, so nothing is written.
            raise MalformedSchedule(f"{self.label}: version {plan.version} read twice with different content")
        return not schedules_equal(state, plan.before) or (state or {}).get("version") != plan.version

    def replan(self, state: dict[str, Any] | None) -> Plan:
        return replan(self.request, state, self.campaign_name)

    def is_noop(self, plan: Plan) -> bool:
        return plan.action == "noop"

    def write(self, plan: Plan, state: dict[str, Any] | None) -> Any:
        if plan.action == "delete":
            return self.api.delete_campaign_schedule(self.request.campaign_id)
        return self.api.put_campaign_schedule(self.request.campaign_id, plan.after, create=state is None)

    def refuse(self, state: dict[str, Any] | None) -> tuple[str, Any] | None:
        clash = own_conflicts(self.request, state)
        return ("another writer added overlapping windows", clash) if clash else None


def review(run: Mapping[str, Any], entries: list[dict[str, Any]], sandbox: bool = False) -> dict[str, Any]:
    """What a person must approve (``genesys_pipelines.approval.review``: required, digest, body): every
    manual apply; the reconcile per ``GENESYS_RECONCILE_APPROVAL``. The review task shows it; apply
    recomputes it from what it is about to write (it never trusts the review task's XCom)."""
    from genesys_pipelines import approval as ap

    items = ap.schedule_items(entries)
    required = ap.approval_required(manual=run.get("run_type") == "manual", dry_run=run["dry_run"],
                                    writes=bool(items), is_destructive=ap.destructive(entries),
                                    setting=ap.reconcile_setting(), sandbox=sandbox)
    return ap.review(items, required, lambda digest: ap.schedule_review_body(entries, digest))


def apply_one(api: Any, request: ScheduleRequest, entry: Mapping[str, Any], max_attempts: int,
              bound: bool = False) -> dict[str, Any]:
    """Apply one planned entry safely (``api.put_versioned``); returns the outcome for the audit. ``bound``:
    the entry was approved, so nothing but its planned body may be written."""
    plan = Plan(**entry["plan"])
    approved = {k: v for k, v in (plan.after or {}).items() if k != "version"} if bound else None
    written = api.put_versioned(ScheduleWrite(api, request, entry.get("campaign_name"), approved), plan, max_attempts)
    last = written.plan
    outcome: dict[str, Any] = {
        "campaign_id": request.campaign_id,
        "status": STATUS[written.status],
        "action": last.action if last is not None and last.action != "noop" else plan.action,
        "writes": written.writes,
        "version_conflicts": written.version_conflicts,
        "lost_answers": written.lost_answers,
        "error": written.error,
    }
    if written.rate_limited:
        outcome["rate_limited"] = written.rate_limited
    if written.status == "refused":
        outcome["conflicts"] = written.refusal
    if written.status == "failed":
        outcome["write_may_have_landed"] = written.write_may_have_landed
    # ``after`` is the last read-back: the state after our writes (the verification's evidence). When even
    # the first read was refused, what planning read stands in for both.
    before, after = (written.before, written.after) if written.reads else (plan.before, plan.before)
    outcome.update(before=before, after=after, version_before=(before or {}).get("version"),
                   version_after=(after or {}).get("version"), latency_ms=written.latency_ms)
    outcome.update(changes(before, after))
    return outcome


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[dict[str, str]]]:
    """``added``/``removed`` windows (UTC instants) between two schedules as *read*: what the audit and the
    webhook report is what the dialer had and has, never what a plan assumed."""
    try:
        was, now = set(current_intervals(before)), set(current_intervals(after))
    except ValueError:  # a read that could not be interpreted: report no change rather than a guess
        return {"added": [], "removed": []}
    return {"added": [i.to_api() for i in sorted(now - was)], "removed": [i.to_api() for i in sorted(was - now)]}


def apply_run(api: Any, run: Mapping[str, Any], entries: list[dict[str, Any]], journal: Any = None,
              approved: Any = None) -> list[dict[str, Any]]:
    """Apply the accepted entries in rank order; refused ones and dry runs write nothing.

    ``journal`` records each write ahead (intent before, completion after: ``journaled_write``); an
    exception on one campaign marks it FAILED and the loop goes on. ``approved(campaign_id, entry)``
    (optional) says whether a recorded approval covers that entry; a campaign it does not cover is not
    written (``NOT_APPROVED``)."""
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
        elif run["dry_run"]:  # a dry run never reaches a write, whatever else the entry says
            outcomes.append({**base, "status": "NOOP" if plan["action"] == "noop" else "DRY_RUN"})
        elif plan["action"] == "noop":
            outcomes.append({**base, "status": "NOOP"})
        elif approved is not None and not approved(entry["campaign_id"], entry):
            from genesys_pipelines.approval import not_approved

            outcomes.append({**base, **not_approved(approved)})  # status, error, cause, detail
        else:
            cid = entry["campaign_id"]
            intent = {"action": plan["action"], "before": plan["before"], "planned": plan["after"],
                      "request_digest": request_digest(plan["after"])}
            outcomes.append(journaled_write(
                journal, cid, intent,
                lambda cid=cid, entry=entry: apply_one(api, by_id[cid], entry, run["max_write_attempts"],
                                                       bound=approved is not None),
                base))
    return outcomes
