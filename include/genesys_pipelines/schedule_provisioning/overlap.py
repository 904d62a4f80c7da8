"""Overlap detection by sort-and-sweep: O(n log n + k) for n intervals and k overlapping pairs.

Intervals are half-open ``[start, end)`` in UTC, so one ending at 12:00 and another starting at 12:00
*touch* and do not overlap. Comparing instants in UTC makes windows written in different time zones
(09:00 Europe/Dublin vs 04:00 America/New_York) and windows crossing midnight compare correctly.

Only pairs involving at least one *requested* interval are reported: what already exists between
other campaigns is not this pipeline's business.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from genesys_pipelines.schedule_provisioning.intervals import Interval

__all__ = ["Conflict", "ConflictKind", "Source", "TaggedInterval", "detect_conflicts", "sweep_pairs"]

Source = Literal["requested", "current", "sibling"]
# self: two requested windows of one campaign; current: a requested window against the campaign's
# existing schedule; sibling: against a campaign sharing its contact list or queue; request: against
# another campaign requested in the same run (sharing its contact list or queue).
ConflictKind = Literal["self", "current", "sibling", "request"]


@dataclass(frozen=True, order=True)
class TaggedInterval:
    """An interval with who owns it and where it comes from (both sides of a conflict are reported)."""

    interval: Interval
    campaign_id: str
    source: Source
    campaign_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "campaign_name": self.campaign_name,
            "source": self.source,
            **self.interval.to_api(),
        }


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    requested: TaggedInterval
    other: TaggedInterval

    @property
    def overlap(self) -> Interval:
        return self.requested.interval.intersection(self.other.interval)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "requested": self.requested.to_dict(),
            "other": self.other.to_dict(),
            "overlap": self.overlap.to_api(),
        }


def sweep_pairs(items: Iterable[TaggedInterval]) -> list[tuple[TaggedInterval, TaggedInterval]]:
    """Every overlapping pair, each once, the earlier-starting item first.

    Sort by start; keep a min-heap of the active intervals keyed by end; before adding an interval,
    drop the active ones ending at or before its start (end exclusive, so touching is not overlap);
    whatever stays active overlaps it.
    """
    ordered = sorted(items, key=lambda t: (t.interval.start, t.interval.end, t.campaign_id, t.source))
    active: list[tuple[Any, int, TaggedInterval]] = []
    pairs: list[tuple[TaggedInterval, TaggedInterval]] = []
    for index, item in enumerate(ordered):
        while active and active[0][0] <= item.interval.start:
            heapq.heappop(active)
        pairs.extend((other, item) for _, _, other in active)
        heapq.heappush(active, (item.interval.end, index, item))
    return pairs


def _classify(a: TaggedInterval, b: TaggedInterval, related: Callable[[str, str], bool]) -> Conflict | None:
    if a.source != "requested" and b.source != "requested":
        return None
    requested, other = (a, b) if a.source == "requested" else (b, a)
    same = requested.campaign_id == other.campaign_id
    if same and other.source == "requested":
        return Conflict("self", requested, other)
    if same and other.source == "current":
        # The same window already present is a no-op, not a conflict.
        return None if requested.interval == other.interval else Conflict("current", requested, other)
    if same or not related(requested.campaign_id, other.campaign_id):
        return None
    # Another campaign's existing window is a sibling window whether or not it is requested too.
    return Conflict("request" if other.source == "requested" else "sibling", requested, other)


def _always(_a: str, _b: str) -> bool:
    return True


def detect_conflicts(
    items: Iterable[TaggedInterval], related: Callable[[str, str], bool] = _always
) -> list[Conflict]:
    """Conflicts between requested intervals and everything else, in a stable order.

    ``related(a, b)`` says whether two different campaigns compete (share a contact list or queue);
    only related campaigns can conflict. A "request" conflict between two requested campaigns is
    reported once per pair, from the earlier-starting side.
    """
    found = [c for a, b in sweep_pairs(items) if (c := _classify(a, b, related)) is not None]
    return sorted(found, key=lambda c: (c.requested, c.other, c.kind))
