"""Expand the API's ``Reoccurrence`` objects into UTC intervals over a finite horizon.

Reading of the SDK's ``Reoccurrence`` (genesys-api.md §3d):

- ``start``/``end`` are local ``YYYY-MM-DDThh:mm:ss`` and give the first occurrence; later ones keep the
  same wall-clock times (and the same number of days between start and end).
- zone = the recurrence's ``timeZone``, else the schedule's, else UTC.
- ``pattern``: ``Daily`` every ``interval`` days, or ``Weekly`` every ``interval`` weeks on
  ``daysOfWeek`` (names, weeks counted Monday-first from the first occurrence's week).
- ``range``: ``NoEnd``, ``EndDate`` (occurrences starting on or before the local ``end``) or
  ``Numbered`` (``numberOfOccurrences``).
- ``alterations``: an ``Exclusion`` drops the occurrences that overlap it; an ``Inclusion`` adds its own
  window and beats any exclusion.

Overlap checks need finite lists, so occurrences are generated only while they start before the
horizon's end (and kept when they end after its start).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from genesys_pipelines.models.outbound import Reoccurrence
from genesys_pipelines.schedule_provisioning.intervals import (
    DAY_NAMES,
    Interval,
    local_instant,
    parse_local_datetime,
    zone,
)

__all__ = ["MAX_OCCURRENCES", "expand_recurrence", "validate_recurrence"]

# A guard against runaway loops (a daily recurrence over ten years is ~3,650 occurrences).
MAX_OCCURRENCES = 20_000


def validate_recurrence(rec: Reoccurrence) -> None:
    """Raise ``ValueError`` with the field's name when a recurrence cannot be expanded."""
    if not rec.start or not rec.end:
        raise ValueError("start and end are required (local YYYY-MM-DDThh:mm:ss)")
    first_start, first_end = parse_local_datetime(rec.start), parse_local_datetime(rec.end)
    if first_end <= first_start:
        raise ValueError("end must be after start")
    if rec.time_zone:
        zone(rec.time_zone)
    if rec.pattern is None or rec.pattern.type is None:
        raise ValueError("pattern.type is required (Daily|Weekly)")
    if (rec.pattern.interval or 1) < 1:
        raise ValueError("pattern.interval must be >= 1")
    if rec.pattern.type == "Weekly":
        days = rec.pattern.days_of_week or []
        if not days:
            raise ValueError("pattern.daysOfWeek is required for a Weekly pattern")
        unknown = [d for d in days if d not in DAY_NAMES]
        if unknown:
            raise ValueError(f"pattern.daysOfWeek: unknown day names {unknown}")
    rng = rec.range
    if rng is not None and rng.type == "EndDate" and not rng.end:
        raise ValueError("range.end is required for an EndDate range")
    if rng is not None and rng.type == "EndDate" and rng.end:
        parse_local_datetime(rng.end if "T" in rng.end else rng.end + "T23:59:59")
    if rng is not None and rng.type == "Numbered" and (rng.number_of_occurrences or 0) < 1:
        raise ValueError("range.numberOfOccurrences must be >= 1 for a Numbered range")
    for alteration in rec.alterations or []:
        if not alteration.start or not alteration.end:
            raise ValueError("alterations need start and end")
        if parse_local_datetime(alteration.end) <= parse_local_datetime(alteration.start):
            raise ValueError("alteration end must be after start")


def expand_recurrence(rec: Reoccurrence, schedule_tz: str | None, horizon: Interval) -> list[Interval]:
    """The recurrence's occurrences that touch ``horizon``, sorted, as UTC intervals."""
    validate_recurrence(rec)
    assert rec.start and rec.end and rec.pattern  # checked above; narrows types
    tz = zone(rec.time_zone or schedule_tz or "UTC")
    first_start = parse_local_datetime(rec.start)
    first_end = parse_local_datetime(rec.end)
    day_span = (first_end.date() - first_start.date()).days
    step = rec.pattern.interval or 1
    rng = rec.range
    last_day = None
    limit = MAX_OCCURRENCES
    if rng is not None and rng.type == "EndDate" and rng.end:
        last_day = parse_local_datetime(rng.end if "T" in rng.end else rng.end + "T00:00:00").date()
    if rng is not None and rng.type == "Numbered":
        limit = min(limit, rng.number_of_occurrences or 0)

    if rec.pattern.type == "Weekly":
        weekdays = {DAY_NAMES.index(d) for d in rec.pattern.days_of_week or []}
        week0 = first_start.date() - timedelta(days=first_start.weekday())

        def starts_on(day: datetime) -> bool:
            weeks = (day.date() - week0).days // 7
            return day.weekday() in weekdays and weeks % step == 0
    else:

        def starts_on(day: datetime) -> bool:
            return (day.date() - first_start.date()).days % step == 0

    occurrences: list[Interval] = []
    count = 0
    day = first_start
    while count < limit:
        if last_day is not None and day.date() > last_day:
            break
        if starts_on(day):
            start = local_instant(day.date(), first_start.time(), tz)
            if start >= horizon.end:
                break
            end = local_instant(day.date() + timedelta(days=day_span), first_end.time(), tz)
            count += 1
            if end > start and end > horizon.start:
                occurrences.append(Interval(start, end))
        day += timedelta(days=1)

    excluded: list[Interval] = []
    included: list[Interval] = []
    for alteration in rec.alterations or []:
        assert alteration.start and alteration.end
        lo, hi = parse_local_datetime(alteration.start), parse_local_datetime(alteration.end)
        window = Interval(local_instant(lo.date(), lo.time(), tz), local_instant(hi.date(), hi.time(), tz))
        (included if alteration.type == "Inclusion" else excluded).append(window)
    kept = [o for o in occurrences if not any(o.overlaps(x) for x in excluded)]
    kept.extend(w for w in included if w.overlaps(horizon) and w not in kept)
    return sorted(kept)
