"""Schedule intervals: the API's string form, daily delivery windows and recurrences as UTC intervals.

Inside the pipeline every interval is half-open ``[start, end)`` on true instants (UTC): overlap
detection, merge, the ``before ⊆ after`` invariant and the audit all compare instants. On the wire a
schedule's ``intervals[].start/end`` are **wall-clock times in the schedule's ``timeZone``**; the two
functions :func:`schedule_wall_clock` (read) and :func:`to_schedule_wall_clock` (write) are the only
place that interpretation lives (see their comment for the evidence).

DST, for the wall-clock strings and for delivery windows (refusals raise ``WallClockError`` naming
the time and the zone):

- a wall-clock time that does not exist (spring-forward gap, e.g. 02:30 in New York on 2026-03-08) is
  refused: a window cannot start or end at an hour the clocks skip;
- a wall-clock time that happens twice (fall-back, e.g. 01:30 in New York on 2026-11-01) is read as
  its **first** occurrence (``fold=0``); an instant in the *second* occurrence cannot be written as a
  wall-clock string (it would be read back one hour earlier), so writing one is refused.

Recurrence expansion (overlap checks only; recurrences are sent to the API as given) still maps a gap
time to the moment the clocks jump:

Both rules keep the wall-clock → instant mapping monotonic, which is what guarantees that windows
that do not overlap on the wall clock never overlap as instants either (shifting a gap time forward
by the gap, as ``fold=0`` alone would, breaks that: a 03:00–02:01 night shift would overlap the next).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DAY_NAMES",
    "Interval",
    "WallClockError",
    "expand_daily_window",
    "format_api_datetime",
    "local_instant",
    "parse_api_datetime",
    "parse_local_datetime",
    "schedule_wall_clock",
    "to_schedule_wall_clock",
    "zone",
]

# Genesys writes days of week as English names (Reoccurrence.pattern.daysOfWeek); index = date.weekday().
DAY_NAMES: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises ``ValueError`` naming it when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc


def format_api_datetime(value: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ss.SSSZ`` in UTC, as the API writes schedule intervals."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_api_datetime(text: str, tz_name: str | None = None) -> datetime:
    """An API datetime string as an aware UTC datetime.

    Strings without an offset (the API's open point: intervals may come back without ``Z``) are read
    in the schedule's ``timeZone`` (UTC when empty, as the API documents).
    """
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz_name or "UTC"))
    return _to_ms(value.astimezone(UTC))


class WallClockError(ValueError):
    """A wall-clock time that does not exist (DST gap) or cannot be written unambiguously (DST fold)."""


def _wall_exists(naive: datetime, tz: ZoneInfo) -> bool:
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


# -- THE interpretation of schedule interval strings --------------------------------------------------
# Evidence (docs/genesys-api.md §8, settled point 4): the SDK's CampaignSchedule model describes
# ``timeZone`` as the "time zone identifier to be applied to the intervals", and Genesys' help article
# on the outbound schedule view says schedule entries are entered from the local-time perspective of
# someone in the schedule's zone. So the digits of ``intervals[].start/end`` are wall-clock time in
# ``timeZone`` (UTC when empty), whatever suffix (``Z``, an offset, none) the string carries. A live org
# that proves otherwise is a one-line change here (read: honour the offset; write: format_api_datetime).
def schedule_wall_clock(text: str, tz_name: str | None) -> datetime:
    """The instant (UTC) of an interval string read as wall-clock in the schedule's ``timeZone``.

    Any suffix is ignored; a time in a spring-forward gap raises :class:`WallClockError`; a repeated
    (fall-back) time is its first occurrence.
    """
    if not isinstance(text, str) or not text:
        raise ValueError(f"interval time {text!r} is not a date-time string")
    naive = datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None, fold=0)
    tz = zone(tz_name or "UTC")
    if not _wall_exists(naive, tz):
        raise WallClockError(f"{naive.isoformat()} does not exist in {tz.key} (the clocks skip it: DST gap)")
    return _to_ms(naive.replace(tzinfo=tz).astimezone(UTC))


def to_schedule_wall_clock(instant: datetime, tz_name: str | None) -> str:
    """``instant`` as the wall-clock string the API stores in a schedule of zone ``tz_name``
    (``yyyy-MM-ddTHH:mm:ss.SSS``, no suffix: it is not UTC, and a reader honouring offsets then either
    reads it as local or rejects it, never shifts it silently)."""
    tz = zone(tz_name or "UTC")
    wall = instant.astimezone(tz)
    if _to_ms(wall.replace(tzinfo=None, fold=0).replace(tzinfo=tz).astimezone(UTC)) != _to_ms(instant.astimezone(UTC)):
        raise WallClockError(
            f"{instant.astimezone(UTC).isoformat()} is the second {wall.replace(tzinfo=None).isoformat()} in "
            f"{tz.key} (DST fold): a schedule's wall-clock time means the first one; give that instant instead"
        )
    return wall.strftime("%Y-%m-%dT%H:%M:%S.") + f"{wall.microsecond // 1000:03d}"


def parse_local_datetime(text: str) -> datetime:
    """A naive local ``YYYY-MM-DDThh:mm:ss`` (Reoccurrence start/end, alterations, range end)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        raise ValueError(f"{text!r} must be a local time without offset (YYYY-MM-DDThh:mm:ss)")
    return value


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``wall`` on ``day`` in ``tz`` (gap → its end, repeated → first)."""
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=tz).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    return _gap_end(naive, tz)


def _gap_end(naive: datetime, tz: ZoneInfo) -> datetime:
    """The instant a spring-forward gap containing the non-existent ``naive`` ends (clocks jump)."""
    # fold=1 reads the wall time with the offset after the change (earlier instant), fold=0 with the
    # offset before it (later instant): the change lies between. Bisect on whole seconds.
    lo = int(naive.replace(tzinfo=tz, fold=1).timestamp())
    hi = int(naive.replace(tzinfo=tz, fold=0).timestamp())
    after = datetime.fromtimestamp(hi, tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _to_ms(value: datetime) -> datetime:
    # The API keeps milliseconds; truncating here makes a round trip through the API compare equal.
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open UTC interval ``[start, end)``; touching intervals do not overlap."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("interval bounds must be timezone-aware")
        object.__setattr__(self, "start", _to_ms(self.start.astimezone(UTC)))
        object.__setattr__(self, "end", _to_ms(self.end.astimezone(UTC)))
        if self.end <= self.start:
            raise ValueError(
                f"interval end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def intersection(self, other: Interval) -> Interval:
        return Interval(max(self.start, other.start), min(self.end, other.end))

    def to_api(self) -> dict[str, str]:
        return {"start": format_api_datetime(self.start), "end": format_api_datetime(self.end)}

    @classmethod
    def from_api(cls, item: dict[str, str], tz_name: str | None = None) -> Interval:
        """From UTC strings (audit rows, conflicts), not from a schedule: see :meth:`from_schedule`."""
        return cls(parse_api_datetime(item["start"], tz_name), parse_api_datetime(item["end"], tz_name))

    def to_schedule(self, tz_name: str | None) -> dict[str, str]:
        """As a schedule interval of zone ``tz_name`` (wall-clock strings: :func:`to_schedule_wall_clock`)."""
        return {"start": to_schedule_wall_clock(self.start, tz_name), "end": to_schedule_wall_clock(self.end, tz_name)}

    @classmethod
    def from_schedule(cls, item: Any, tz_name: str | None) -> Interval:
        """A schedule interval read as wall-clock in ``tz_name``; malformed ones raise ``ValueError``."""
        if not isinstance(item, dict):
            raise ValueError(f"interval {item!r} is not an object with start and end")
        return cls(schedule_wall_clock(item.get("start"), tz_name), schedule_wall_clock(item.get("end"), tz_name))


def expand_daily_window(
    start_time: time,
    end_time: time,
    tz_name: str,
    first_day: date,
    last_day: date,
    days_of_week: frozenset[int] | None = None,
) -> list[Interval]:
    """One interval per local day in ``[first_day, last_day]`` from ``start_time`` to ``end_time``.

    ``end_time <= start_time`` means the window crosses midnight and ends on the next local day (it
    still belongs to the day it starts on, so ``last_day`` is the last *start* day). ``days_of_week``
    (``date.weekday()`` numbers) keeps only windows starting on those days. Durations follow the wall
    clock, so a 09:00–17:00 window is 8 h every day, and a 22:00–06:00 window is 7 h or 9 h on the
    nights the clocks change (in zones that change at 02:00).
    """
    tz = zone(tz_name)
    crosses_midnight = end_time <= start_time
    out: list[Interval] = []
    day = first_day
    while day <= last_day:
        if days_of_week is None or day.weekday() in days_of_week:
            end_day = day + timedelta(days=1) if crosses_midnight else day
            for when, wall in ((day, start_time), (end_day, end_time)):
                if not _wall_exists(datetime.combine(when, wall), tz):
                    raise WallClockError(
                        f"the window {start_time.isoformat()}-{end_time.isoformat()} of {day.isoformat()} "
                        f"{'starts' if wall is start_time else 'ends'} at {when.isoformat()} {wall.isoformat()}, "
                        f"which does not exist in {tz_name} (the clocks skip it: DST gap)"
                    )
            out.append(Interval(local_instant(day, start_time, tz), local_instant(end_day, end_time, tz)))
        day += timedelta(days=1)
    return out
