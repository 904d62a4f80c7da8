"""Detect → rank → plan for one run, from what the read step saw (plain JSON, so it travels in XCom).

``facts`` per campaign (requested or sibling)::

    {"id", "name", "priority", "contactListId", "queueId", "status", "contactListSize",
     "schedule": <CampaignSchedule body> | None}

Two campaigns are *related* (can conflict) when they share a contact list or a queue, the same rule the
read step uses to find siblings (``GET /api/v2/outbound/campaigns?contactListId=`` / ``?distributionQueueId=``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from genesys_pipelines.models.outbound import Reoccurrence
from genesys_pipelines.schedule_provisioning.intervals import Interval
from genesys_pipelines.schedule_provisioning.overlap import TaggedInterval, detect_conflicts
from genesys_pipelines.schedule_provisioning.planning import current_intervals, plan_change
from genesys_pipelines.schedule_provisioning.ranking import Policy, decide, priority_score, rank
from genesys_pipelines.schedule_provisioning.recurrences import expand_recurrence
from genesys_pipelines.schedule_provisioning.requests import ScheduleRequest

__all__ = ["plan_run", "related", "schedule_intervals"]


def schedule_intervals(schedule: dict[str, Any] | None, horizon: Interval) -> list[Interval]:
    """Explicit intervals plus recurrence occurrences within ``horizon``."""
    if not schedule:
        return []
    out = set(current_intervals(schedule))
    for rec in schedule.get("recurrences") or []:
        try:
            out.update(expand_recurrence(Reoccurrence.model_validate(rec), schedule.get("timeZone"), horizon))
        except ValueError:
            # An existing recurrence we cannot read must not block provisioning: it is the API's
            # object, not ours. It is simply not checked (reported by the caller's warning list).
            continue
    return sorted(out)


def related(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("id") == b.get("id"):
        return False
    same_list = a.get("contactListId") and a.get("contactListId") == b.get("contactListId")
    same_queue = a.get("queueId") and a.get("queueId") == b.get("queueId")
    return bool(same_list or same_queue)


def _requested_intervals(request: ScheduleRequest, horizon: Interval) -> list[Interval]:
    out = set(request.resolved_intervals())
    if request.recurrences:
        out.update(
            schedule_intervals(
                {"recurrences": request.recurrences_api(), "timeZone": request.time_zone}, horizon
            )
        )
    return sorted(out)


def plan_run(
    requests: list[ScheduleRequest],
    facts: dict[str, dict[str, Any]],
    policy: Policy,
    run_after: datetime,
    horizon_end: datetime,
) -> list[dict[str, Any]]:
    """One entry per request, highest-ranked first: score, decision, conflicts (both sides), plan."""
    # Recurrences are infinite; checks cover run_after (or the earliest requested window, allow_past)
    # up to horizon_end.
    starts = [i.start for r in requests for i in r.resolved_intervals()]
    horizon = Interval(min([run_after, *starts]), horizon_end)
    requested_ids = {r.campaign_id for r in requests}
    items: list[TaggedInterval] = []
    for request in requests:
        cid = request.campaign_id
        name = facts[cid].get("name") or ""
        items.extend(
            TaggedInterval(i, cid, "requested", name) for i in _requested_intervals(request, horizon)
        )
        # In replace (prune) mode the current windows go away, so they cannot conflict with anything.
        if not request.prune:
            current = facts[cid].get("schedule")
            items.extend(
                TaggedInterval(i, cid, "current", name) for i in schedule_intervals(current, horizon)
            )
    for cid, fact in facts.items():
        if cid not in requested_ids:
            items.extend(
                TaggedInterval(i, cid, "sibling", fact.get("name") or "")
                for i in schedule_intervals(fact.get("schedule"), horizon)
            )

    conflicts = detect_conflicts(items, lambda a, b: related(facts[a], facts[b]))
    scores = {
        r.campaign_id: priority_score(
            facts[r.campaign_id].get("priority"), facts[r.campaign_id].get("contactListSize")
        )
        for r in requests
    }
    other_scores = {
        cid: priority_score(f.get("priority"), f.get("contactListSize"))
        for cid, f in facts.items()
        if cid not in requested_ids
    }
    decisions = decide(scores, conflicts, policy, other_scores)
    by_id = {r.campaign_id: r for r in requests}
    out = []
    for position, cid in enumerate(rank(scores), start=1):
        d = decisions[cid]
        fact = facts[cid]
        plan = plan_change(by_id[cid], fact.get("schedule"), fact.get("name"))
        out.append(
            {
                "campaign_id": cid,
                "campaign_name": fact.get("name"),
                "rank": position,
                "score": d.score,
                "refused": d.refused,
                "reasons": d.reasons,
                "warnings": d.warnings,
                "conflicts": d.conflicts,
                "plan": plan.to_dict(),
            }
        )
    return out
