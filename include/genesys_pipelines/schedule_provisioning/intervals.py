"""Schedule intervals: the API's string form, daily delivery windows and recurrences as UTC intervals.

Every interval is half-open ``[start, end)`` in UTC, the way the Genesys API writes schedule intervals
(``yyyy-MM-ddTHH:mm:ss.SSSZ``, end exclusive). Local wall-clock times are turned into instants with
:mod:`zoneinfo`, so a window keeps its local hours across daylight-saving changes:

- a local time that does not exist (spring-forward gap, e.g. 02:30 in New York on the change day) is
  the moment the clocks jump (03:00 EDT), so a window lying wholly inside the gap is empty (skipped);
- a local time that happens twice (fall-back) is its first occurrence (``fold=0``).

Both rules keep the wall-clock → instant mapping monotonic, which is what guarantees that windows
that do not overlap on the wall clock never overlap as instants either (shifting a gap time forward
by the gap, as ``fold=0`` alone would, breaks that: a 03:00–02:01 night shift would overlap the next).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DAY_NAMES",
    "Interval",
    "expand_daily_window",
    "format_api_datetime",
    "local_instant",
    "parse_api_datetime",
    "parse_local_datetime",
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
        return cls(parse_api_datetime(item["start"], tz_name), parse_api_datetime(item["end"], tz_name))


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
            start = local_instant(day, start_time, tz)
            end = local_instant(end_day, end_time, tz)
            # A window lying wholly inside a spring-forward gap (02:30-03:00 in New York) does not
            # exist that day: both ends map to the end of the gap, so it is skipped.
            if end > start:
                out.append(Interval(start, end))
        day += timedelta(days=1)
    return out
