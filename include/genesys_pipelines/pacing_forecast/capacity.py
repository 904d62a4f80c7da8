"""Agent capacity for the forecast hours: WFM intraday schedule, or the live idle-agent fallback.

WFM is keyed by business unit → planning group, not by skill (genesys-api.md §3e): find the planning
group whose ``routePaths[].queue.id`` is the campaign's queue, then ask intraday ``ScheduleData`` for
every business-unit date the forecast horizon touches (``businessUnitDate`` is a date in the business
unit's OWN time zone, ``settings.timeZone``). Element *i* of ``scheduleDataPerInterval`` covers
``startDate + i × intervalLengthMinutes``; agents = ``onQueueTimeSeconds / (intervalLengthMinutes × 60)``.

Dialer queues are often in no planning group: then the live ``CampaignStats.idleAgents`` is the
(flat) capacity, and the source says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from genesys_pipelines.models.wfm import AsyncIntradayResponse, BusinessUnit, PlanningGroup

SOURCE_WFM = "wfm_intraday_schedule"
SOURCE_IDLE = "live_idle_agents"
SOURCE_NONE = "none"
#: Intraday data is asked for in hourly intervals (the forecast is hourly).
INTERVAL_MINUTES = 60
#: The intraday grouping that staffs outbound dialing (WFM media types are capitalised).
VOICE = "Voice"


def planning_group_for_queue(groups: Iterable[Mapping[str, Any]], queue_id: str | None) -> dict[str, Any] | None:
    """The first planning group (by id, for determinism) routing ``queue_id``, or None."""
    if not queue_id:
        return None
    parsed = sorted((PlanningGroup.model_validate(g) for g in groups), key=lambda g: g.id)
    for group in parsed:
        if any(path.queue.id == queue_id for path in group.route_paths or []):
            return {"id": group.id, "name": group.name}
    return None


def business_unit_zone(unit: Mapping[str, Any]) -> str:
    """The business unit's IANA zone (``settings.timeZone``, read with ``expand=settings``); UTC if unset."""
    parsed = BusinessUnit.model_validate(unit)
    return (parsed.settings.time_zone if parsed.settings else None) or "UTC"


def business_unit_dates(hours: Sequence[str], tz: str) -> list[date]:
    """The business-unit dates (in ``tz``) the forecast hours fall on, in order."""
    zone = ZoneInfo(tz)
    out: list[date] = []
    for hour in hours:
        local = datetime.fromisoformat(hour).astimezone(zone).date()
        if local not in out:
            out.append(local)
    return out


def agents_per_interval(payload: Mapping[str, Any]) -> dict[datetime, float]:
    """UTC interval start → scheduled agents, from one intraday response (empty unless ``Complete``).

    Only the ``Voice`` grouping counts: outbound dialing is voice, and a planning group that also routes
    callbacks (or chat, email...) reports each media type's on-queue time in its own grouping, so a sum
    over all of them would count an agent once per media type. A response without a result
    (``Processing``: it would come by notification), with ``noDataReason`` or without a Voice grouping
    contributes nothing; the caller then falls back (:func:`wfm_gap_reason` says why).
    """
    response = AsyncIntradayResponse.model_validate(payload)
    result = response.result
    if response.status != "Complete" or result is None or result.start_date is None:
        return {}
    length = result.interval_length_minutes or 15
    seconds = length * 60
    out: dict[datetime, float] = {}
    for grouping in result.intraday_data_groupings or []:
        if grouping.media_type != VOICE:
            continue
        for index, item in enumerate(grouping.schedule_data_per_interval or []):
            start = result.start_date + timedelta(minutes=index * length)
            out[start] = out.get(start, 0.0) + float(item.on_queue_time_seconds or 0) / seconds
    return out


def wfm_gap_reason(responses: Iterable[Mapping[str, Any]], planning_group: Mapping[str, Any]) -> str:
    """Why the intraday responses gave no capacity (for the fallback's recorded reason)."""
    media: set[str] = set()
    for payload in responses:
        result = AsyncIntradayResponse.model_validate(payload).result
        groupings = (result.intraday_data_groupings if result else None) or []
        media.update(str(g.media_type) for g in groupings)
    if media and VOICE not in media:
        return (f"planning group {planning_group.get('id')} has no {VOICE} intraday grouping "
                f"(only {', '.join(sorted(media))})")
    return f"planning group {planning_group.get('id')} has no intraday schedule for the horizon"


def hourly_agents(intervals: Mapping[datetime, float], hours: Sequence[str]) -> list[float | None]:
    """Mean agents over each forecast hour (intervals of 15/30/60 minutes); None where not covered."""
    out: list[float | None] = []
    for hour in hours:
        start = datetime.fromisoformat(hour)
        inside = [v for t, v in intervals.items() if start <= t < start + timedelta(hours=1)]
        out.append(round(sum(inside) / len(inside), 3) if inside else None)
    return out


def capacity_from_wfm(
    hours: Sequence[str], responses: Iterable[Mapping[str, Any]], planning_group: Mapping[str, Any], tz: str
) -> dict[str, Any] | None:
    """Capacity from intraday responses, or None when they cover none of the hours (→ fallback)."""
    merged: dict[datetime, float] = {}
    for payload in responses:
        merged.update(agents_per_interval(payload))
    agents = hourly_agents(merged, hours)
    if all(a is None for a in agents):
        return None
    return {
        "source": SOURCE_WFM,
        "agents": [0.0 if a is None else a for a in agents],
        "planning_group_id": planning_group.get("id"),
        "planning_group_name": planning_group.get("name"),
        "business_unit_time_zone": tz,
    }


def capacity_from_idle_agents(hours: Sequence[str], stats: Mapping[str, Any] | None, reason: str) -> dict[str, Any]:
    """The live fallback: ``idleAgents`` (int) now, held flat over the horizon."""
    idle = (stats or {}).get("idleAgents")
    if idle is None:
        return {"source": SOURCE_NONE, "agents": [0.0 for _ in hours], "reason": f"{reason}; no idleAgents"}
    return {"source": SOURCE_IDLE, "agents": [float(idle) for _ in hours], "idle_agents": int(idle), "reason": reason}
