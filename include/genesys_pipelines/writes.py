"""What one versioned write to Genesys Cloud is, as a pure description the provider's write loop drives.

A pipeline describes its write (how to read the entity, plan from what was read, tell whether a state
holds the plan, send it) by subclassing :class:`VersionedWrite`; the provider's
``GenesysCloudHook.put_versioned`` owns the rules that make it safe (compare before PUT, ``version``, 409 →
re-read and re-plan, a lost answer → re-read and compare before any retry, read back to verify). The
split keeps every pipeline's planning pure and testable, and the safety rules in one place.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

S = TypeVar("S")  # the entity's state as read (None = absent)
P = TypeVar("P")  # a plan: what to write


class VersionedWrite(Generic[S, P]):
    """What one versioned write is; subclass it (the defaults suit a plain "set these fields" write)."""

    #: Names the entity in logs and errors, e.g. ``"campaign 8a3…"``.
    label: str = "entity"

    def read(self) -> S:
        """The entity as it is now (a GET; None when absent)."""
        raise NotImplementedError

    def is_applied(self, plan: P, state: S) -> bool:
        """Whether ``state`` already holds what ``plan`` writes."""
        raise NotImplementedError

    def is_stale(self, plan: P, state: S) -> bool:
        """Whether ``plan`` was made from a state other than ``state`` (then it is made again)."""
        return False

    def replan(self, state: S) -> P:
        """A new plan from ``state`` (after a 409 or when the plan is stale)."""
        raise NotImplementedError

    def is_noop(self, plan: P) -> bool:
        """Whether ``plan`` writes nothing (desired == current)."""
        return plan is None

    def guard(self, plan: P, state: S) -> tuple[str, Any] | None:
        """Invariants checked on ``state`` (what was read just now) immediately before each write:
        a reason to refuse the write, ``(error, detail)``, or None to send it."""
        return None

    def write(self, plan: P, state: S) -> Any:
        """Send the plan (PUT with ``state``'s version, or DELETE). Errors propagate to the loop."""
        raise NotImplementedError

    def refuse(self, state: S) -> tuple[str, Any] | None:
        """After a write did not land: a reason to stop instead of re-planning, ``(error, detail)``."""
        return None


def request_digest(body: Any) -> str:
    """sha256 of a request body's canonical JSON: names exactly what was (to be) sent, in the audit."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def journaled_write(journal: Any, entity_id: str, intent: dict[str, Any], write: Any,
                    failed: dict[str, Any]) -> dict[str, Any]:
    """Run ``write()`` (one entity's versioned write, returning its outcome dict) under write-ahead audit.

    ``journal`` (``intend``/``complete``; None only in pure tests) records ``intent`` before the write; when
    that fails nothing is written and the outcome is ``failed`` merged with ``status: FAILED``. Any
    exception of ``write()`` is this entity's failure (``FAILED`` with its cause, and
    ``write_may_have_landed: true``: the loop cannot know how far it got), never the loop's. The outcome
    is recorded as the completion of the intent.
    """
    if journal is not None:
        try:
            journal.intend(entity_id, intent)
        except Exception as exc:  # noqa: BLE001 - no intent recorded: no write, whatever the cause
            return {**failed, "status": "FAILED", "write_may_have_landed": False,
                    "error": f"not written: the write-ahead audit failed ({exc})"}
    try:
        outcome = write()
    except Exception as exc:  # noqa: BLE001 - one entity's failure must not abort the others' writes
        outcome = {**failed, "status": "FAILED", "write_may_have_landed": True, "error": f"{type(exc).__name__}: {exc}"}
    if journal is not None:
        journal.complete(entity_id, outcome["status"], {**intent, **outcome})
    return outcome
