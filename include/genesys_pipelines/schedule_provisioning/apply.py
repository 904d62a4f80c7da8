"""The apply loop as a pure state machine: what to do after each write attempt's result.

Kept free of HTTP so the rules that make a write safe to retry are unit-tested on their own:

- equal desired and current state → no write (NOOP, or SUCCESS when an earlier attempt of ours landed);
- a 409 (stale ``version``) → re-read, re-plan against the new current state, write again (bounded);
- a lost answer (5xx / timeout after the write may have been applied) → re-read first and compare:
  if the current state already equals what we wanted, our write landed and is *not* sent again, so
  it is applied exactly once;
- after a write, read back and compare (verification).

In merge mode a re-plan re-checks the requested windows against the new current schedule: another
writer may have added a window that now overlaps ours, and that turns the outcome into CONFLICT.
"""

from __future__ import annotations

from typing import Any, Literal

from genesys_pipelines.schedule_provisioning.overlap import TaggedInterval, detect_conflicts
from genesys_pipelines.schedule_provisioning.planning import (
    Plan,
    current_intervals,
    plan_change,
    schedules_equal,
)
from genesys_pipelines.schedule_provisioning.requests import ScheduleRequest

__all__ = ["Status", "own_conflicts", "replan", "verified"]

Status = Literal["SUCCESS", "CONFLICT", "NOOP", "FAILED", "DRY_RUN"]


def own_conflicts(request: ScheduleRequest, current: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Requested windows partly overlapping the campaign's current ones (merge mode only)."""
    if request.prune or not current:
        return []
    cid = request.campaign_id
    items = [TaggedInterval(i, cid, "requested") for i in request.resolved_intervals()]
    items += [TaggedInterval(i, cid, "current") for i in current_intervals(current)]
    return [c.to_dict() for c in detect_conflicts(items) if c.kind == "current"]


def replan(request: ScheduleRequest, current: dict[str, Any] | None, campaign_name: str | None) -> Plan:
    return plan_change(request, current, campaign_name)


def verified(plan: Plan, current: dict[str, Any] | None) -> bool:
    """Whether the state read back is what the plan wanted (absence, for a delete)."""
    if plan.action == "delete":
        return current is None
    return current is not None and schedules_equal(current, plan.after)
