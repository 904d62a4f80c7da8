"""Plan a campaign's schedule change: create / update / delete / noop, comparing before it writes.

The API keeps one ``CampaignSchedule`` per campaign (genesys-api.md §3d). A request *merges* by default:
the desired intervals are the current ones plus the requested ones, and the current recurrences are
kept with the requested ones added. With ``prune`` the request *replaces* the schedule; pruning to
nothing deletes it. Comparison is semantic (instants, not strings; recurrences without their
server-side ``id``/``nextOccurrenceDetails``), so equal desired and current state is a no-op: no PUT.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from genesys_pipelines.schedule_provisioning.intervals import Interval, zone
from genesys_pipelines.schedule_provisioning.requests import ScheduleRequest

__all__ = [
    "Action",
    "MalformedSchedule",
    "Plan",
    "check_read",
    "current_intervals",
    "dropped_windows",
    "desired_schedule",
    "plan_change",
    "schedule_key",
    "schedules_equal",
]

Action = Literal["create", "update", "delete", "noop"]
# Server-managed fields of a Reoccurrence that a client never sets.
_SERVER_REC_FIELDS = ("id", "nextOccurrenceDetails")


class MalformedSchedule(ValueError):  # noqa: N818 - a payload error, named after what it is
    """A schedule read that lacks or breaks a field a write depends on: nothing is written from it."""


def check_read(schedule: Any, label: str = "schedule", *, versioned: bool = True) -> dict[str, Any] | None:
    """A schedule as read from the API (None = the campaign has none), refused when a write could go wrong
    on it: not an object, ``intervals`` missing/null/not a list (a merge would drop every window),
    ``version`` missing or not a positive integer (``versioned``), an unknown ``timeZone``, or an
    interval that is malformed, zero-length, reversed or in a DST gap. Raises :class:`MalformedSchedule`."""
    if schedule is None:
        return None
    if not isinstance(schedule, dict):
        raise MalformedSchedule(f"{label}: expected a CampaignSchedule object, got {type(schedule).__name__}")
    intervals = schedule.get("intervals")
    if not isinstance(intervals, list):
        raise MalformedSchedule(f"{label}: intervals is {'missing' if 'intervals' not in schedule else repr(intervals)}"
                                " (a write from this read could drop every window)")
    if not intervals:  # the API requires at least one interval (a PUT without one is a 400)
        raise MalformedSchedule(f"{label}: intervals is empty (the API requires at least one; a merge from this "
                                "read could drop every window)")
    version = schedule.get("version")
    if versioned and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raise MalformedSchedule(f"{label}: version is {version!r}, not a positive integer")
    tz = schedule.get("timeZone")
    try:
        zone(tz or "UTC")
        for index, item in enumerate(intervals):
            try:
                Interval.from_schedule(item, tz)
            except ValueError as exc:
                raise MalformedSchedule(f"{label}: intervals[{index}]: {exc}") from None
    except MalformedSchedule:
        raise
    except ValueError as exc:
        raise MalformedSchedule(f"{label}: timeZone: {exc}") from None
    return schedule


def current_intervals(schedule: dict[str, Any] | None) -> list[Interval]:
    """The explicit intervals of an API ``CampaignSchedule`` body as instants (wall-clock strings read in
    the schedule's ``timeZone``: :func:`~.intervals.schedule_wall_clock`), sorted and deduplicated."""
    if not schedule:
        return []
    tz = schedule.get("timeZone") or None
    return sorted({Interval.from_schedule(i, tz) for i in schedule.get("intervals") or []})


def dropped_windows(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, str]]:
    """Parts of ``before``'s windows not covered by ``after``'s (on instants, UTC strings): a merge must
    leave this empty (``before ⊆ after``); a shortened window shows as its lost part."""
    lost: list[dict[str, str]] = []
    cover = current_intervals(after)
    for window in current_intervals(before):
        cursor = window.start
        for other in cover:
            if other.end <= cursor or other.start >= window.end:
                continue
            if other.start > cursor:
                lost.append(Interval(cursor, other.start).to_api())
            cursor = max(cursor, other.end)
            if cursor >= window.end:
                break
        if cursor < window.end:
            lost.append(Interval(cursor, window.end).to_api())
    return lost


def _recurrence_key(rec: dict[str, Any]) -> str:
    cleaned = {k: v for k, v in rec.items() if k not in _SERVER_REC_FIELDS and v not in (None, [], {})}
    return json.dumps(cleaned, sort_keys=True)


def schedule_key(schedule: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """What makes two schedules the same: intervals (as instants), recurrences, zone, name."""
    if not schedule:
        return None
    return (
        tuple((i.start, i.end) for i in current_intervals(schedule)),
        tuple(sorted(_recurrence_key(r) for r in schedule.get("recurrences") or [])),
        schedule.get("timeZone") or "UTC",
        schedule.get("name") or "",
    )


def schedules_equal(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    return schedule_key(a) == schedule_key(b)


def desired_schedule(
    request: ScheduleRequest, current: dict[str, Any] | None, campaign_name: str | None = None
) -> dict[str, Any] | None:
    """The ``CampaignSchedule`` body to PUT (without ``version``), or None when it should not exist."""
    if request.all_ended:
        return _without_server_fields(current)  # nothing left to provision: leave it as it is
    requested = request.resolved_intervals()
    recurrences = request.recurrences_api()
    if not request.prune and current:
        requested = sorted(set(requested) | set(current_intervals(current)))
        have = {_recurrence_key(r) for r in recurrences}
        kept = [
            {k: v for k, v in r.items() if k not in _SERVER_REC_FIELDS}
            for r in current.get("recurrences") or []
            if _recurrence_key(r) not in have
        ]
        recurrences = kept + recurrences
    if request.explicit_delete:
        return None
    name = request.name or (current or {}).get("name") or f"{campaign_name or request.campaign_id} schedule"
    # Every window (requested, and in merge mode the current ones) is an instant here, written as wall
    # clock in the zone the schedule will have: a timeZone change in merge mode re-expresses the existing
    # windows so their instants do not move.
    tz = request.time_zone or (current or {}).get("timeZone") or "UTC"
    body: dict[str, Any] = {
        "name": name,
        "intervals": [i.to_schedule(tz) for i in requested],
        "timeZone": tz,
        "campaign": {"id": request.campaign_id, **({"name": campaign_name} if campaign_name else {})},
    }
    if recurrences:
        body["recurrences"] = recurrences
    return body


def _without_server_fields(schedule: dict[str, Any] | None) -> dict[str, Any] | None:
    if schedule is None:
        return None
    keep = ("name", "intervals", "recurrences", "timeZone", "campaign")
    return {k: schedule[k] for k in keep if k in schedule}


@dataclass
class Plan:
    """One campaign's planned change; ``to_dict()`` is what the plan step returns and audits."""

    campaign_id: str
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    version: int | None
    added: list[dict[str, str]] = field(default_factory=list)
    removed: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_change(
    request: ScheduleRequest, current: dict[str, Any] | None, campaign_name: str | None = None
) -> Plan:
    after = desired_schedule(request, current, campaign_name)
    before_set = set(current_intervals(current))
    after_set = set(current_intervals(after))
    added = [i.to_api() for i in sorted(after_set - before_set)]
    removed = [i.to_api() for i in sorted(before_set - after_set)]
    version = (current or {}).get("version")
    if after is None:
        action: Action = "delete" if current else "noop"
    elif current is None:
        action = "create"
    elif schedules_equal(current, after):
        action = "noop"
    else:
        action = "update"
    if after is not None and current is not None and action == "update":
        after = {**after, "version": version}
    return Plan(request.campaign_id, action, current, after, version, added, removed)
