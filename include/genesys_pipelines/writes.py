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

    def write(self, plan: P, state: S) -> Any:
        """Send the plan (PUT with ``state``'s version, or DELETE). Errors propagate to the loop."""
        raise NotImplementedError

    def refuse(self, state: S) -> tuple[str, Any] | None:
        """After a write did not land: a reason to stop instead of re-planning, ``(error, detail)``."""
        return None
