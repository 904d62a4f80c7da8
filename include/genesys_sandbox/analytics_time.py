"""Time arithmetic of the analytics queries: intervals, ISO durations, time zones, bucket edges.

Every failure is an :class:`ApiError` 400 naming the field, as the platform answers a bad query.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from genesys_sandbox.errors import ApiError
from genesys_sandbox.synth import BUCKET_MS


def parse_instant_field(text: str, field_name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, f"Invalid {field_name}: {text!r}", fields=[field_name]) from exc
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def parse_interval(text: str, field_name: str = "interval") -> tuple[int, int]:
    """``"start/end"`` → (start ms, end ms), end exclusive and after start."""
    parts = text.split("/")
    if len(parts) != 2:
        raise ApiError(400, f"Invalid {field_name}: expected 'start/end'", fields=[field_name])
    start, end = (int(parse_instant_field(p, field_name).timestamp() * 1000) for p in parts)
    if end <= start:
        raise ApiError(400, f"Invalid {field_name}: end must be after start", fields=[field_name])
    return start, end


_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def parse_granularity(text: str) -> tuple[int, int]:
    """ISO duration → (days, milliseconds); must be a positive multiple of 15 minutes."""
    match = _DURATION.match(text or "")
    if not match or not any(match.groups()) or text.endswith("T"):
        raise ApiError(400, f"Invalid granularity: {text!r}", fields=["granularity"])
    weeks, days, hours, minutes = (int(g or 0) for g in match.groups())
    ms = (hours * 60 + minutes) * 60_000
    if ms % BUCKET_MS or (ms == 0 and weeks == 0 and days == 0):
        raise ApiError(400, "granularity must be a multiple of PT15M", fields=["granularity"])
    return weeks * 7 + days, ms


def parse_time_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ApiError(400, f"Invalid timeZone: {name!r}", fields=["timeZone"]) from exc


def iso_utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def days_between(start_ms: int, end_ms: int) -> list[date]:
    """The UTC days touched by [start, end)."""
    first = datetime.fromtimestamp(start_ms / 1000, UTC).date()
    last = datetime.fromtimestamp((end_ms - 1) / 1000, UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def boundaries(start: int, end: int, granularity: str | None, zone: ZoneInfo) -> np.ndarray:
    """Granularity bucket edges (ms) from the interval start, stepped in local time, ending at ``end``."""
    if not granularity:
        return np.array([start, end], np.int64)
    days, ms = parse_granularity(granularity)
    edges = [start]
    local = datetime.fromtimestamp(start / 1000, UTC).astimezone(zone)
    step = 1
    while edges[-1] < end:
        if days:  # calendar steps in the query's time zone (a P1D across DST is 23 or 25 hours)
            nxt = (local.replace(tzinfo=None) + timedelta(days=days * step, milliseconds=ms * step)).replace(tzinfo=zone)
            edge = int(nxt.astimezone(UTC).timestamp() * 1000)
        else:
            edge = start + ms * step
        edges.append(min(edge, end))
        step += 1
        if len(edges) > 20_000:
            raise ApiError(400, "Too many intervals for the granularity", fields=["granularity"])
    return np.array(edges, np.int64)
