"""The versioned write: the one place the rules of a safe PUT to Genesys Cloud live (genesys-api.md §2.3).

Versioned entities (campaigns, campaign schedules, ...) are written read → modify → PUT with the
``version`` just read. What the write *is* belongs to the caller (a :class:`VersionedWrite`: how to read
the entity, plan from what was read, tell whether a state holds the plan, send it); how it is made safe
belongs here, once, for every writer:

* **compare before PUT**: a fresh read first; a state that already holds the plan is not written again
  (an earlier try of the task may have applied it and died), and a plan made from other state is made
  again from the fresh one;
* **409** (stale ``version``: someone wrote in between) → re-read, re-plan, retry;
* **429** (not processed; the token's limiter already waits ``Retry-After``) → re-read, retry;
* **a lost answer** (5xx, timeout, connection reset: the write may have landed) → re-read and COMPARE
  before any retry, so a change is applied exactly once, never twice;
* **read back** after every write to verify it;
* **invariants at the PUT** (:meth:`VersionedWrite.guard`), on what was read just before it: a
  violation ends the entity as ``refused`` with no write;
* at most ``max_attempts`` writes; a definitive refusal (400, 403, 404, a read that keeps failing, a
  malformed answer: a read lacking a field the write depends on is a payload error, raised by the
  spec's ``read``) ends that entity as ``failed`` with the cause, never as an exception, and says
  whether a write may have landed. Any other exception (a bug, a hostile answer nobody foresaw) ends
  it the same way: one entity's failure never aborts the writer's loop.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

from genesys_cloud.exceptions import (
    GenesysApiError,
    GenesysConflictError,
    GenesysPayloadError,
    GenesysRateLimitError,
    GenesysServerError,
    GenesysTransportError,
    GenesysValidationError,
)
from genesys_pipelines.writes import VersionedWrite

log = logging.getLogger(__name__)

S = TypeVar("S")
P = TypeVar("P")
__all__ = ["VersionedWrite", "WriteOutcome", "WriteVerbs"]  # VersionedWrite is pure: genesys_pipelines.writes

WriteStatus = Literal["applied", "already_applied", "noop", "refused", "failed"]
Entity = Literal["campaign", "campaign_schedule"]


@dataclass
class WriteOutcome:
    """What happened to one entity. ``before`` is the first fresh read, ``after`` the last read-back
    (``reads`` says how many reads succeeded: 0 when even the first one was refused)."""

    status: WriteStatus
    plan: Any = None
    before: Any = None
    after: Any = None
    writes: int = 0
    version_conflicts: int = 0
    lost_answers: int = 0
    rate_limited: int = 0
    replanned: int = 0
    reads: int = 0
    error: str | None = None
    refusal: Any = None
    write_may_have_landed: bool = False
    latency_ms: float = 0.0
    initial_plan: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FieldUpdate(VersionedWrite[dict[str, Any] | None, dict[str, Any]]):
    """The write: these top-level fields (JSON names) take these values; everything else is kept."""

    def __init__(self, hook: Any, entity: Entity, entity_id: str) -> None:
        self.hook, self.entity, self.entity_id = hook, entity, entity_id
        self.label = f"{entity} {entity_id}"
        self.decimal = False

    def read(self) -> dict[str, Any] | None:
        if self.entity == "campaign":
            return self.hook.get_campaign(self.entity_id).to_api()
        schedule = self.hook.get_campaign_schedule(self.entity_id)
        return schedule.to_api() if schedule is not None else None

    def is_applied(self, plan: dict[str, Any], state: dict[str, Any] | None) -> bool:
        return state is not None and all(state.get(k) == v for k, v in plan.items())

    def write(self, plan: dict[str, Any], state: dict[str, Any] | None) -> Any:
        if state is None:
            raise GenesysValidationError(f"{self.label} does not exist: nothing to update")
        body = {**state, **plan}  # the full entity, with the version just read
        if self.entity == "campaign":
            return self.hook.put_campaign(body, decimal_calls=self.decimal)
        return self.hook.put_campaign_schedule(self.entity_id, body)


class WriteVerbs:
    """Mixed into the hook: :meth:`put_versioned` and :meth:`set_fields`."""

    def set_fields(self, entity: Entity, entity_id: str, changes: dict[str, Any], max_attempts: int = 5) -> WriteOutcome:
        """Set top-level fields (JSON names) of a campaign or a campaign schedule, keeping the rest, safely
        (:meth:`put_versioned`); the decimal calls flag is sent when ``maxCallsPerAgentDecimal`` is written."""
        if entity not in ("campaign", "campaign_schedule"):
            raise GenesysValidationError(f"entity must be 'campaign' or 'campaign_schedule', got {entity!r}")
        if not changes or {"id", "version"} & set(changes):
            raise GenesysValidationError("changes must name at least one field, and never id or version")
        write = FieldUpdate(self, entity, entity_id)
        write.decimal = "maxCallsPerAgentDecimal" in changes
        return self.put_versioned(write, dict(changes), max_attempts)

    def put_versioned(self, spec: VersionedWrite[S, P], plan: P, max_attempts: int) -> WriteOutcome:
        """Apply ``plan`` to the entity ``spec`` describes, safely (see the module doc); never raises for
        an API refusal: the outcome says ``failed`` with the cause."""
        started = time.monotonic()
        outcome = WriteOutcome(status="failed", plan=plan, initial_plan=plan)
        wrote = False
        try:
            current = outcome.before = outcome.after = spec.read()
            outcome.reads += 1
            if not spec.is_noop(plan) and spec.is_applied(plan, current):
                outcome.status = "already_applied"  # an earlier try applied it and then died
                return outcome
            if spec.is_stale(plan, current):
                plan, outcome.replanned = spec.replan(current), outcome.replanned + 1
            outcome.error = f"not applied after {max_attempts} attempts"
            for _attempt in range(max_attempts):
                outcome.plan = plan
                if spec.is_noop(plan):
                    # Desired == current: no write. If a write of ours landed (its answer was lost), the
                    # state equals the plan now: applied, not a no-op.
                    outcome.status, outcome.error = ("applied" if wrote else "noop"), None
                    break
                guard = spec.guard(plan, current)
                if guard is not None:
                    outcome.status, (outcome.error, outcome.refusal) = "refused", guard
                    log.error("%s not written: %s", spec.label, guard[0])
                    break
                try:
                    outcome.writes += 1
                    spec.write(plan, current)
                    wrote = True
                except GenesysConflictError as exc:
                    outcome.version_conflicts += 1
                    log.warning("409 on %s (%s): re-reading and re-planning", spec.label, exc)
                except GenesysRateLimitError as exc:
                    outcome.rate_limited += 1
                    log.warning("429 on the write of %s (%s): retrying after Retry-After", spec.label, exc)
                except (GenesysServerError, GenesysTransportError) as exc:
                    outcome.lost_answers += 1
                    wrote = True  # it may have landed: compare before sending it again
                    log.warning("No answer for the write of %s (%s): re-reading before any retry", spec.label, exc)
                current = outcome.after = spec.read()  # the read-back: verification, or fresh state
                outcome.reads += 1
                if wrote and spec.is_applied(plan, current):
                    outcome.status, outcome.error = "applied", None
                    break
                refusal = spec.refuse(current)
                if refusal is not None:
                    outcome.status, (outcome.error, outcome.refusal) = "refused", refusal
                    break
                if spec.is_stale(plan, current):
                    plan, outcome.replanned = spec.replan(current), outcome.replanned + 1
        except (GenesysApiError, GenesysPayloadError, GenesysTransportError) as exc:
            # A definitive refusal (400 invalid body, 403 missing permission, 404 gone, a read that kept
            # failing, a malformed answer): this entity failed, naming the cause; the caller goes on.
            outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
            outcome.write_may_have_landed = wrote
            log.error("%s not written: %s", spec.label, exc)
        except Exception as exc:  # noqa: BLE001 - any other failure of this entity must not abort the loop
            outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
            outcome.write_may_have_landed = wrote or outcome.writes > 0  # it may have been sent
            if isinstance(exc, ValueError):  # a read the spec refused (a payload error): no traceback needed
                log.error("%s not written: %s", spec.label, exc)
            else:
                log.exception("%s failed", spec.label)
        finally:
            outcome.latency_ms = round((time.monotonic() - started) * 1000, 1)
        return outcome
